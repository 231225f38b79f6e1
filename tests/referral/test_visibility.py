"""Who sees which referrals: lists, totalCount, lookups by id, and what hangs off them."""

from __future__ import annotations

import pytest

from tests.conftest import error_codes, graphql, home, new_id

SUBMIT = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"""
LIST = """query($filter: ReferralFilter, $first: Int, $after: String) {
  referrals(filter: $filter, first: $first, after: $after) {
    totalCount edges { cursor node { id title agency { name } } } pageInfo { hasNextPage endCursor } } }"""
ONE = "query($id: ID!) { referral(id: $id) { id title } }"


def point_input(title: str, domain: str = "ECOLOGY_RESOURCES") -> dict:
    return {"domain": domain, "title": title, "facts": "事实。",
            "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}


@pytest.fixture
async def referrals(client, world) -> dict[str, str]:
    """Two referrals of agency A, one of B (district 1), one of C (district 2)."""
    ids = {}
    for title, user in (("A1", "liaison-a"), ("A2", "liaison-a"), ("B1", "liaison-b"), ("C1", "liaison-c")):
        body = await graphql(client, SUBMIT, {"input": {**point_input(title), "geometry": home(user)}},
                             world.tokens[user])
        ids[title] = body["data"]["submitReferral"]["id"]
    return ids


VISIBLE = {
    "liaison-a": {"A1", "A2"},
    "liaison-b": {"B1"},
    "liaison-c": {"C1"},
    "prosecutor-1": {"A1", "A2", "B1"},
    "prosecutor-2": {"C1"},
    "prosecutor-city": {"A1", "A2", "B1", "C1"},
    "assessor-1": {"A1", "A2", "B1"},
    "admin": {"A1", "A2", "B1", "C1"},
}


@pytest.mark.parametrize("user", sorted(VISIBLE))
async def test_each_role_sees_its_referrals_in_lists_counts_and_lookups(client, world, referrals, user):
    token = world.tokens[user]
    body = await graphql(client, LIST, {"first": 50}, token)
    titles = {edge["node"]["title"] for edge in body["data"]["referrals"]["edges"]}
    assert titles == VISIBLE[user]
    assert body["data"]["referrals"]["totalCount"] == len(VISIBLE[user])
    for title, referral_id in referrals.items():
        one = await graphql(client, ONE, {"id": referral_id}, token)
        if title in VISIBLE[user]:
            assert one["data"]["referral"]["title"] == title
        else:
            # Exactly what a referral that does not exist gets: nothing tells the two apart.
            missing = await graphql(client, ONE, {"id": new_id()}, token)
            assert error_codes(one) == ["NOT_FOUND"]
            assert one["errors"][0]["message"] == missing["errors"][0]["message"]
            assert referral_id not in str(one)


async def test_filters_cannot_widen_the_scope(client, world, referrals):
    body = await graphql(client, LIST, {"filter": {"agencyId": world.ids["agency:B"]}}, world.tokens["liaison-a"])
    assert body["data"]["referrals"]["totalCount"] == 0
    body = await graphql(client, LIST, {"filter": {"jurisdictionCode": "410102"}}, world.tokens["prosecutor-1"])
    assert body["data"]["referrals"]["totalCount"] == 0
    body = await graphql(client, LIST, {"filter": {"jurisdictionCode": "410102"}}, world.tokens["prosecutor-city"])
    assert {edge["node"]["title"] for edge in body["data"]["referrals"]["edges"]} == {"C1"}


async def test_filter_by_status_domain_and_agency(client, world, referrals):
    await graphql(client, SUBMIT, {"input": point_input("F1", domain="FOOD_DRUG_SAFETY")}, world.tokens["liaison-a"])
    token = world.tokens["prosecutor-1"]
    by_domain = await graphql(client, LIST, {"filter": {"domain": ["FOOD_DRUG_SAFETY"]}}, token)
    assert [edge["node"]["title"] for edge in by_domain["data"]["referrals"]["edges"]] == ["F1"]
    by_agency = await graphql(client, LIST, {"filter": {"agencyId": world.ids["agency:B"]}}, token)
    assert [edge["node"]["title"] for edge in by_agency["data"]["referrals"]["edges"]] == ["B1"]
    by_status = await graphql(client, LIST, {"filter": {"status": ["REGISTERED"]}}, token)
    assert by_status["data"]["referrals"]["totalCount"] == 0


async def test_pages_walk_every_visible_referral_once(client, world, referrals):
    token = world.tokens["prosecutor-city"]
    seen, after = [], None
    while True:
        body = await graphql(client, LIST, {"first": 1, "after": after}, token)
        connection = body["data"]["referrals"]
        assert connection["totalCount"] == 4
        seen += [edge["node"]["title"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert sorted(seen) == ["A1", "A2", "B1", "C1"]
    assert seen[0] == "C1"  # newest first


async def test_page_size_is_bounded(client, world, settings):
    body = await graphql(client, LIST, {"first": settings.api.max_page_size + 1}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "first"
    body = await graphql(client, LIST, {"after": "not-a-cursor"}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "after"


AGENCIES = "query($code: String) { agencies(jurisdictionCode: $code) { name } }"
AGENCY = "query($id: ID!) { agency(id: $id) { name } }"
AGENCIES_VISIBLE = {
    "liaison-a": {"机关A"}, "liaison-b": {"机关B"}, "liaison-c": {"机关C"},
    "prosecutor-1": {"机关A", "机关B"}, "prosecutor-2": {"机关C"},
    "prosecutor-city": {"机关A", "机关B", "机关C"}, "assessor-1": {"机关A", "机关B"},
    "admin": {"机关A", "机关B", "机关C"},
}


@pytest.mark.parametrize("user", sorted(AGENCIES_VISIBLE))
async def test_each_role_sees_its_agencies(client, world, user):
    token = world.tokens[user]
    body = await graphql(client, AGENCIES, {}, token)
    assert {row["name"] for row in body["data"]["agencies"]} == AGENCIES_VISIBLE[user]
    for name in ("A", "B", "C"):
        one = await graphql(client, AGENCY, {"id": world.ids[f"agency:{name}"]}, token)
        if f"机关{name}" in AGENCIES_VISIBLE[user]:
            assert one["data"]["agency"]["name"] == f"机关{name}"
        else:
            assert error_codes(one) == ["NOT_FOUND"]


async def test_agencies_by_jurisdiction(client, world):
    body = await graphql(client, AGENCIES, {"code": "410102"}, world.tokens["admin"])
    assert [row["name"] for row in body["data"]["agencies"]] == ["机关C"]


async def test_submission_dates_are_beijing_dates(client, world, referrals, resources):
    from sqlalchemy import text

    # Submitted at 23:30 UTC on 2026-03-01, which is 07:30 on 2026-03-02 in Beijing.
    async with resources.session_factory() as session:
        await session.execute(text("UPDATE referral SET submitted_at = '2026-03-01 23:30:00+00' WHERE id = :id"),
                              {"id": referrals["A1"]})
        await session.commit()
    token = world.tokens["liaison-a"]
    on_second = await graphql(client, LIST, {"filter": {"submittedFrom": "2026-03-02", "submittedTo": "2026-03-02"}},
                              token)
    assert [edge["node"]["title"] for edge in on_second["data"]["referrals"]["edges"]] == ["A1"]
    on_first = await graphql(client, LIST, {"filter": {"submittedFrom": "2026-03-01", "submittedTo": "2026-03-01"}},
                             token)
    assert on_first["data"]["referrals"]["totalCount"] == 0


@pytest.mark.parametrize("filter, field", [({"submittedFrom": "0001-01-01"}, "submittedFrom"),
                                           ({"submittedTo": "9999-12-31"}, "submittedTo")])
async def test_dates_far_outside_any_real_range_are_refused(client, world, filter, field):
    body = await graphql(client, LIST, {"filter": filter}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field

"""The cases list: every order pages correctly, filters by domain and party, within the caller's scope."""

from __future__ import annotations

from datetime import date

import pytest

from core import clock
from tests.cases.helpers import new_case, today_is
from tests.cases.test_own_clue import CLUE, ENTERPRISE, OPEN, PERSON
from tests.conftest import error_codes, graphql
from tests.referral.test_return_and_decline import POINT, REGISTER

PAGE = """query($filter: CaseFilter, $first: Int, $after: String, $orderBy: CaseOrder!) {
  cases(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id number } } } }"""


async def every_page(client, token: str, order: str, size: int, filter: dict | None = None) -> list[str]:
    numbers, after = [], None
    while True:
        body = await graphql(client, PAGE, {"first": size, "after": after, "orderBy": order, "filter": filter}, token)
        assert "errors" not in body, body
        connection = body["data"]["cases"]
        numbers += [edge["node"]["number"] for edge in connection["edges"]]
        assert len(connection["edges"]) <= size
        if not connection["pageInfo"]["hasNextPage"]:
            return numbers
        after = connection["pageInfo"]["endCursor"]


async def test_every_order_pages_through_all_cases_once(client, world, monkeypatch):
    for _ in range(11):
        await new_case(client, world)
    with today_is(monkeypatch, date(2025, 12, 30)):  # entered last, numbered in the year before
        await new_case(client, world)
    year = clock.today().year
    this_year = [f"一检公益立〔{year}〕{serial}号" for serial in range(1, 12)]
    last_year = "一检公益立〔2025〕1号"
    expected = {
        "FILED_AT_ASC": [*this_year, last_year],
        "FILED_AT_DESC": [last_year, *this_year[::-1]],
        # By year and serial: 〔2026〕2号 before 〔2026〕10号, which the text alone would not give.
        "NUMBER_ASC": [last_year, *this_year],
        "NUMBER_DESC": [*this_year[::-1], last_year],
    }
    token = world.tokens["prosecutor-city"]
    for order, numbers in expected.items():
        for size in (1, 5, 12, 100):
            assert await every_page(client, token, order, size) == numbers, (order, size)
    # The default is newest first.
    body = await graphql(client, "{ cases { edges { node { number } } } }", {}, token)
    assert [edge["node"]["number"] for edge in body["data"]["cases"]["edges"]] == expected["FILED_AT_DESC"]


async def test_a_cursor_of_another_order_is_refused(client, world):
    await new_case(client, world)
    token = world.tokens["prosecutor-1"]
    cursor = (await graphql(client, PAGE, {"first": 1, "orderBy": "FILED_AT_DESC"}, token))["data"]["cases"][
        "edges"][0]["cursor"]
    body = await graphql(client, PAGE, {"first": 1, "after": cursor, "orderBy": "NUMBER_ASC"}, token)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "after"


async def referral_case(client, world, parties: list[dict], domain: str = "STATE_PROPERTY") -> str:
    submit = "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"
    body = await graphql(client, submit, {"input": {"domain": domain, "title": "线索", "facts": "事实",
                                                    "geometry": POINT, "parties": parties}}, world.tokens["liaison-a"])
    referral_id = body["data"]["submitReferral"]["id"]
    assert "errors" not in await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    body = await graphql(client, """mutation($id: ID!) { fileCase(referralId: $id, input: {kind: CIVIL}) { number } }""",
                         {"id": referral_id}, world.tokens["prosecutor-1"])
    return body["data"]["fileCase"]["number"]


@pytest.fixture
async def parties_world(client, world):
    """Cases of district 1: two from agency A's referrals (one against the enterprise, one against
    the person), one from the procuratorate's own clue against both."""
    against_enterprise = await referral_case(client, world, [{"kind": "ENTERPRISE", "name": "平顶山某矿业有限公司",
                                                              "uscc": ENTERPRISE}])
    against_person = await referral_case(client, world, [{"kind": "PERSON", "name": "某甲", "idNumber": PERSON}],
                                         domain="FOOD_DRUG_SAFETY")
    own_clue = (await graphql(client, OPEN, {"input": CLUE}, world.tokens["prosecutor-1"]))["data"]["openCase"]["number"]
    return against_enterprise, against_person, own_clue


async def test_cases_against_a_party_within_each_scope(client, world, parties_world):
    against_enterprise, against_person, own_clue = parties_world

    async def found(user: str, filter: dict) -> list[str]:
        return await every_page(client, world.tokens[user], "NUMBER_ASC", 10, filter)

    for user in ("prosecutor-1", "prosecutor-city", "admin", "assessor-1"):
        assert await found(user, {"party": {"uscc": ENTERPRISE}}) == [against_enterprise, own_clue], user
        assert await found(user, {"party": {"idNumber": PERSON.lower()}}) == [against_person, own_clue], user
        assert await found(user, {"party": {"name": "平顶山某矿"}}) == [against_enterprise], user
        assert await found(user, {"party": {"name": "某"}}) == [against_person, own_clue], user  # a prefix
        assert await found(user, {"party": {"name": "某甲", "idNumber": PERSON}}) == [against_person, own_clue], user
    # The referring agency finds its own cases, never the procuratorate's own clue.
    assert await found("liaison-a", {"party": {"uscc": ENTERPRISE}}) == [against_enterprise]
    assert await found("liaison-a", {"party": {"idNumber": PERSON}}) == [against_person]
    for user in ("liaison-b", "liaison-c", "prosecutor-2"):
        assert await found(user, {"party": {"uscc": ENTERPRISE}}) == [], user
    body = await graphql(client, PAGE, {"orderBy": "NUMBER_ASC", "filter": {"party": {"idNumber": PERSON[:-1] + "0"}}},
                         world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "party.idNumber"
    assert PERSON[:-1] not in str(body)


async def test_filters_by_domain_kind_status_agency_and_dates(client, world, parties_world):
    against_enterprise, against_person, own_clue = parties_world

    async def found(filter: dict) -> list[str]:
        return await every_page(client, world.tokens["prosecutor-city"], "NUMBER_ASC", 10, filter)

    assert await found({"domain": ["STATE_PROPERTY"]}) == [against_enterprise]
    assert await found({"domain": ["FOOD_DRUG_SAFETY", "ECOLOGY_RESOURCES"]}) == [against_person, own_clue]
    assert await found({"kind": ["ADMINISTRATIVE"]}) == [own_clue]
    assert await found({"kind": ["CIVIL"], "domain": ["STATE_PROPERTY"], "status": ["FILED"]}) == [against_enterprise]
    assert await found({"status": ["CLOSED"]}) == []
    assert await found({"agencyId": world.ids["agency:A"]}) == [against_enterprise, against_person]
    assert await found({"jurisdictionCode": "410101"}) == [against_enterprise, against_person, own_clue]
    assert await found({"jurisdictionCode": "410102"}) == []
    assert await found({"filedTo": "2020-01-01"}) == []
    body = await graphql(client, PAGE, {"orderBy": "NUMBER_ASC", "filter": {"domain": ["ECOLOGY_RESOURCES"]}},
                         world.tokens["prosecutor-city"])
    assert body["data"]["cases"]["totalCount"] == 1

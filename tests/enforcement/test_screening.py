"""Who sees which enforcement cases (lists, by id, counts, identity numbers) and the screening
filters prosecutors use: domain, kind, agency, jurisdiction, decision dates, amount, party."""

from __future__ import annotations

import pytest

from tests.conftest import error_codes, graphql
from tests.enforcement.helpers import LIST, ONE, PERSON, listed, recorded

MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]


async def entered(client, world, monkeypatch) -> dict[str, str]:
    """A case of agency A and one of B (district 410101), one of C (district 410102)."""
    ids = {}
    for user, number, domain, kind, amount in (
            ("liaison-a", "A-1", "ECOLOGY_RESOURCES", "PENALTY", "50000.00"),
            ("liaison-b", "B-1", "FOOD_DRUG_SAFETY", "INSPECTION", None),
            ("liaison-c", "C-1", "ECOLOGY_RESOURCES", "PENALTY", "800.00")):
        case = await recorded(client, world, monkeypatch, user, caseNumber=number, domain=domain, kind=kind,
                              amount=amount)
        ids[number] = case["id"]
    return ids


@pytest.mark.parametrize(("user", "visible"), [
    ("liaison-a", {"A-1"}), ("liaison-b", {"B-1"}), ("liaison-c", {"C-1"}),
    ("prosecutor-1", {"A-1", "B-1"}), ("prosecutor-2", {"C-1"}), ("prosecutor-city", {"A-1", "B-1", "C-1"}),
    ("assessor-1", {"A-1", "B-1"}), ("admin", {"A-1", "B-1", "C-1"}),
])
async def test_each_role_sees_its_scope_in_lists_counts_and_by_id(client, world, monkeypatch, user, visible):
    ids = await entered(client, world, monkeypatch)
    page = await listed(client, world, user)
    assert {edge["node"]["caseNumber"] for edge in page["edges"]} == visible
    assert page["totalCount"] == len(visible)
    for number, case_id in ids.items():
        body = await graphql(client, ONE, {"id": case_id}, world.tokens[user])
        if number in visible:
            assert body["data"]["enforcementCase"]["caseNumber"] == number
        else:
            assert error_codes(body) == ["NOT_FOUND"], (user, number)
    # Asking for another agency's records by filter narrows the scope, never widens it.
    other = await listed(client, world, user, {"agencyId": world.ids["agency:C"]})
    assert other["totalCount"] == (1 if "C-1" in visible else 0)


@pytest.mark.parametrize(("user", "shown"), [
    ("prosecutor-1", PERSON), ("prosecutor-city", MASKED), ("liaison-a", MASKED), ("assessor-1", MASKED),
    ("admin", MASKED),
])
async def test_identity_numbers_in_full_only_for_the_records_own_prosecutors(client, world, monkeypatch, user,
                                                                            shown):
    await entered(client, world, monkeypatch)
    page = await listed(client, world, user, {"agencyId": world.ids["agency:A"]})
    assert page["edges"][0]["node"]["parties"][1] == {"name": "甲某", "idNumber": shown}


async def test_prosecutors_screen_by_domain_kind_amount_dates_party_and_place(client, world, monkeypatch):
    await entered(client, world, monkeypatch)

    async def numbers(filter: dict) -> set[str]:
        page = await listed(client, world, "prosecutor-city", filter)
        return {edge["node"]["caseNumber"] for edge in page["edges"]}

    assert await numbers({"domain": ["ECOLOGY_RESOURCES"]}) == {"A-1", "C-1"}
    assert await numbers({"kind": ["INSPECTION"]}) == {"B-1"}
    assert await numbers({"amountMin": "1000"}) == {"A-1"}
    assert await numbers({"amountMin": "500", "amountMax": "1000"}) == {"C-1"}
    assert await numbers({"decidedFrom": "2025-09-30", "decidedTo": "2025-09-30"}) == {"A-1", "B-1", "C-1"}
    assert await numbers({"decidedFrom": "2025-10-01"}) == set()
    assert await numbers({"jurisdictionCode": "410102"}) == {"C-1"}
    assert await numbers({"agencyId": world.ids["agency:B"]}) == {"B-1"}
    assert await numbers({"party": {"idNumber": PERSON.lower()}}) == {"A-1", "B-1", "C-1"}
    assert await numbers({"party": {"name": "示例"}, "domain": ["FOOD_DRUG_SAFETY"]}) == {"B-1"}
    assert await numbers({"party": {"name": "不存在"}}) == set()
    assert await numbers({"enteredOnTime": True}) == {"A-1", "B-1", "C-1"}
    assert await numbers({"referred": True}) == set()


async def test_pages_follow_one_another_without_overlap(client, world, monkeypatch):
    for serial in range(5):
        await recorded(client, world, monkeypatch, caseNumber=f"A-{serial}")
    first = await listed(client, world, "liaison-a", first=3)
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == 5
    body = await graphql(client, LIST, {"first": 3, "after": first["pageInfo"]["endCursor"]},
                         world.tokens["liaison-a"])
    second = body["data"]["enforcementCases"]
    numbers = [edge["node"]["caseNumber"] for edge in first["edges"] + second["edges"]]
    assert sorted(numbers) == [f"A-{serial}" for serial in range(5)]

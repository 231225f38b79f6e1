"""Filing a case (立案) from a registered referral, and who sees the cases."""

from __future__ import annotations

from datetime import date

import pytest

from core import clock
from tests.cases.test_consultation import MEETING, START, meeting
from tests.cases.test_hearings import PLAN, SCHEDULE
from tests.cases.test_notes import ADD
from tests.conftest import error_codes, graphql
from tests.referral.test_list_cost import recorded_statements
from tests.referral.test_return_and_decline import REGISTER, in_status, submitted

FILE_CASE = """mutation($referralId: ID!, $input: FileCaseInput!) {
  fileCase(referralId: $referralId, input: $input) {
    id number kind status filedOn decisionServedOn referralId
    history { action fromStatus toStatus actorName } } }"""
REFERRAL = """query($id: ID!) { referral(id: $id) {
  status case { number status kind } history { action fromStatus toStatus actorName } } }"""
CASES = """query($filter: CaseFilter, $first: Int, $after: String) {
  cases(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id number kind status } } } }"""
CASE = "query($id: ID!) { case(id: $id) { number kind status agency { name } jurisdiction { code } } }"


def case_number(code: str, serial: int) -> str:
    return f"{code}公益立〔{clock.today().year}〕{serial}号"


async def file_case(client, world, referral_id: str, user: str = "prosecutor-1", kind: str = "ADMINISTRATIVE",
                    **fields) -> dict:
    return await graphql(client, FILE_CASE, {"referralId": referral_id, "input": {"kind": kind, **fields}},
                         world.tokens[user])


@pytest.mark.parametrize("user", ["prosecutor-1", "prosecutor-city"])
async def test_the_receiving_or_a_higher_procuratorate_files_a_case(client, world, user):
    referral_id = await in_status(client, world, "REGISTERED")
    body = await file_case(client, world, referral_id, user, kind="CIVIL")
    assert "errors" not in body, body
    case = body["data"]["fileCase"]
    # Numbered by the procuratorate that received the referral, whoever files it.
    assert case | {"id": None, "history": None} == {
        "id": None, "number": case_number("一检", 1), "kind": "CIVIL", "status": "FILED",
        "filedOn": clock.today().isoformat(), "decisionServedOn": None, "referralId": referral_id,
        "history": None}
    assert case["history"] == [{"action": "file", "fromStatus": None, "toStatus": "FILED", "actorName": user}]

    seen = (await graphql(client, REFERRAL, {"id": referral_id}, world.tokens["liaison-a"]))["data"]["referral"]
    assert seen["status"] == "CASE_FILED"
    assert seen["case"] == {"number": case_number("一检", 1), "status": "FILED", "kind": "CIVIL"}
    assert seen["history"][-1] == {"action": "file_case", "fromStatus": "REGISTERED", "toStatus": "CASE_FILED",
                                   "actorName": user}


@pytest.mark.parametrize("user, code", [
    ("prosecutor-2", "NOT_FOUND"),  # another district's clue is not there for it
    ("liaison-a", "FORBIDDEN"), ("assessor-1", "FORBIDDEN"), ("admin", "FORBIDDEN"),
])
async def test_no_one_else_files_a_case(client, world, user, code):
    referral_id = await in_status(client, world, "REGISTERED")
    assert error_codes(await file_case(client, world, referral_id, user)) == [code]
    seen = (await graphql(client, REFERRAL, {"id": referral_id}, world.tokens["liaison-a"]))["data"]["referral"]
    assert seen["status"] == "REGISTERED" and seen["case"] is None
    assert (await graphql(client, CASES, {}, world.tokens["admin"]))["data"]["cases"]["totalCount"] == 0


async def test_only_a_registered_referral_becomes_a_case_and_only_once(client, world):
    submitted = await in_status(client, world, "SUBMITTED")
    body = await file_case(client, world, submitted)
    assert error_codes(body) == ["INVALID_TRANSITION"]
    assert body["errors"][0]["extensions"]["status"] == "SUBMITTED"

    registered = await in_status(client, world, "REGISTERED")
    assert "errors" not in await file_case(client, world, registered)
    assert error_codes(await file_case(client, world, registered)) == ["INVALID_TRANSITION"]
    # The refusals took no number: the next case is the second.
    other = await in_status(client, world, "REGISTERED")
    assert (await file_case(client, world, other))["data"]["fileCase"]["number"] == case_number("一检", 2)


async def test_numbers_are_sequential_per_procuratorate(client, world):
    numbers = []
    for _ in range(3):
        numbers.append((await file_case(client, world, await in_status(client, world, "REGISTERED"))
                        )["data"]["fileCase"]["number"])
    assert numbers == [case_number("一检", serial) for serial in (1, 2, 3)]
    # Another procuratorate counts its own.
    other_district = await submitted(client, world, "liaison-c")
    assert "errors" not in await graphql(client, REGISTER, {"id": other_district}, world.tokens["prosecutor-2"])
    assert (await file_case(client, world, other_district, "prosecutor-2")
            )["data"]["fileCase"]["number"] == case_number("二检", 1)


async def test_a_served_decision_date_is_kept_and_checked(client, world):
    today = clock.today().isoformat()
    body = await file_case(client, world, await in_status(client, world, "REGISTERED"), decisionServedOn=today)
    assert body["data"]["fileCase"]["decisionServedOn"] == today
    referral_id = await in_status(client, world, "REGISTERED")
    assert error_codes(await file_case(client, world, referral_id, decisionServedOn="2000-01-01")) == ["VALIDATION"]
    seen = (await graphql(client, REFERRAL, {"id": referral_id}, world.tokens["liaison-a"]))["data"]["referral"]
    assert seen["status"] == "REGISTERED"


SERVED = """mutation($caseId: ID!, $servedOn: Date!) {
  recordCaseDecisionServed(caseId: $caseId, servedOn: $servedOn) { decisionServedOn } }"""


async def test_the_decision_served_date_is_recorded_once(client, world, monkeypatch):
    referral_id = await in_status(client, world, "REGISTERED")
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: date(2026, 1, 5))  # filed some days ago
        filed = (await file_case(client, world, referral_id))["data"]["fileCase"]
    assert filed["filedOn"] == "2026-01-05" and filed["number"] == "一检公益立〔2026〕1号"

    async def serve(user: str, served_on: str) -> dict:
        return await graphql(client, SERVED, {"caseId": filed["id"], "servedOn": served_on}, world.tokens[user])

    assert error_codes(await serve("liaison-a", "2026-01-06")) == ["FORBIDDEN"]
    assert error_codes(await serve("prosecutor-2", "2026-01-06")) == ["NOT_FOUND"]
    assert error_codes(await serve("prosecutor-1", "2026-01-04")) == ["VALIDATION"]  # before the filing
    assert error_codes(await serve("prosecutor-1", "2999-01-01")) == ["VALIDATION"]  # in the future
    body = await serve("prosecutor-city", "2026-01-06")
    assert body["data"]["recordCaseDecisionServed"] == {"decisionServedOn": "2026-01-06"}
    assert (await serve("prosecutor-1", "2026-01-06"))["data"]["recordCaseDecisionServed"] == {
        "decisionServedOn": "2026-01-06"}
    assert error_codes(await serve("prosecutor-1", "2026-01-07")) == ["CONFLICT"]
    case = (await graphql(client, CASE_SERVED, {"id": filed["id"]}, world.tokens["liaison-a"]))["data"]["case"]
    assert case == {"decisionServedOn": "2026-01-06"}


CASE_SERVED = "query($id: ID!) { case(id: $id) { decisionServedOn } }"


async def test_who_sees_the_cases(client, world):
    referral_id = await in_status(client, world, "REGISTERED")
    case_id = (await file_case(client, world, referral_id, kind="CRIMINAL_INCIDENTAL_CIVIL")
               )["data"]["fileCase"]["id"]

    def listed(body):
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["cases"]["edges"]], body["data"]["cases"]["totalCount"]

    for user in ("liaison-a", "prosecutor-1", "prosecutor-city", "assessor-1", "admin"):
        assert listed(await graphql(client, CASES, {}, world.tokens[user])) == ([case_id], 1), user
        case = (await graphql(client, CASE, {"id": case_id}, world.tokens[user]))["data"]["case"]
        assert case["number"] == case_number("一检", 1) and case["jurisdiction"] == {"code": "410101"}
    # Another agency of the same district, and another district's prosecutor, see nothing of it.
    for user in ("liaison-b", "liaison-c", "prosecutor-2"):
        assert listed(await graphql(client, CASES, {}, world.tokens[user])) == ([], 0), user
        assert error_codes(await graphql(client, CASE, {"id": case_id}, world.tokens[user])) == ["NOT_FOUND"]
        seen = await graphql(client, REFERRAL, {"id": referral_id}, world.tokens[user])
        assert error_codes(seen) == ["NOT_FOUND"]


async def test_filters_and_pages(client, world):
    ids = []
    for kind in ("ADMINISTRATIVE", "CIVIL", "ADMINISTRATIVE"):
        ids.append((await file_case(client, world, await in_status(client, world, "REGISTERED"), kind=kind)
                    )["data"]["fileCase"]["id"])
    token = world.tokens["prosecutor-city"]

    async def found(filter: dict) -> list[str]:
        body = await graphql(client, CASES, {"filter": filter}, token)
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["cases"]["edges"]]

    today = clock.today().isoformat()
    assert await found({}) == ids[::-1]
    assert await found({"kind": ["ADMINISTRATIVE"]}) == [ids[2], ids[0]]
    assert await found({"status": ["FILED"], "agencyId": world.ids["agency:A"]}) == ids[::-1]
    assert await found({"agencyId": world.ids["agency:B"]}) == []
    assert await found({"jurisdictionCode": "410100"}) == ids[::-1]
    assert await found({"jurisdictionCode": "410102"}) == []
    assert await found({"filedFrom": today, "filedTo": today}) == ids[::-1]
    assert await found({"filedTo": "2020-01-01"}) == []

    first = (await graphql(client, CASES, {"first": 2}, token))["data"]["cases"]
    assert [edge["node"]["id"] for edge in first["edges"]] == ids[:0:-1] and first["pageInfo"]["hasNextPage"]
    rest = (await graphql(client, CASES, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token))
    assert [edge["node"]["id"] for edge in rest["data"]["cases"]["edges"]] == [ids[0]]


CASES_PAGE = """query { cases(first: 50) { totalCount edges { node {
  number kind status agency { name } history { action toStatus } } } } }"""


async def test_a_page_costs_the_same_statements_however_many_cases(client, world, resources):
    costs = []
    for more in (1, 5):
        for _ in range(more):
            await file_case(client, world, await in_status(client, world, "REGISTERED"))
        with recorded_statements(resources) as statements:
            body = await graphql(client, CASES_PAGE, {}, world.tokens["liaison-a"])
        assert "errors" not in body, body
        assert len(body["data"]["cases"]["edges"]) == body["data"]["cases"]["totalCount"] == len(costs) * 5 + 1
        costs.append(len(statements))
    # Who is asking; the page with its count; all its agencies in one query and all their histories in one.
    assert costs == [4, 4], costs


FULL_CASES_PAGE = """query { cases(first: 50) { totalCount edges { node {
  number title domain { code } agency { name } history { action toStatus } parties { name idNumber }
  consultation { startedOn agency { name } meetings { place participants { name } } }
  hearings { topic participants { name } } notes { text } } } } }"""


async def test_a_page_with_every_relation_costs_the_same_statements_however_many_cases(client, world, resources):
    token = world.tokens["prosecutor-1"]
    costs = []
    for more in (1, 5):
        for _ in range(more):
            case_id = (await file_case(client, world, await in_status(client, world, "REGISTERED"))
                       )["data"]["fileCase"]["id"]
            for query, variables in ((START, {"caseId": case_id}),
                                     (MEETING, {"caseId": case_id, "input": meeting()}),
                                     (SCHEDULE, {"caseId": case_id, "input": {
                                         **PLAN, "scheduledAt": f"{clock.today().isoformat()}T23:00:00+08:00"}}),
                                     (ADD, {"caseId": case_id, "text": "笔记"})):
                assert "errors" not in await graphql(client, query, variables, token)
        with recorded_statements(resources) as statements:
            body = await graphql(client, FULL_CASES_PAGE, {}, token)
        assert "errors" not in body, body
        edges = body["data"]["cases"]["edges"]
        assert len(edges) == len(costs) * 5 + 1
        assert all(len(edge["node"]["consultation"]["meetings"]) == len(edge["node"]["hearings"]) ==
                   len(edge["node"]["notes"]) == 1 for edge in edges)
        costs.append(len(statements))
    # Who is asking; the page with its count; then one statement each for the domains, agencies,
    # histories, parties, meetings, hearings and notes of the whole page.
    assert costs == [9, 9], costs

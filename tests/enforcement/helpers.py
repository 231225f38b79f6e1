"""What the enforcement tests share: entering a case through the API, on a chosen Beijing date."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from agencies.uscc import check_character as uscc_check
from core import clock
from parties.identity import check_character
from tests.conftest import graphql

RECORD = """mutation($input: RecordEnforcementCaseInput!) { recordEnforcementCase(input: $input) {
  id caseNumber kind decidedOn amount summary enteredOn entryDueOn enteredOnTime entryWorkingDaysLate
  entryRuleVersion entryCalendarVersion location domain { code } agency { name }
  parties { kind name idNumber uscc role } } }"""
LIST = """query($filter: EnforcementCaseFilter, $first: Int, $after: String) {
  enforcementCases(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id caseNumber amount enteredOnTime parties { name idNumber } } } } }"""
ONE = "query($id: ID!) { enforcementCase(id: $id) { id caseNumber parties { name idNumber } } }"

PERSON = "41010119850317001" + check_character("41010119850317001")
ENTERPRISE = "91410101MA47ENF01" + uscc_check("91410101MA47ENF01")
# The 2025 National Day holiday: 1-8 October rest, Saturday 11 October worked (调休). A decision
# on Tuesday 30 September is due on Thursday 16 October (9, 10, 11, 13, 14, 15, 16); Monday to
# Friday alone would have said Friday 10 October.
DECIDED = date(2025, 9, 30)
DUE = date(2025, 10, 16)


@contextmanager
def today_is(monkeypatch, day: date):
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: day)
        yield


def case_input(number: str = "自然资罚〔2025〕1号", **overrides) -> dict:
    value = {"caseNumber": number, "kind": "PENALTY", "domain": "ECOLOGY_RESOURCES",
             "decidedOn": DECIDED.isoformat(), "summary": "非法占用耕地建房，责令退还并处罚款。", "amount": "12345.60",
             "parties": [{"kind": "ENTERPRISE", "name": "示例建材有限公司", "uscc": ENTERPRISE, "role": "违法行为人"},
                         {"kind": "PERSON", "name": "甲某", "idNumber": PERSON, "role": "法定代表人"}]}
    value.update(overrides)
    return value


async def record(client, world, user: str = "liaison-a", **overrides) -> dict:
    return await graphql(client, RECORD, {"input": case_input(**overrides)}, world.tokens[user])


async def recorded(client, world, monkeypatch, user: str = "liaison-a", on: date = DUE, **overrides) -> dict:
    with today_is(monkeypatch, on):
        body = await record(client, world, user, **overrides)
    assert "errors" not in body, body
    return body["data"]["recordEnforcementCase"]


async def listed(client, world, user: str, filter: dict | None = None, first: int = 100) -> dict:
    body = await graphql(client, LIST, {"filter": filter, "first": first}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["enforcementCases"]

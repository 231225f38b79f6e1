"""A small, hand-computed world for the assessment: the fourth quarter of 2025 in district 1.

The 2025 calendar: 1-8 October rest (National Day and Mid-Autumn), Saturday 11 October worked.

Agency A (district 1)
- enforcement cases: 平自然资罚〔2025〕101号 decided Thu 9 Oct, due Fri 17 Oct (10, 11 adjusted, 13-17),
  entered 17 Oct: on time. 〔2025〕102号 decided Mon 3 Nov, due Wed 12 Nov, entered Fri 14 Nov: 2 working
  days late. → 1 of 2, 0.5 × 20 = 10.00
- referrals filed as cases in the quarter: one (10 Nov), target 2 → 0.5 × 20 = 10.00 (the cases
  behind the recommendations were filed in August, outside the quarter)
- recommendation R4 (to A) served Mon 1 Sep, two months → Sat 1 Nov → Mon 3 Nov; replied Wed 5 Nov:
  2 working days late; checked NOT_RECTIFIED 20 Nov; brought to suit 10 Dec.
  → replies 0 of 1 = 0.00, rectification 0 of 1 = 0.00, litigation 1 × −10
- total 10 + 10 + 0 + 0 − 10 = 10.00, rank 2 in district 1
Agency B (district 1)
- no enforcement cases → 20.00 (nothing owed); no referrals filed, target 2 → 0.00
- R1 served Wed 20 Aug, due Mon 20 Oct, replied 15 Oct: on time; checked RECTIFIED 20 Nov
- R2 urgent, served Mon 3 Nov, due Tue 18 Nov, replied Fri 21 Nov: 3 working days late; PARTIAL 1 Dec
- R3 urgent, served Mon 1 Dec, due Tue 16 Dec, never replied: at 31 Dec 11 working days overdue
  (17-19, 22-26, 29-31)
  → replies 1 of 3 = 10.00, rectification 1 of 3 = 10.00, overdue unreplied 1 × −5
- total 20 + 0 + 10 + 10 − 5 = 35.00, rank 1 in district 1
Agency C (district 2): nothing at all → 20 + 0 + 30 + 30 = 80.00, rank 1 in district 2."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from core import clock
from tests.conftest import graphql
from tests.enforcement.helpers import RECORD as RECORD_ENFORCEMENT
from tests.enforcement.helpers import case_input
from tests.recommendations.steps import check, issue, ok, reply
from tests.referral.test_return_and_decline import in_status

FILE = "mutation($id: ID!) { fileCase(referralId: $id, input: {kind: ADMINISTRATIVE}) { id number } }"
SERVE = """mutation($id: ID!, $on: Date!) { recordRecommendationServed(id: $id, input: {servedOn: $on, witnesses: []}) {
  id number } }"""
SUE = """mutation($caseId: ID!, $on: Date!) { fileLitigation(caseId: $caseId, input: {court: "一区人民法院",
  claims: "判令依法履职", filedOn: $on}) { status } }"""


@contextmanager
def on(monkeypatch, day: date):
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: day)
        yield


async def filed_case(client, world, monkeypatch, day: date) -> dict:
    with on(monkeypatch, day):
        referral_id = await in_status(client, world, "REGISTERED")
        return ok(await graphql(client, FILE, {"id": referral_id}, world.tokens["prosecutor-1"]), "fileCase")


async def recommendation(client, world, monkeypatch, *, addressee: str, served: date, urgent: bool = False
                         ) -> tuple[dict, str, str]:
    """(case {id, number}, recommendation id, recommendation number), issued on the day it is served."""
    case = await filed_case(client, world, monkeypatch, date(2025, 8, 1))
    with on(monkeypatch, served):
        issued = ok(await issue(client, world, case["id"], addressee=addressee, urgent=urgent), "issueRecommendation")
        served_row = ok(await graphql(client, SERVE, {"id": issued["id"], "on": served.isoformat()},
                                      world.tokens["prosecutor-1"]), "recordRecommendationServed")
    return case, issued["id"], served_row["number"]


async def replied(client, world, monkeypatch, recommendation_id: str, day: date, user: str) -> None:
    with on(monkeypatch, day):
        ok(await reply(client, world, recommendation_id, user=user), "replyToRecommendation")


async def checked(client, world, monkeypatch, recommendation_id: str, day: date, result: str) -> None:
    with on(monkeypatch, day):
        ok(await check(client, world, recommendation_id, result=result, checkedOn=day.isoformat()),
           "recordRectificationCheck")


async def entered(client, world, monkeypatch, number: str, decided: date, entered_on: date) -> None:
    with on(monkeypatch, entered_on):
        body = await graphql(client, RECORD_ENFORCEMENT, {"input": case_input(number, decidedOn=decided.isoformat())},
                             world.tokens["liaison-a"])
    assert "errors" not in body, body


async def build(client, world, monkeypatch) -> dict[str, str]:
    """The quarter described above; the numbers of its records by name."""
    numbers: dict[str, str] = {}
    await entered(client, world, monkeypatch, "平自然资罚〔2025〕101号", date(2025, 10, 9), date(2025, 10, 17))
    await entered(client, world, monkeypatch, "平自然资罚〔2025〕102号", date(2025, 11, 3), date(2025, 11, 14))
    numbers["case_in_quarter"] = (await filed_case(client, world, monkeypatch, date(2025, 11, 10)))["number"]

    _, r1, numbers["R1"] = await recommendation(client, world, monkeypatch, addressee="B", served=date(2025, 8, 20))
    await replied(client, world, monkeypatch, r1, date(2025, 10, 15), "liaison-b")
    await checked(client, world, monkeypatch, r1, date(2025, 11, 20), "RECTIFIED")

    _, r2, numbers["R2"] = await recommendation(client, world, monkeypatch, addressee="B", served=date(2025, 11, 3),
                                                urgent=True)
    await replied(client, world, monkeypatch, r2, date(2025, 11, 21), "liaison-b")
    await checked(client, world, monkeypatch, r2, date(2025, 12, 1), "PARTIAL")

    _, _, numbers["R3"] = await recommendation(client, world, monkeypatch, addressee="B", served=date(2025, 12, 1),
                                               urgent=True)

    case4, r4, numbers["R4"] = await recommendation(client, world, monkeypatch, addressee="A",
                                                    served=date(2025, 9, 1))
    await replied(client, world, monkeypatch, r4, date(2025, 11, 5), "liaison-a")
    await checked(client, world, monkeypatch, r4, date(2025, 11, 20), "NOT_RECTIFIED")
    with on(monkeypatch, date(2025, 12, 10)):
        ok(await graphql(client, SUE, {"caseId": case4["id"], "on": "2025-12-10"}, world.tokens["prosecutor-1"]),
           "fileLitigation")
    numbers["case4"] = case4["number"]
    return numbers

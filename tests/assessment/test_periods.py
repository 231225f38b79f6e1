"""Closing freezes a period; reopening is an administrator's audited act; objections come within the
window after a close and are answered by the office; each refusal has its code."""

from __future__ import annotations

from datetime import date

import pytest

from tests.assessment.fixture import build, entered, on, replied
from tests.assessment.queries import (
    ANSWER,
    ASSESSMENT,
    CLOSE,
    EXPLANATION,
    OBJECT,
    OBJECTIONS,
    PERIODS,
    REOPEN,
    as_user,
)
from tests.conftest import error_codes

Q4 = {"year": 2025, "quarter": 4}
CLOSED_ON = date(2026, 1, 5)
# Ten working days after Monday 5 January 2026 (1-3 January rest; Sunday 4 January worked, but before
# the close): 6-9, 12-16, 19.
OBJECTIONS_DUE = date(2026, 1, 19)


def scores(body: dict) -> dict[str, tuple]:
    assert "errors" not in body, body
    return {row["agency"]["name"]: (row["score"], row["rank"], row["frozen"])
            for row in body["data"]["assessment"]["agencies"]}


@pytest.fixture
async def quarter(client, world, monkeypatch, rubric):
    return await build(client, world, monkeypatch)


async def close(client, world, monkeypatch, user="assessor-1", day=CLOSED_ON, **variables) -> dict:
    with on(monkeypatch, day):
        return await as_user(client, world, user, CLOSE, **(Q4 | variables))


async def test_a_closed_period_keeps_its_results_until_reopened(client, world, monkeypatch, quarter):
    body = await close(client, world, monkeypatch)
    assert "errors" not in body, body
    [period] = body["data"]["closeAssessmentPeriod"]
    assert (period["status"], period["jurisdiction"]["code"], period["closedOn"], period["objectionsDueOn"]) == (
        "CLOSED", "410101", "2026-01-05", OBJECTIONS_DUE.isoformat())
    assert scores(await as_user(client, world, "assessor-1", ASSESSMENT, **Q4)) == {
        "机关A": ("10.00", 2, True), "机关B": ("35.00", 1, True)}

    # Later records that would change the quarter: B answers R3 (late), A enters a case decided in it.
    r3 = await recommendation_id(client, world, quarter["R3"])
    await replied(client, world, monkeypatch, r3, date(2026, 1, 6), "liaison-b")
    await entered(client, world, monkeypatch, "平自然资罚〔2025〕103号", date(2025, 12, 1), date(2025, 12, 2))
    assert scores(await as_user(client, world, "assessor-1", ASSESSMENT, **Q4)) == {
        "机关A": ("10.00", 2, True), "机关B": ("35.00", 1, True)}
    frozen = await as_user(client, world, "liaison-a", EXPLANATION, agencyId=world.ids["agency:A"],
                           code="ENFORCEMENT_TIMELINESS", **Q4)
    assert [row["reference"] for row in frozen["data"]["assessmentExplanation"]] == [
        "平自然资罚〔2025〕101号", "平自然资罚〔2025〕102号"]
    # District 2 was not closed: it still follows its records.
    assert scores(await as_user(client, world, "prosecutor-2", ASSESSMENT, **Q4)) == {"机关C": ("80.00", 1, False)}

    body = await as_user(client, world, "admin", REOPEN, code="410101", reason="机关A补录执法信息，重新核算", **Q4)
    assert [row["status"] for row in body["data"]["reopenAssessmentPeriod"]] == ["OPEN"]
    # Computed again: A has 2 of 3 entries on time (13.33); B's reply to R3 came after the quarter, so R3
    # was still unanswered at its end and B keeps its deduction.
    assert scores(await as_user(client, world, "assessor-1", ASSESSMENT, **Q4)) == {
        "机关A": ("13.33", 2, False), "机关B": ("35.00", 1, False)}
    [history] = [row["history"] for row in (await as_user(client, world, "assessor-1", PERIODS, **Q4))
                 ["data"]["assessmentPeriods"]]
    assert [(step["action"], step["fromStatus"], step["toStatus"], step["actorName"], step["reason"])
            for step in history] == [("close", None, "CLOSED", "assessor-1", None),
                                     ("reopen", "CLOSED", "OPEN", "admin", "机关A补录执法信息，重新核算")]
    # Closed again, it freezes the new results.
    assert "errors" not in await close(client, world, monkeypatch, day=date(2026, 1, 7))
    assert scores(await as_user(client, world, "assessor-1", ASSESSMENT, **Q4))["机关A"] == ("13.33", 2, True)


async def recommendation_id(client, world, number: str) -> str:
    from tests.conftest import graphql

    body = await graphql(client, "{ recommendations(first: 50) { edges { node { id number } } } }", {},
                         world.tokens["prosecutor-1"])
    return next(edge["node"]["id"] for edge in body["data"]["recommendations"]["edges"]
                if edge["node"]["number"] == number)


async def test_closing_refusals(client, world, monkeypatch, quarter):
    for user in ("liaison-a", "prosecutor-1"):
        assert error_codes(await close(client, world, monkeypatch, user=user)) == ["FORBIDDEN"]
    # A period that has not ended yet.
    body = await close(client, world, monkeypatch, day=date(2025, 12, 31))
    assert error_codes(body) == ["INVALID_TRANSITION"]
    # The administrator names the jurisdiction; an assessor may not reach outside its own.
    body = await close(client, world, monkeypatch, user="admin")
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "jurisdictionCode"
    assert error_codes(await close(client, world, monkeypatch, code="410102")) == ["NOT_FOUND"]
    assert "errors" not in await close(client, world, monkeypatch)
    assert error_codes(await close(client, world, monkeypatch)) == ["CONFLICT"]
    # The city's close covers its districts: one of them is closed already.
    assert error_codes(await close(client, world, monkeypatch, user="admin", code="410100")) == ["CONFLICT"]
    assert "errors" not in await close(client, world, monkeypatch, user="admin", code="410102")


async def test_reopening_refusals(client, world, monkeypatch, quarter):
    body = await as_user(client, world, "admin", REOPEN, code="410101", reason="核对", **Q4)
    assert error_codes(body) == ["INVALID_TRANSITION"]  # not closed
    assert "errors" not in await close(client, world, monkeypatch)
    for user in ("assessor-1", "prosecutor-1", "liaison-a"):
        body = await as_user(client, world, user, REOPEN, code="410101", reason="核对", **Q4)
        assert error_codes(body) == ["FORBIDDEN"], user
    body = await as_user(client, world, "admin", REOPEN, code="410101", reason="  ", **Q4)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "reason"
    body = await as_user(client, world, "admin", REOPEN, code="999999", reason="核对", **Q4)
    assert error_codes(body) == ["NOT_FOUND"]


async def file(client, world, monkeypatch, user="liaison-b", day=CLOSED_ON, code="REPLY_ON_TIME",
               grounds="R2 的回复已于 11 月 18 日通过邮件送达，请核实。") -> dict:
    with on(monkeypatch, day):
        return await as_user(client, world, user, OBJECT, code=code, grounds=grounds, **Q4)


async def test_objections_within_the_window_and_their_answers(client, world, monkeypatch, quarter):
    # Nothing to object to while the period is open.
    assert error_codes(await file(client, world, monkeypatch)) == ["INVALID_TRANSITION"]
    assert "errors" not in await close(client, world, monkeypatch)

    body = await file(client, world, monkeypatch, code="NO_SUCH")
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "indicatorCode"
    body = await file(client, world, monkeypatch, grounds=" ")
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "grounds"
    for user in ("assessor-1", "prosecutor-1", "admin"):
        assert error_codes(await file(client, world, monkeypatch, user=user)) == ["FORBIDDEN"], user
    # The last day of the window, then the day after it.
    body = await file(client, world, monkeypatch, day=OBJECTIONS_DUE)
    assert "errors" not in body, body
    objection = body["data"]["fileAssessmentObjection"]
    assert (objection["agencyId"], objection["status"], objection["filedOn"], objection["filedByName"]) == (
        world.ids["agency:B"], "FILED", "2026-01-19", "liaison-b")
    body = await file(client, world, monkeypatch, day=date(2026, 1, 20))
    assert error_codes(body) == ["INVALID_TRANSITION"]

    # The office answers; nobody else does, and not twice.
    for user in ("prosecutor-1", "liaison-b", "admin"):
        body = await as_user(client, world, user, ANSWER, id=objection["id"], answer="经核实，维持原分。")
        assert error_codes(body) == ["FORBIDDEN"], user
    with on(monkeypatch, date(2026, 1, 21)):
        body = await as_user(client, world, "assessor-1", ANSWER, id=objection["id"], answer="经核实，维持原分。")
    answered = body["data"]["answerAssessmentObjection"]
    assert (answered["status"], answered["answer"], answered["answeredOn"], answered["answeredByName"]) == (
        "ANSWERED", "经核实，维持原分。", "2026-01-21", "assessor-1")
    body = await as_user(client, world, "assessor-1", ANSWER, id=objection["id"], answer="再次答复")
    assert error_codes(body) == ["INVALID_TRANSITION"]

    # Kept with the period, seen by the objecting agency and the office only.
    seen = {user: [row["id"] for row in (await as_user(client, world, user, OBJECTIONS, **Q4))
                   ["data"]["assessmentObjections"]]
            for user in ("liaison-b", "assessor-1", "admin", "liaison-a", "prosecutor-1", "prosecutor-city")}
    assert seen == {"liaison-b": [objection["id"]], "assessor-1": [objection["id"]], "admin": [objection["id"]],
                    "liaison-a": [], "prosecutor-1": [], "prosecutor-city": []}
    # Reopening keeps it.
    assert "errors" not in await as_user(client, world, "admin", REOPEN, code="410101", reason="复核", **Q4)
    assert len((await as_user(client, world, "liaison-b", OBJECTIONS, **Q4))["data"]["assessmentObjections"]) == 1

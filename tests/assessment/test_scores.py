"""The scores of the hand-computed quarter (tests/assessment/fixture.py), exactly, for each role."""

from __future__ import annotations

import pytest

from tests.assessment.fixture import build
from tests.assessment.queries import ASSESSMENT, ASSESSMENT_EXPLAINED, EXPLANATION, as_user
from tests.conftest import error_codes

Q4 = {"year": 2025, "quarter": 4}
LATE_2 = "逾期 2 个工作日 / late by 2 working days"
URGENT = "紧急情形，十五日内回复 / urgent: fifteen days to answer"
UNREPLIED = "截至考核时点未回复 / not answered by the end of the period"
NOT_VERIFIED = "未经检查认定整改到位（回复不等于整改）/ not found RECTIFIED by a check (a reply is not a rectification)"


def indicators(agency: dict) -> dict[str, tuple]:
    return {item["code"]: (item["kind"], item["value"], item["score"], item["weight"], item["count"])
            for item in agency["indicators"]}


def by_name(body: dict) -> dict[str, dict]:
    assert "errors" not in body, body
    return {row["agency"]["name"]: row for row in body["data"]["assessment"]["agencies"]}


def records(rows: list[dict]) -> list[tuple]:
    return [(row["reference"], row["related"], row["dueOn"], row["doneOn"], row["onTime"], row["workingDaysLate"],
             row["note"]) for row in rows]


@pytest.fixture
async def quarter(client, world, monkeypatch, rubric):
    return await build(client, world, monkeypatch)


async def test_the_hand_computed_quarter(client, world, quarter):
    body = await as_user(client, world, "assessor-1", ASSESSMENT, **Q4)
    assert body["data"]["assessment"]["startOn"] == "2025-10-01"
    assert body["data"]["assessment"]["endOn"] == body["data"]["assessment"]["asOf"] == "2025-12-31"
    rows = by_name(body)
    assert set(rows) == {"机关A", "机关B"}
    a, b = rows["机关A"], rows["机关B"]
    assert (a["score"], a["rank"], a["frozen"], a["rubricVersion"]) == ("10.00", 2, False, "2026.1")
    assert (b["score"], b["rank"]) == ("35.00", 1)
    assert indicators(a) == {
        "ENFORCEMENT_TIMELINESS": ("SCORED", "0.5000", "10.00", 20, 2),
        "CLUE_REFERRAL": ("SCORED", "0.5000", "10.00", 20, 1),
        "REPLY_ON_TIME": ("SCORED", "0.0000", "0.00", 30, 1),
        "RECTIFICATION": ("SCORED", "0.0000", "0.00", 30, 1),
        "OVERDUE_UNREPLIED": ("DEDUCTION", "0", "0.00", 5, 0),
        "LITIGATION": ("DEDUCTION", "1", "-10.00", 10, 1)}
    assert indicators(b) == {
        "ENFORCEMENT_TIMELINESS": ("SCORED", None, "20.00", 20, 0),
        "CLUE_REFERRAL": ("SCORED", "0.0000", "0.00", 20, 0),
        "REPLY_ON_TIME": ("SCORED", "0.3333", "10.00", 30, 3),
        "RECTIFICATION": ("SCORED", "0.3333", "10.00", 30, 3),
        "OVERDUE_UNREPLIED": ("DEDUCTION", "1", "-5.00", 5, 1),
        "LITIGATION": ("DEDUCTION", "0", "0.00", 10, 0)}
    summaries = {item["code"]: item["summary"] for item in b["indicators"]}
    assert summaries["REPLY_ON_TIME"] == ("应回复 3 件，按期 1 件，逾期或未回复 2 件共 14 个工作日 / 1 of 3 answered on time, "
                                          "2 late or unanswered, 14 working days in all")

    explained = {row["agencyId"]: {item["code"]: records(item["explanation"]) for item in row["indicators"]}
                 for row in (await as_user(client, world, "assessor-1", ASSESSMENT_EXPLAINED, **Q4))
                 ["data"]["assessment"]["agencies"]}
    a_records, b_records = explained[a["agencyId"]], explained[b["agencyId"]]
    assert a_records["ENFORCEMENT_TIMELINESS"] == [
        ("平自然资罚〔2025〕101号", "PENALTY", "2025-10-17", "2025-10-17", True, 0, "按期 / on time"),
        ("平自然资罚〔2025〕102号", "PENALTY", "2025-11-12", "2025-11-14", False, 2, LATE_2)]
    assert [row[1] for row in a_records["CLUE_REFERRAL"]] == [quarter["case_in_quarter"]]
    assert a_records["REPLY_ON_TIME"] == [(quarter["R4"], None, "2025-11-03", "2025-11-05", False, 2, LATE_2)]
    assert a_records["RECTIFICATION"] == [(quarter["R4"], None, "2025-11-03", None, False, None, NOT_VERIFIED)]
    assert a_records["LITIGATION"] == [(quarter["R4"], quarter["case4"], None, "2025-12-10", None, None, "")]
    assert a_records["OVERDUE_UNREPLIED"] == []
    assert b_records["ENFORCEMENT_TIMELINESS"] == [] and b_records["CLUE_REFERRAL"] == []
    assert b_records["REPLY_ON_TIME"] == [
        (quarter["R1"], None, "2025-10-20", "2025-10-15", True, 0, "按期 / on time"),
        (quarter["R2"], "URGENT", "2025-11-18", "2025-11-21", False, 3,
         f"逾期 3 个工作日 / late by 3 working days；{URGENT}"),
        (quarter["R3"], "URGENT", "2025-12-16", None, False, 11,
         f"逾期 11 个工作日 / late by 11 working days；{URGENT}；{UNREPLIED}")]
    # A reply is not a rectification: R2 was answered, only R1 was found RECTIFIED.
    assert b_records["RECTIFICATION"] == [
        (quarter["R1"], None, "2025-10-20", "2025-11-20", True, None, "检查认定整改到位 / a check found it RECTIFIED"),
        (quarter["R2"], "URGENT", "2025-11-18", None, False, None, f"{URGENT}；{NOT_VERIFIED}"),
        (quarter["R3"], "URGENT", "2025-12-16", None, False, None, f"{URGENT}；{UNREPLIED}")]
    assert b_records["OVERDUE_UNREPLIED"] == [
        (quarter["R3"], "URGENT", "2025-12-16", None, False, 11,
         f"逾期 11 个工作日 / late by 11 working days；{URGENT}；{UNREPLIED}")]

    one = await as_user(client, world, "assessor-1", EXPLANATION, agencyId=b["agencyId"], code="OVERDUE_UNREPLIED", **Q4)
    assert records(one["data"]["assessmentExplanation"]) == b_records["OVERDUE_UNREPLIED"]


async def test_the_year_counts_the_target_four_times(client, world, quarter):
    rows = by_name(await as_user(client, world, "assessor-1", ASSESSMENT, year=2025))
    # Five of A's referrals were filed as cases in 2025 (August and November), against 4 × 2.
    assert indicators(rows["机关A"])["CLUE_REFERRAL"] == ("SCORED", "0.6250", "12.50", 20, 5)


@pytest.mark.parametrize(("user", "expected"), [
    ("admin", {"机关A": 2, "机关B": 1, "机关C": 1}),
    ("prosecutor-city", {"机关A": 2, "机关B": 1, "机关C": 1}),
    ("prosecutor-1", {"机关A": 2, "机关B": 1}),
    ("prosecutor-2", {"机关C": 1}),
    ("assessor-1", {"机关A": 2, "机关B": 1}),
    # A liaison sees its own agency only, ranked among its jurisdiction's agencies.
    ("liaison-a", {"机关A": 2}),
    ("liaison-c", {"机关C": 1}),
])
async def test_each_role_sees_its_scope(client, world, quarter, user, expected):
    rows = by_name(await as_user(client, world, user, ASSESSMENT, **Q4))
    assert {name: row["rank"] for name, row in rows.items()} == expected
    if "机关C" in rows:
        assert rows["机关C"]["score"] == "80.00"


async def test_records_outside_the_scope_are_not_found(client, world, quarter):
    b = world.ids["agency:B"]
    for user in ("liaison-a", "prosecutor-2", "liaison-c"):
        body = await as_user(client, world, user, EXPLANATION, agencyId=b, code="REPLY_ON_TIME", **Q4)
        assert error_codes(body) == ["NOT_FOUND"], (user, body)
    body = await as_user(client, world, "liaison-b", EXPLANATION, agencyId=b, code="REPLY_ON_TIME", **Q4)
    assert len(body["data"]["assessmentExplanation"]) == 3
    body = await as_user(client, world, "prosecutor-2", ASSESSMENT, code="410101", **Q4)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await as_user(client, world, "prosecutor-city", ASSESSMENT, code="410102", **Q4)
    assert set(by_name(body)) == {"机关C"}


@pytest.mark.parametrize(("variables", "field"), [
    ({"year": 2025, "quarter": 5}, "quarter"), ({"year": 1899}, "year"), ({"year": 2025, "quarter": 0}, "quarter")])
async def test_invalid_periods(client, world, rubric, variables, field):
    body = await as_user(client, world, "assessor-1", ASSESSMENT, **variables)
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_without_a_rubric_there_is_no_score(client, world):
    body = await as_user(client, world, "assessor-1", ASSESSMENT, **Q4)
    assert error_codes(body) == ["NOT_FOUND"]
    assert "load-rubric" in body["errors"][0]["message"]


async def test_unauthenticated(client, world, rubric):
    from tests.conftest import graphql

    assert error_codes(await graphql(client, ASSESSMENT, Q4)) == ["UNAUTHENTICATED"]

"""The announcement (公告) of a civil claim, its outcome, and suing: a civil claim only after the
announcement period, an administrative case only from follow-up."""

from __future__ import annotations

from datetime import date

import pytest

from cases.flows import CaseAction
from tests.cases.helpers import ACTORS, case_state, move_by_engine, new_case, refused_to_everyone_else, today_is
from tests.conftest import error_codes, graphql

ANNOUNCE = """mutation($caseId: ID!, $input: AnnounceCaseInput!) { announceCase(caseId: $caseId, input: $input) {
  status announcement { publishedOn medium endsOn outcome organisation outcomeRecordedOn
  deadline { rule startOn dueOn metOn } } } }"""
DEADLINE = """query($id: ID!) { case(id: $id) { announcement { endsOn deadline { rule dueOn metOn isOverdue } } } }"""
OUTCOME = """mutation($caseId: ID!, $input: AnnouncementOutcomeInput!) {
  recordAnnouncementOutcome(caseId: $caseId, input: $input) { status announcement { outcome organisation
  outcomeRecordedOn } } }"""
SUE = """mutation($caseId: ID!, $input: FileLitigationInput!) { fileLitigation(caseId: $caseId, input: $input) {
  status litigation { court filedOn claims } announcement { outcome outcomeRecordedOn } } }"""
CLOSE = """mutation($caseId: ID!, $input: CloseCaseInput!) { closeCase(caseId: $caseId, input: $input) {
  status outcome closure { outcome summary closedOn courtDecision { court documentNumber decidedOn } } } }"""
PUBLISHED = {"publishedOn": "2026-01-05", "medium": "正义网"}
SUIT = {"court": "平顶山市中级人民法院", "claims": "判令被告恢复被破坏的土地并赔偿生态环境损害"}


async def announced_case(client, world, monkeypatch, kind: str = "CIVIL") -> str:
    with today_is(monkeypatch, date(2026, 1, 5)):
        case_id = await new_case(client, world, kind=kind)
        body = await graphql(client, ANNOUNCE, {"caseId": case_id, "input": PUBLISHED}, world.tokens["prosecutor-1"])
    assert "errors" not in body, body
    return case_id


@pytest.mark.parametrize("kind", ["CIVIL", "CRIMINAL_INCIDENTAL_CIVIL"])
@pytest.mark.parametrize("user", ACTORS)
async def test_a_civil_claim_is_announced_for_thirty_days(client, world, monkeypatch, kind, user):
    with today_is(monkeypatch, date(2026, 1, 5)):
        case_id = await new_case(client, world, kind=kind)
        body = await graphql(client, ANNOUNCE, {"caseId": case_id, "input": PUBLISHED}, world.tokens[user])
    # 30 days counted from the day after publication: the period's last day is 4 February.
    assert body["data"]["announceCase"] == {"status": "ANNOUNCED", "announcement": {
        "publishedOn": "2026-01-05", "medium": "正义网", "endsOn": "2026-02-04", "outcome": None,
        "organisation": None, "outcomeRecordedOn": None, "deadline": {
            "rule": "CIVIL_ANNOUNCEMENT", "startOn": "2026-01-05", "dueOn": "2026-02-04", "metOn": None}}}
    history = (await case_state(client, world, case_id, "liaison-a"))["history"]
    assert history[-1]["action"] == "announce" and history[-1]["actorName"] == user


async def test_a_period_ending_on_a_rest_day_ends_on_the_next_working_day(client, world, monkeypatch):
    # Published 8 January 2026: thirty days end on Saturday 7 February, so the period runs to Monday
    # 9 February (民事诉讼法 art. 85), on the official calendar of the deadlines package.
    with today_is(monkeypatch, date(2026, 1, 8)):
        case_id = await new_case(client, world, kind="CIVIL")
        body = await graphql(client, ANNOUNCE, {"caseId": case_id, "input": {**PUBLISHED, "publishedOn": "2026-01-08"}},
                             world.tokens["prosecutor-1"])
    assert body["data"]["announceCase"]["announcement"]["endsOn"] == "2026-02-09"
    with today_is(monkeypatch, date(2026, 2, 9)):
        body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, world.tokens["prosecutor-1"])
        assert body["errors"][0]["extensions"]["announcementEndsOn"] == "2026-02-09"
    with today_is(monkeypatch, date(2026, 2, 10)):
        assert "errors" not in await graphql(client, SUE, {"caseId": case_id, "input": SUIT},
                                             world.tokens["prosecutor-1"])


async def test_no_one_else_announces(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 1, 5)):
        case_id = await new_case(client, world, kind="CIVIL")
        await refused_to_everyone_else(client, world, ANNOUNCE, {"caseId": case_id, "input": PUBLISHED}, case_id)


async def test_an_administrative_case_is_not_announced(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 1, 5)):
        case_id = await new_case(client, world)
        body = await graphql(client, ANNOUNCE, {"caseId": case_id, "input": PUBLISHED}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["kind"] == "ADMINISTRATIVE"


@pytest.mark.parametrize("fields, field", [
    ({"publishedOn": "2026-01-04"}, "publishedOn"),  # before the filing
    ({"publishedOn": "2026-01-06"}, "publishedOn"),  # tomorrow
    ({"medium": "  "}, "medium"),
])
async def test_an_announcement_needs_a_date_and_a_medium(client, world, monkeypatch, fields, field):
    with today_is(monkeypatch, date(2026, 1, 5)):
        case_id = await new_case(client, world, kind="CIVIL")
        body = await graphql(client, ANNOUNCE, {"caseId": case_id, "input": {**PUBLISHED, **fields}},
                             world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    assert (await case_state(client, world, case_id))["status"] == "FILED"


async def test_no_suit_before_the_announcement_period_ends(client, world, monkeypatch):
    case_id = await announced_case(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]
    for today in (date(2026, 1, 20), date(2026, 2, 4)):  # within the period, and its last day
        with today_is(monkeypatch, today):
            body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, token)
        assert error_codes(body) == ["INVALID_TRANSITION"], body
        error = body["errors"][0]
        assert error["extensions"]["announcementEndsOn"] == "2026-02-04"
        assert "2026-02-04" in error["message"]
    # A suit dated within the period is refused even when entered later.
    with today_is(monkeypatch, date(2026, 3, 1)):
        body = await graphql(client, SUE, {"caseId": case_id, "input": {**SUIT, "filedOn": "2026-02-01"}}, token)
    assert error_codes(body) == ["INVALID_TRANSITION"] and "2026-02-04" in body["errors"][0]["message"]
    assert (await case_state(client, world, case_id))["status"] == "ANNOUNCED"

    with today_is(monkeypatch, date(2026, 2, 5)):
        await refused_to_everyone_else(client, world, SUE, {"caseId": case_id, "input": SUIT}, case_id)
        body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, world.tokens["prosecutor-city"])
    # Suing after the period states that no organisation came forward within it.
    assert body["data"]["fileLitigation"] == {
        "status": "LITIGATION", "litigation": {"court": SUIT["court"], "filedOn": "2026-02-05", "claims": SUIT["claims"]},
        "announcement": {"outcome": "NO_ORGANISATION", "outcomeRecordedOn": "2026-02-05"}}
    # The period waits for nothing more: its deadline is met, never overdue.
    seen = await graphql(client, DEADLINE, {"id": case_id}, world.tokens["liaison-a"])
    assert seen["data"]["case"]["announcement"] == {"endsOn": "2026-02-04", "deadline": {
        "rule": "CIVIL_ANNOUNCEMENT", "dueOn": "2026-02-04", "metOn": "2026-02-05", "isOverdue": False}}


async def test_a_civil_claim_not_announced_is_not_sued(client, world):
    case_id = await new_case(client, world, kind="CIVIL")
    body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "FILED"


async def test_an_organisation_came_forward_so_it_sues_and_the_case_closes(client, world, monkeypatch):
    case_id = await announced_case(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]
    came_forward = {"organisationCameForward": True, "organisation": "中国生物多样性保护与绿色发展基金会"}
    with today_is(monkeypatch, date(2026, 1, 20)):
        await refused_to_everyone_else(client, world, OUTCOME, {"caseId": case_id, "input": came_forward}, case_id)
        # Closing as sued by an organisation needs one recorded first.
        body = await graphql(client, CLOSE, {"caseId": case_id, "input": {
            "outcome": "SUED_BY_ORGANISATION", "summary": "有组织起诉"}}, token)
        assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "outcome"
        body = await graphql(client, OUTCOME, {"caseId": case_id, "input": came_forward}, token)
        assert body["data"]["recordAnnouncementOutcome"] == {"status": "ANNOUNCED", "announcement": {
            "outcome": "ORGANISATION_CAME_FORWARD", "organisation": came_forward["organisation"],
            "outcomeRecordedOn": "2026-01-20"}}
        assert error_codes(await graphql(client, OUTCOME, {"caseId": case_id, "input": came_forward}, token)) == [
            "CONFLICT"]
    with today_is(monkeypatch, date(2026, 2, 10)):
        body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, token)
        assert error_codes(body) == ["INVALID_TRANSITION"] and "SUED_BY_ORGANISATION" in body["errors"][0]["message"]
        body = await graphql(client, CLOSE, {"caseId": case_id, "input": {
            "outcome": "SUED_BY_ORGANISATION", "summary": "基金会已提起民事公益诉讼，本院支持起诉"}}, token)
    assert body["data"]["closeCase"]["outcome"] == "SUED_BY_ORGANISATION"
    seen = await graphql(client, DEADLINE, {"id": case_id}, token)
    assert seen["data"]["case"]["announcement"]["deadline"]["metOn"] == "2026-01-20"  # settled when it came forward
    assert (await case_state(client, world, case_id, "liaison-a"))["outcome"] == "SUED_BY_ORGANISATION"


async def test_no_organisation_is_recorded_only_after_the_period(client, world, monkeypatch):
    case_id = await announced_case(client, world, monkeypatch)
    token = world.tokens["prosecutor-1"]
    nobody = {"organisationCameForward": False}
    with today_is(monkeypatch, date(2026, 2, 4)):
        body = await graphql(client, OUTCOME, {"caseId": case_id, "input": nobody}, token)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["announcementEndsOn"] == \
        "2026-02-04"
    with today_is(monkeypatch, date(2026, 2, 5)):
        for fields, field in (({"organisationCameForward": False, "organisation": "某组织"}, "organisation"),
                              ({"organisationCameForward": True}, "organisation"),
                              ({"organisationCameForward": True, "organisation": "某组织", "recordedOn": "2026-01-04"},
                               "recordedOn")):
            body = await graphql(client, OUTCOME, {"caseId": case_id, "input": fields}, token)
            assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
        body = await graphql(client, OUTCOME, {"caseId": case_id, "input": nobody}, token)
        assert body["data"]["recordAnnouncementOutcome"]["announcement"] == {
            "outcome": "NO_ORGANISATION", "organisation": None, "outcomeRecordedOn": "2026-02-05"}
        body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, token)
    assert body["data"]["fileLitigation"]["announcement"] == {"outcome": "NO_ORGANISATION",
                                                             "outcomeRecordedOn": "2026-02-05"}


async def test_an_outcome_is_recorded_only_while_announced(client, world):
    case_id = await new_case(client, world, kind="CIVIL")
    body = await graphql(client, OUTCOME, {"caseId": case_id, "input": {"organisationCameForward": True,
                                                                        "organisation": "某组织"}},
                         world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"]


async def test_an_administrative_case_is_sued_only_from_follow_up(client, world, resources):
    case_id = await new_case(client, world)
    token = world.tokens["prosecutor-1"]
    body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, token)
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["status"] == "FILED"
    await move_by_engine(resources, world, case_id, CaseAction.ISSUE_RECOMMENDATION)
    body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, token)
    assert body["errors"][0]["extensions"]["status"] == "RECOMMENDATION_ISSUED"
    await move_by_engine(resources, world, case_id, CaseAction.BEGIN_FOLLOW_UP)
    await refused_to_everyone_else(client, world, SUE, {"caseId": case_id, "input": SUIT}, case_id)
    for fields, field in (({"court": ""}, "court"), ({"claims": " "}, "claims"), ({"filedOn": "2999-01-01"}, "filedOn"),
                          ({"filedOn": "2000-01-01"}, "filedOn")):
        body = await graphql(client, SUE, {"caseId": case_id, "input": {**SUIT, **fields}}, token)
        assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == field
    body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, world.tokens["prosecutor-city"])
    assert body["data"]["fileLitigation"]["status"] == "LITIGATION"
    assert body["data"]["fileLitigation"]["announcement"] is None
    history = (await case_state(client, world, case_id, "liaison-a"))["history"]
    assert (history[-1]["action"], history[-1]["fromStatus"], history[-1]["toStatus"]) == (
        "file_litigation", "FOLLOW_UP", "LITIGATION")


async def test_a_civil_claim_in_follow_up_is_not_sued_without_an_announcement(client, world, resources):
    # The table lets follow-up sue (the administrative suit); a civil claim there (reopened by a
    # check months later) needs its announcement first.
    case_id = await new_case(client, world, kind="CIVIL")
    await move_by_engine(resources, world, case_id, CaseAction.ISSUE_RECOMMENDATION, CaseAction.BEGIN_FOLLOW_UP)
    body = await graphql(client, SUE, {"caseId": case_id, "input": SUIT}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"] and body["errors"][0]["extensions"]["kind"] == "CIVIL"
    assert "announcement" in body["errors"][0]["message"]
    assert (await case_state(client, world, case_id))["status"] == "FOLLOW_UP"

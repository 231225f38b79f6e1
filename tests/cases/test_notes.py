"""Prosecutors' internal notes: written and read by prosecutors only, through every path."""

from __future__ import annotations

import json

import pytest

from tests.cases.helpers import ACTORS, REFUSALS, new_case
from tests.conftest import error_codes, graphql

ADD = "mutation($caseId: ID!, $text: String!) { addCaseNote(caseId: $caseId, text: $text) { text authorName } }"
CASE = "query($id: ID!) { case(id: $id) { number status notes { text authorName } } }"
CASES = "query { cases { totalCount edges { node { number status notes { text } } } } }"
SECRET = "内部：当事人可能转移资产，建议尽快保全"


@pytest.mark.parametrize("user", ACTORS)
async def test_prosecutors_write_and_read_notes(client, world, user):
    case_id = await new_case(client, world)
    body = await graphql(client, ADD, {"caseId": case_id, "text": f"  {SECRET}  "}, world.tokens[user])
    assert body["data"]["addCaseNote"] == {"text": SECRET, "authorName": user}
    for reader in ACTORS:
        notes = (await graphql(client, CASE, {"id": case_id}, world.tokens[reader]))["data"]["case"]["notes"]
        assert notes == [{"text": SECRET, "authorName": user}], reader
        listed = (await graphql(client, CASES, {}, world.tokens[reader]))["data"]["cases"]["edges"]
        assert [edge["node"]["notes"] for edge in listed] == [[{"text": SECRET}]]


async def test_no_one_else_writes_a_note(client, world):
    case_id = await new_case(client, world)
    for user, code in REFUSALS.items():
        body = await graphql(client, ADD, {"caseId": case_id, "text": SECRET}, world.tokens[user])
        assert error_codes(body) == [code], user
    notes = (await graphql(client, CASE, {"id": case_id}, world.tokens["prosecutor-1"]))["data"]["case"]["notes"]
    assert notes == []


@pytest.mark.parametrize("user", ["liaison-a", "assessor-1", "admin"])
async def test_no_one_else_reads_a_note_by_any_path(client, world, user):
    case_id = await new_case(client, world)
    assert "errors" not in await graphql(client, ADD, {"caseId": case_id, "text": SECRET}, world.tokens["prosecutor-1"])

    # By id: the case is there (number, status), its notes are FORBIDDEN and null.
    body = await graphql(client, CASE, {"id": case_id}, world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"] and body["errors"][0]["path"] == ["case", "notes"]
    assert body["data"]["case"]["notes"] is None and body["data"]["case"]["status"] == "FILED"
    assert SECRET not in json.dumps(body, ensure_ascii=False)
    # In the list: the same for every row.
    body = await graphql(client, CASES, {}, world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"]
    assert [edge["node"]["notes"] for edge in body["data"]["cases"]["edges"]] == [None]
    assert SECRET not in json.dumps(body, ensure_ascii=False)
    # Through the referral the case was filed from.
    body = await graphql(client, "query { referrals { edges { node { case { number notes { text } } } } } }", {},
                         world.tokens[user])
    assert error_codes(body) == ["FORBIDDEN"] and SECRET not in json.dumps(body, ensure_ascii=False)


async def test_refusals_and_errors_never_repeat_a_note(client, world):
    case_id = await new_case(client, world)
    for user in ("liaison-a", "liaison-b", "prosecutor-2"):
        body = await graphql(client, ADD, {"caseId": case_id, "text": SECRET}, world.tokens[user])
        assert "errors" in body and SECRET not in json.dumps(body, ensure_ascii=False), user
    too_long = SECRET * 1000
    body = await graphql(client, ADD, {"caseId": case_id, "text": too_long}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "text"
    assert SECRET not in json.dumps(body, ensure_ascii=False)
    body = await graphql(client, ADD, {"caseId": case_id, "text": "   "}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"]
    # A note is not a status change: the history (which the agency reads) does not carry it.
    assert "errors" not in await graphql(client, ADD, {"caseId": case_id, "text": SECRET}, world.tokens["prosecutor-1"])
    body = await graphql(client, "query($id: ID!) { case(id: $id) { history { action reason } } }", {"id": case_id},
                         world.tokens["liaison-a"])
    assert body["data"]["case"]["history"] == [{"action": "file", "reason": None}]

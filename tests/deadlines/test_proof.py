"""The proof sheet of a deadline (GET /deadlines/{id}/proof) and the deadline by id: authorised and
scoped like GraphQL."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import error_codes, graphql, new_id
from tests.deadlines.test_referral_acknowledgement import deadline, today_is
from tests.referral.test_return_and_decline import submitted

BY_ID = "query($id: ID!) { deadline(id: $id) { rule dueOn subjectKind subjectId } }"


async def proof(client, world, deadline_id: str, user: str | None):
    headers = {"Authorization": f"Bearer {world.tokens[user]}"} if user else {}
    return await client.get(f"/deadlines/{deadline_id}/proof", headers=headers)


async def test_the_proof_sheet_shows_each_step(client, world, monkeypatch):
    with today_is(monkeypatch, date(2025, 1, 24)):
        referral_id = await submitted(client, world)
    with today_is(monkeypatch, date(2025, 2, 12)):
        seen = await deadline(client, world, referral_id)
        response = await proof(client, world, seen["id"], "liaison-a")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for expected in ("法定期限计算证明", "Proof of a legal deadline", "REFERRAL_ACKNOWLEDGEMENT", "2026.1",
                     "7个工作日 / 7 working days", "2025-01-24（星期五 Friday）", "2025-02-10（星期一 Monday）",
                     "2025-01-26（星期日 Sunday）</td><td>春节 Spring Festival",  # an adjusted workday counted
                     "2025-01-29（星期三 Wednesday）</td><td>春节 Spring Festival",  # a rest day skipped
                     "Rest days skipped (10)", "Adjusted working days counted (2)", "2025.1 (chinese-calendar",
                     "已逾期", "2 working days elapsed", "民事诉讼法 第八十五条", "@page"):
        assert expected in page, expected
    assert page.count("<tr><td>2025-") == 12


async def test_a_provisional_deadline_says_so_on_its_sheet(client, world, monkeypatch):
    with today_is(monkeypatch, date(2026, 12, 28)):
        referral_id = await submitted(client, world)
        seen = await deadline(client, world, referral_id)
        page = (await proof(client, world, seen["id"], "prosecutor-1")).text
    assert "暂定 / Provisional" in page and "2027 年的工作日安排尚未载入" in page


@pytest.mark.parametrize(("user", "status", "code"), [
    ("liaison-b", 404, "NOT_FOUND"),  # another agency's referral in the same district
    ("liaison-c", 404, "NOT_FOUND"),
    ("prosecutor-2", 404, "NOT_FOUND"),  # another district
    (None, 401, "UNAUTHENTICATED"),
])
async def test_outside_its_scope_the_sheet_does_not_exist(client, world, user, status, code):
    referral_id = await submitted(client, world)
    deadline_id = (await deadline(client, world, referral_id))["id"]
    response = await proof(client, world, deadline_id, user)
    assert response.status_code == status
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [code]
    if user:
        assert error_codes(await graphql(client, BY_ID, {"id": deadline_id}, world.tokens[user])) == ["NOT_FOUND"]


@pytest.mark.parametrize("user", ["liaison-a", "prosecutor-1", "prosecutor-city", "assessor-1", "admin"])
async def test_in_scope_the_sheet_and_the_deadline_are_there(client, world, user):
    referral_id = await submitted(client, world)
    deadline_id = (await deadline(client, world, referral_id))["id"]
    assert (await proof(client, world, deadline_id, user)).status_code == 200
    body = await graphql(client, BY_ID, {"id": deadline_id}, world.tokens[user])
    assert body["data"]["deadline"] | {"dueOn": None} == {
        "rule": "REFERRAL_ACKNOWLEDGEMENT", "dueOn": None, "subjectKind": "REFERRAL", "subjectId": referral_id}


async def test_an_unknown_id_is_not_found(client, world):
    for deadline_id in (new_id(), "not-a-uuid"):
        response = await proof(client, world, deadline_id, "admin")
        assert response.status_code == 404 and response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

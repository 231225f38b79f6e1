"""Entering an enforcement case: who may, what is checked, when an entry is timely on the
working calendar, and that a number is entered once per agency."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tests.conftest import error_codes
from tests.enforcement.helpers import DECIDED, DUE, ENTERPRISE, PERSON, record, recorded, today_is


async def test_a_liaison_enters_a_case_due_on_the_seventh_working_day_after_the_decision(client, world, monkeypatch):
    case = await recorded(client, world, monkeypatch, on=DUE)
    assert case["caseNumber"] == "自然资罚〔2025〕1号"
    assert case["kind"] == "PENALTY" and case["domain"] == {"code": "ECOLOGY_RESOURCES"}
    assert case["amount"] == "12345.60" and case["decidedOn"] == DECIDED.isoformat()
    assert case["agency"]["name"] == "机关A"
    assert case["enteredOn"] == DUE.isoformat()
    assert case["entryDueOn"] == DUE.isoformat()  # the holiday skipped, the adjusted Saturday counted
    assert case["enteredOnTime"] is True and case["entryWorkingDaysLate"] == 0
    assert case["entryRuleVersion"] == "2023.1" and "2025" in case["entryCalendarVersion"]
    assert case["location"] is None


async def test_a_late_entry_says_by_how_many_working_days(client, world, monkeypatch):
    # Monday 20 October: Friday 17 and Monday 20 are the working days after the due date.
    case = await recorded(client, world, monkeypatch, on=date(2025, 10, 20))
    assert case["entryDueOn"] == DUE.isoformat()
    assert case["enteredOnTime"] is False and case["entryWorkingDaysLate"] == 2
    # Entered on the Saturday after: late by one working day (Friday 17).
    case = await recorded(client, world, monkeypatch, on=date(2025, 10, 18), caseNumber="自然资罚〔2025〕2号")
    assert case["enteredOnTime"] is False and case["entryWorkingDaysLate"] == 1


async def test_the_parties_identity_numbers_are_stored_only_protected(client, world, monkeypatch, resources):
    case = await recorded(client, world, monkeypatch)
    assert [party["name"] for party in case["parties"]] == ["示例建材有限公司", "甲某"]
    assert case["parties"][1]["idNumber"] == PERSON[:4] + "*" * 10 + PERSON[-4:]  # masked for the agency
    async with resources.session_factory() as session:
        rows = (await session.execute(text("SELECT id_number_ciphertext, id_number_masked, id_number_index, uscc "
                                           "FROM enforcement_party ORDER BY position"))).all()
    assert rows[0].uscc == ENTERPRISE and rows[0].id_number_ciphertext is None
    assert PERSON.encode() not in rows[1].id_number_ciphertext and len(rows[1].id_number_index) == 64


async def test_a_number_is_entered_once_per_agency(client, world, monkeypatch):
    await recorded(client, world, monkeypatch)
    with today_is(monkeypatch, DUE):
        again = await record(client, world)
        assert error_codes(again) == ["CONFLICT"]
        assert again["errors"][0]["extensions"]["field"] == "caseNumber"
        other_agency = await record(client, world, "liaison-b")  # another agency's numbering
    assert "errors" not in other_agency, other_agency


@pytest.mark.parametrize("user", ["prosecutor-1", "prosecutor-city", "assessor-1", "admin"])
async def test_only_agency_liaisons_enter_cases(client, world, monkeypatch, user):
    with today_is(monkeypatch, DUE):
        body = await record(client, world, user)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None


@pytest.mark.parametrize(("overrides", "code", "field"), [
    ({"amount": "-1"}, "VALIDATION", "amount"),
    ({"amount": "10.005"}, "VALIDATION", "amount"),
    ({"domain": "NO_SUCH_DOMAIN"}, "VALIDATION", "domain"),
    ({"decidedOn": "2025-10-17"}, "VALIDATION", "decidedOn"),  # after today
    ({"caseNumber": "  "}, "VALIDATION", "caseNumber"),
    ({"summary": ""}, "VALIDATION", "summary"),
    ({"parties": [{"kind": "PERSON", "name": "乙某", "idNumber": PERSON[:-1] + "0"}]}, "VALIDATION",
     "parties.0.idNumber"),
    ({"location": {"type": "Point", "coordinates": [200, 34]}}, "INVALID_GEOMETRY", "location"),
])
async def test_an_invalid_entry_is_refused_with_its_field(client, world, monkeypatch, overrides, code, field):
    with today_is(monkeypatch, DUE):
        body = await record(client, world, **overrides)
    assert error_codes(body) == [code], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert PERSON[:-1] not in body["errors"][0]["message"]


async def test_a_location_is_converted_from_its_coordinate_system(client, world, monkeypatch):
    case = await recorded(client, world, monkeypatch, location={"type": "Point", "coordinates": [113.2, 34.5]},
                          crs="GCJ02")
    longitude, latitude = case["location"]["coordinates"]
    assert case["location"]["type"] == "Point"
    # GCJ-02 is offset by some hundreds of metres here: the stored WGS84 point is not the input.
    assert 0.001 < abs(longitude - 113.2) < 0.01 and 0.0005 < abs(latitude - 34.5) < 0.01

"""Importing enforcement cases from CSV and XLSX: all rows or none, every problem by row and
column, idempotent re-imports, conflicts with what the agency entered before, and the template."""

from __future__ import annotations

import csv
import io
import time
from datetime import date

import openpyxl
import pytest
from sqlalchemy import text

from enforcement.importer import COLUMNS
from tests.conftest import error_codes, graphql, graphql_upload
from tests.enforcement.helpers import DECIDED, DUE, ENTERPRISE, PERSON, listed, recorded, today_is

IMPORT = """mutation($file: Upload!) { importEnforcementCases(file: $file) {
  accepted rows created unchanged errorCount errors { row column code message } } }"""
HEADERS = [column.header for column in COLUMNS]
KEYS = [column.key for column in COLUMNS]


def row(number: str, **values) -> dict:
    base = {"case_number": number, "kind": "PENALTY", "domain": "ECOLOGY_RESOURCES",
            "decided_on": DECIDED.isoformat(), "amount": "1000.50", "summary": "非法占用耕地",
            "party_kind": "PERSON", "party_name": "甲某", "party_id_number": PERSON}
    base.update(values)
    return base


def csv_file(rows: list[dict], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for values in rows:
        writer.writerow([values.get(key, "") for key in KEYS])
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows: list[dict]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for values in rows:
        cells = []
        for key in KEYS:
            value = values.get(key)
            if key == "decided_on" and value:
                value = date.fromisoformat(value)  # a real date cell, as Excel keeps it
            elif key in ("amount", "longitude", "latitude") and value:
                value = float(value)
            cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(client, world, content: bytes, name: str = "cases.csv", user: str = "liaison-a") -> dict:
    response = await graphql_upload(client, IMPORT, {"file": None}, {"variables.file": (name, content, "text/csv")},
                                    world.tokens[user])
    assert response.status_code == 200, response.text
    return response.json()


async def imported(client, world, monkeypatch, content: bytes, name: str = "cases.csv", user: str = "liaison-a",
                   on: date = DUE) -> dict:
    with today_is(monkeypatch, on):
        body = await upload(client, world, content, name, user)
    assert "errors" not in body, body
    return body["data"]["importEnforcementCases"]


async def count(resources) -> tuple[int, int]:
    async with resources.session_factory() as session:
        return ((await session.scalar(text("SELECT count(*) FROM enforcement_case"))),
                (await session.scalar(text("SELECT count(*) FROM enforcement_party"))))


GOOD = [row("罚-1"), row("罚-2", kind="行政检查", amount="", party_kind="ENTERPRISE", party_name="示例公司",
                       party_id_number="", party_uscc=ENTERPRISE),
        row("罚-3", party_name="", party_kind="", party_id_number="", longitude="113.2", latitude="34.5",
            crs="GCJ02")]


@pytest.mark.parametrize(("name", "make"), [("cases.csv", csv_file), ("cases.xlsx", xlsx_file)])
async def test_a_file_is_imported_whole_and_a_second_time_changes_nothing(client, world, monkeypatch, resources,
                                                                          name, make):
    content = make(GOOD)
    report = await imported(client, world, monkeypatch, content, name)
    assert report == {"accepted": True, "rows": 3, "created": 3, "unchanged": 0, "errorCount": 0, "errors": []}
    assert await count(resources) == (3, 2)
    page = await listed(client, world, "prosecutor-1", {"party": {"idNumber": PERSON}})
    assert [edge["node"]["parties"][0]["idNumber"] for edge in page["edges"]] == [PERSON]
    assert {edge["node"]["enteredOnTime"] for edge in (await listed(client, world, "liaison-a"))["edges"]} == {True}

    again = await imported(client, world, monkeypatch, content, name, on=date(2025, 10, 20))
    assert again == {"accepted": True, "rows": 3, "created": 0, "unchanged": 3, "errorCount": 0, "errors": []}
    assert await count(resources) == (3, 2)
    # The first entry's date and timeliness stand.
    assert {edge["node"]["enteredOnTime"] for edge in (await listed(client, world, "liaison-a"))["edges"]} == {True}


async def test_a_case_entered_by_hand_and_then_imported_unchanged_is_not_entered_twice(client, world, monkeypatch):
    await recorded(client, world, monkeypatch, caseNumber="罚-1", amount="1000.50", summary="非法占用耕地",
                   parties=[{"kind": "PERSON", "name": "甲某", "idNumber": PERSON}])
    report = await imported(client, world, monkeypatch, csv_file(GOOD[:1]))
    assert (report["created"], report["unchanged"]) == (0, 1)


async def test_every_problem_is_reported_by_row_and_column_and_nothing_is_written(client, world, monkeypatch,
                                                                                 resources):
    rows = [row("罚-1"),
            row("", kind="罚款", decided_on="2025-13-01"),
            row("罚-3", amount="-5", domain="NOPE", party_id_number=PERSON[:-1] + "0"),
            row("罚-4", longitude="113.2", latitude=""),
            row("罚-5", summary="", party_name="", party_kind="", party_id_number="")]
    report = await imported(client, world, monkeypatch, csv_file(rows))
    assert report["accepted"] is False and report["created"] == 0 and report["rows"] == 5
    found = {(error["row"], error["column"], error["code"]) for error in report["errors"]}
    assert found == {(3, "case_number", "VALIDATION"), (3, "kind", "VALIDATION"), (3, "decided_on", "VALIDATION"),
                     (4, "amount", "VALIDATION"), (4, "domain", "VALIDATION"), (4, "party_id_number", "VALIDATION"),
                     (5, "longitude", "VALIDATION"), (6, "summary", "VALIDATION")}
    assert report["errorCount"] == len(found)
    assert all(PERSON[:-1] not in error["message"] for error in report["errors"])
    assert await count(resources) == (0, 0)


async def test_a_changed_row_for_an_entered_number_is_a_conflict_of_that_row(client, world, monkeypatch, resources):
    await imported(client, world, monkeypatch, csv_file(GOOD))
    changed = [row("罚-9"), GOOD[1], row("罚-1", amount="2000.00")]
    report = await imported(client, world, monkeypatch, csv_file(changed))
    assert report["accepted"] is False
    assert [(error["row"], error["column"], error["code"]) for error in report["errors"]] == [
        (4, "case_number", "CONFLICT")]
    assert await count(resources) == (3, 2)  # 罚-9 was not written either


async def test_one_number_twice_in_a_file_with_other_content_is_a_conflict(client, world, monkeypatch, resources):
    report = await imported(client, world, monkeypatch, csv_file([row("罚-1"), row("罚-1", summary="另一案")]))
    assert [(error["row"], error["code"]) for error in report["errors"]] == [(3, "CONFLICT")]
    same_twice = await imported(client, world, monkeypatch, csv_file([row("罚-1"), row("罚-1")]))
    assert (same_twice["accepted"], same_twice["created"], same_twice["unchanged"]) == (True, 1, 1)


async def test_numbers_are_per_agency_in_imports_too(client, world, monkeypatch, resources):
    await imported(client, world, monkeypatch, csv_file(GOOD))
    other = await imported(client, world, monkeypatch, csv_file([row("罚-1", amount="1.00")]), user="liaison-b")
    assert (other["accepted"], other["created"]) == (True, 1)
    assert (await listed(client, world, "liaison-b"))["totalCount"] == 1


async def test_a_csv_saved_by_excel_in_gb18030_is_read(client, world, monkeypatch):
    report = await imported(client, world, monkeypatch, csv_file(GOOD, encoding="gb18030"))
    assert report["created"] == 3


async def test_a_file_without_the_template_header_is_refused(client, world, monkeypatch):
    with today_is(monkeypatch, DUE):
        body = await upload(client, world, "编号,类型\n1,2\n".encode())
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "file"


@pytest.mark.parametrize("user", ["prosecutor-1", "assessor-1", "admin"])
async def test_only_agency_liaisons_import(client, world, monkeypatch, resources, user):
    with today_is(monkeypatch, DUE):
        body = await upload(client, world, csv_file(GOOD), user=user)
    assert error_codes(body) == ["FORBIDDEN"]
    assert await count(resources) == (0, 0)


async def test_the_file_must_be_an_upload(client, world):
    body = await graphql(client, IMPORT, {"file": "罚-1,PENALTY"}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"]


async def test_five_thousand_rows_import_in_one_go(client, world, monkeypatch, resources):
    rows = [row(f"批-{serial}", amount=f"{serial}.00",
                party_name=f"当事人{serial}", party_id_number="" if serial % 2 else PERSON)
            for serial in range(5000)]
    content = xlsx_file(rows)
    started = time.monotonic()
    report = await imported(client, world, monkeypatch, content, "bulk.xlsx")
    elapsed = time.monotonic() - started
    assert (report["accepted"], report["created"]) == (True, 5000)
    assert await count(resources) == (5000, 5000)
    assert elapsed < 30, elapsed  # ~100k rows a minute with room to spare on a shared CI machine
    page = await listed(client, world, "prosecutor-1", {"amountMin": "4990"})
    assert page["totalCount"] == 10


async def test_the_templates_carry_the_columns_in_chinese_with_their_keys(client, world, monkeypatch):
    headers = {"Authorization": f"Bearer {world.tokens['liaison-a']}"}
    response = await client.get("/enforcement-cases/template.xlsx", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [cell.value for cell in workbook.worksheets[0][1]] == HEADERS
    assert "案件编号 case_number" in HEADERS
    notes = [row[0] for row in workbook.worksheets[1].iter_rows(values_only=True)]
    assert "PENALTY" in notes and "ECOLOGY_RESOURCES" in notes

    # The template filled in imports as it is.
    sheet = workbook.worksheets[0]
    sheet.append(["模板-1", "行政处罚", "ECOLOGY_RESOURCES", DECIDED, 300, "摘要"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert (await imported(client, world, monkeypatch, buffer.getvalue(), "filled.xlsx"))["created"] == 1

    response = await client.get("/enforcement-cases/template.csv", headers=headers)
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").strip() == ",".join(HEADERS)


async def test_the_templates_need_a_sign_in(client):
    for suffix in ("xlsx", "csv"):
        response = await client.get(f"/enforcement-cases/template.{suffix}")
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("name", "content"), [
    ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 200),  # looks like a zip, is not one
    ("huge-field.csv", ",".join(HEADERS).encode() + b"\nx-1,PENALTY,D,2025-01-01,1," + b"x" * 200_000 + b"\n"),
])
async def test_a_damaged_file_is_refused_as_such(client, world, monkeypatch, resources, name, content):
    with today_is(monkeypatch, DUE):
        body = await upload(client, world, content, name)
    assert error_codes(body) == ["VALIDATION"], body
    assert body["errors"][0]["extensions"]["field"] == "file"
    assert await count(resources) == (0, 0)


async def test_a_nul_character_is_reported_where_it_is(client, world, monkeypatch, resources):
    report = await imported(client, world, monkeypatch, csv_file([row("罚-1", summary="摘\x00要")]))
    assert [(error["row"], error["column"]) for error in report["errors"]] == [(2, "summary")]
    assert await count(resources) == (0, 0)


async def test_a_package_that_unpacks_past_the_limit_is_refused_before_it_is_decoded(client, world, monkeypatch,
                                                                                     resources):
    import zipfile

    from enforcement import importer

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/worksheets/sheet1.xml", b"\x00" * (2 * 2**20))
    monkeypatch.setattr(importer, "MAX_UNPACKED_BYTES", 2**20)
    with today_is(monkeypatch, DUE):
        body = await upload(client, world, buffer.getvalue(), "bomb.xlsx")
    assert error_codes(body) == ["VALIDATION"] and "MiB" in body["errors"][0]["message"]

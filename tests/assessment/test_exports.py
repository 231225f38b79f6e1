"""CSV and XLSX exports of the scores with every record behind them, in the caller's scope."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.assessment.fixture import build

HEADER_START = ["机关 Agency", "统一社会信用代码 USCC", "总分 Score", "排名 Rank"]


@pytest.fixture
async def quarter(client, world, monkeypatch, rubric):
    return await build(client, world, monkeypatch)


async def download(client, world, user: str | None, path: str):
    headers = {"Authorization": f"Bearer {world.tokens[user]}"} if user else {}
    return await client.get(path, headers=headers)


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_csv_lists_every_record_behind_every_score(client, world, quarter):
    rows = csv_rows(await download(client, world, "assessor-1", "/assessment/2025/4.csv"))
    assert {row["机关 Agency"] for row in rows} == {"机关A", "机关B"}
    b_replies = [(row["记录编号 Reference"], row["期限 Due"], row["完成日 Done"], row["按期 On time"],
                  row["逾期工作日 Working days late"])
                 for row in rows if row["机关 Agency"] == "机关B" and row["指标 Indicator"] == "REPLY_ON_TIME"]
    assert b_replies == [(quarter["R1"], "2025-10-20", "2025-10-15", "True", "0"),
                         (quarter["R2"], "2025-11-18", "2025-11-21", "False", "3"),
                         (quarter["R3"], "2025-12-16", "", "False", "11")]
    b_first = next(row for row in rows if row["机关 Agency"] == "机关B")
    assert (b_first["总分 Score"], b_first["排名 Rank"], b_first["细则版本 Rubric"]) == ("35.00", "1", "2026.1")
    # An indicator without records still has its row.
    b_enforcement = [row for row in rows if row["机关 Agency"] == "机关B"
                     and row["指标 Indicator"] == "ENFORCEMENT_TIMELINESS"]
    assert len(b_enforcement) == 1 and b_enforcement[0]["记录编号 Reference"] == ""
    assert b_enforcement[0]["得分 Points"] == "20.00"


async def test_xlsx_holds_the_same_rows(client, world, quarter):
    response = await download(client, world, "assessor-1", "/assessment/2025/4.xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][:4] == HEADER_START
    expected = csv_rows(await download(client, world, "assessor-1", "/assessment/2025/4.csv"))
    assert len(values) - 1 == len(expected)
    assert {row[0] for row in values[1:]} == {"机关A", "机关B"}


@pytest.mark.parametrize(("user", "agencies"), [
    ("liaison-a", {"机关A"}), ("liaison-b", {"机关B"}), ("prosecutor-2", {"机关C"}),
    ("admin", {"机关A", "机关B", "机关C"})])
async def test_exports_honour_the_scope(client, world, quarter, user, agencies):
    rows = csv_rows(await download(client, world, user, "/assessment/2025/4.csv"))
    assert {row["机关 Agency"] for row in rows} == agencies
    if user == "liaison-a":  # none of B's recommendations reach A's file
        assert not {quarter["R1"], quarter["R2"], quarter["R3"]} & {row["记录编号 Reference"] for row in rows}


async def test_the_year_export(client, world, quarter):
    rows = csv_rows(await download(client, world, "assessor-1", "/assessment/2025.csv"))
    assert any(row["指标 Indicator"] == "CLUE_REFERRAL" and row["指标值 Value"] == "0.6250" for row in rows)


async def test_export_refusals(client, world, quarter):
    response = await download(client, world, None, "/assessment/2025/4.csv")
    assert response.status_code == 401 and response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await download(client, world, "assessor-1", "/assessment/2025/7.csv")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "quarter"}
    response = await download(client, world, "assessor-1", "/assessment/2025/4.pdf")
    assert response.status_code == 404 and response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

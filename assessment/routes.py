"""Exports of the scores with their explanations, in the caller's scope, authorised like GraphQL:
`GET /assessment/{year}.csv|.xlsx` (the year) and `/assessment/{year}/{quarter}.csv|.xlsx`.

One row per record behind an indicator (an indicator without records still has its row), each
carrying the agency's total and rank and the indicator's value, score and weight, so a reader can
check every score by hand from the file alone."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import Response
from openpyxl import Workbook

from app.http import answer_as_principal, error_response
from assessment import service
from assessment.types import _note
from core.errors import NotFound

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("机关 Agency", "统一社会信用代码 USCC", "总分 Score", "排名 Rank", "冻结 Frozen", "细则版本 Rubric",
          "指标 Indicator", "指标值 Value", "得分 Points", "权重 Weight", "说明 Summary",
          "记录编号 Reference", "关联 Related", "起算日 Started", "期限 Due", "完成日 Done", "按期 On time",
          "逾期工作日 Working days late", "备注 Note")


def _cell(value):
    return "" if value is None else value


def rows(found: list[service.ExportRow]):
    for row in found:
        result = row.result
        head = (row.agency.name, row.agency.uscc, str(result.total), result.rank, result.frozen,
                result.rubric_version)
        for item in result.indicators:
            indicator = (item.code.value, _cell(item.value and str(item.value)), str(item.score), item.weight,
                         item.summary)
            records = row.records[item.code]
            if not records:
                yield head + indicator + ("",) * 8
            for record in records:
                yield head + indicator + (
                    record.reference, _cell(record.related), _cell(record.started_on and record.started_on.isoformat()),
                    _cell(record.due_on and record.due_on.isoformat()),
                    _cell(record.done_on and record.done_on.isoformat()), _cell(record.on_time),
                    _cell(record.working_days_late), _note(record))


def _name(year: int, quarter: int | None, suffix: str) -> str:
    return f"assessment-{year}{f'-Q{quarter}' if quarter else ''}.{suffix}"


def to_csv(found: list[service.ExportRow]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows(found))
    return ("\ufeff" + text.getvalue()).encode("utf-8")  # the BOM makes Excel read it as UTF-8


def to_xlsx(found: list[service.ExportRow]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("考核 Assessment")
    sheet.append(HEADER)
    for row in rows(found):
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def _export(request: Request, year: int, quarter: int | None, suffix: str) -> Response:
    async def work(session, principal) -> Response:
        found = await service.export(session, principal=principal, year=year, quarter=quarter)
        content, media_type = (to_csv(found), "text/csv; charset=utf-8") if suffix == "csv" else (to_xlsx(found), XLSX)
        return Response(content, media_type=media_type, headers={
            "Content-Disposition": f"attachment; filename={_name(year, quarter, suffix)}"})

    return await answer_as_principal(request, work)


def _parsed(name: str) -> tuple[int, str] | None:
    stem, _, suffix = name.rpartition(".")
    if suffix not in ("csv", "xlsx") or not stem.isdigit() or len(stem) > 4:
        return None
    return int(stem), suffix


@router.get("/assessment/{year_file}", include_in_schema=False)
async def export_year(year_file: str, request: Request) -> Response:
    if (parsed := _parsed(year_file)) is None:
        return error_response(NotFound())
    return await _export(request, parsed[0], None, parsed[1])


@router.get("/assessment/{year}/{quarter_file}", include_in_schema=False)
async def export_quarter(year: str, quarter_file: str, request: Request) -> Response:
    if (parsed := _parsed(quarter_file)) is None or not year.isdigit() or len(year) > 4:
        return error_response(NotFound())
    return await _export(request, int(year), parsed[0], parsed[1])

"""The import template: the sheet an agency fills in (the columns of enforcement.importer, headed
in Chinese with the English key the importer reads) and a sheet of notes, written with openpyxl;
the same header as a CSV."""

from __future__ import annotations

import csv
import io

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from enforcement.importer import COLUMNS, KIND_NAMES
from enforcement.models import EnforcementKind
from geo.geometry import CoordinateSystem


def template_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.header for column in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read it as UTF-8


def template_xlsx(domains: list[tuple[str, str]]) -> bytes:
    """The import sheet (headers only, Chinese with the English key) and a sheet of notes: what
    each column takes, the kinds, domains and coordinate systems."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "执法案件 enforcement_cases"
    sheet.append([column.header for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.header) + 4)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明 notes")
    notes.append(["列 column", "必填 required", "说明 note"])
    for column in COLUMNS:
        notes.append([column.header, "是 yes" if column.required else "否 no", column.note])
    notes.append([])
    notes.append(["案件类型 kind"])
    names = {kind: name for name, kind in KIND_NAMES.items()}
    for kind in EnforcementKind:
        notes.append([kind.value, names.get(kind, "")])
    notes.append([])
    notes.append(["领域 domain"])
    for code, name in domains:
        notes.append([code, name])
    notes.append([])
    notes.append(["坐标系 crs"])
    for crs in CoordinateSystem:
        notes.append([crs.value])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def domain_names(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(text("SELECT code, name_zh FROM referral_domain WHERE is_active "
                                      "ORDER BY sort_order, code"))
    return [(code, name) for code, name in rows]


"""Importing an agency's enforcement cases from a CSV or XLSX file: all or nothing, with every
problem reported by row and column, and idempotent (a case number the agency already has with
the same content is left as it is; with other content it is a CONFLICT of that row).

The upload is streamed to a temporary file as it arrives (never held in memory) and read from
there: CSV row by row with the standard library; XLSX with python-calamine (Rust's calamine), which
decodes the first sheet's cells once, in native memory, and hands them over row by row. openpyxl
in read-only mode streams with constant memory but took 45 s for 100k rows of 14 columns against
calamine's 2 s, and an import must finish within a minute; the decoded sheet costs ~1.2 kB a row
(about 120 MB for 100k rows). Checked rows go in batches by COPY into a temporary staging table;
once the whole file is known to be good, one statement compares it with what the agency has and
inserts the new cases and their parties. The template is in enforcement.template."""

from __future__ import annotations

import asyncio
import codecs
import csv
import itertools
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from python_calamine import CalamineError, CalamineWorkbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from core import clock, unit_of_work
from core.db import utcnow
from core.errors import AppError, PayloadTooLarge, ValidationFailed
from core.permissions import require
from deadlines.service import lock_calendar
from enforcement.models import EnforcementKind
from enforcement.service import (
    CheckedEntry,
    EntryClock,
    active_domains,
    checked_amount,
    checked_case_number,
    checked_decided_on,
    checked_domain,
    checked_location,
    checked_summary,
    lock_agency_entries,
)
from evidence.service import FileSource
from geo.geometry import CoordinateSystem
from parties.protection import IdentityProtection
from parties.service import PartyData, PartyKind, protect_parties


@dataclass(frozen=True)
class Column:
    key: str
    title_zh: str
    required: bool = False
    note: str = ""

    @property
    def header(self) -> str:
        return f"{self.title_zh} {self.key}"


COLUMNS = (
    Column("case_number", "案件编号", True, "本机关的执法文书编号，在本机关内唯一"),
    Column("kind", "案件类型", True, "见“说明”页：PENALTY 行政处罚 等，代码或中文均可"),
    Column("domain", "领域", True, "领域代码，见“说明”页"),
    Column("decided_on", "决定日期", True, "YYYY-MM-DD"),
    Column("amount", "金额（元）", False, "罚没等金额，元，最多两位小数"),
    Column("summary", "案情摘要", True, ""),
    Column("party_kind", "当事人类型", False, "PERSON 自然人 / ENTERPRISE 单位"),
    Column("party_name", "当事人名称", False, ""),
    Column("party_id_number", "公民身份号码", False, "自然人，18位"),
    Column("party_uscc", "统一社会信用代码", False, "单位，18位"),
    Column("party_role", "当事人角色", False, "如 违法行为人、法定代表人"),
    Column("longitude", "经度", False, "地点（可选），与纬度同填"),
    Column("latitude", "纬度", False, ""),
    Column("crs", "坐标系", False, "WGS84（默认）、CGCS2000、GCJ02、BD09"),
)
KEYS = {column.key for column in COLUMNS}
KIND_NAMES = {"行政处罚": EnforcementKind.PENALTY, "行政强制措施": EnforcementKind.COMPULSORY_MEASURE,
              "行政强制执行": EnforcementKind.COMPULSORY_EXECUTION, "行政检查": EnforcementKind.INSPECTION,
              "吊销许可证照": EnforcementKind.LICENCE_REVOCATION, "责令改正": EnforcementKind.ORDER_TO_RECTIFY,
              "其他": EnforcementKind.OTHER}
PARTY_KIND_NAMES = {"自然人": PartyKind.PERSON, "个人": PartyKind.PERSON, "单位": PartyKind.ENTERPRISE,
                    "企业": PartyKind.ENTERPRISE}
# What the spreadsheet column names a field the checks call by its API name.
API_FIELDS = {"caseNumber": "case_number", "decidedOn": "decided_on", "summary": "summary", "amount": "amount",
              "domain": "domain", "location": "longitude"}

MAX_ROWS = 200_000
# 200k rows of the template unpack to ~150 MB of sheet XML; far more is not an enforcement register.
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_REPORTED_ERRORS = 1000
BATCH_ROWS = 5000
CHUNK_BYTES = 1 << 20
_HEADER_KEY = re.compile(r"([a-z_]+)\s*$")


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str | None  # the column's key; None for a problem of the whole row or file
    code: str
    message: str


@dataclass
class ImportReport:
    accepted: bool
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


# ---- reading the file -------------------------------------------------------------------------

async def spool(source: FileSource, max_bytes: int) -> str:
    """The upload written to a temporary file, chunk by chunk as it arrives; its path."""
    await source.open()
    handle, path = tempfile.mkstemp(prefix="enforcement-import-")
    size = 0
    try:
        with os.fdopen(handle, "wb") as file:
            async for chunk in source.chunks():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"文件超过 {max_bytes} 字节 / the file is larger than {max_bytes} bytes",
                                          field="file")
                file.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path


def _is_xlsx(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"PK\x03\x04" and zipfile.is_zipfile(path)


def _csv_encoding(path: str) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel in a Chinese locale saves a CSV as."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as file:
        try:
            while chunk := file.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _header_keys(cells: tuple) -> list[str | None]:
    keys = []
    for cell in cells:
        match = _HEADER_KEY.search(str(cell or "").strip())
        keys.append(match.group(1) if match and match.group(1) in KEYS else None)
    return keys


def read_rows(path: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(row number, {column key: value}) for each non-blank data row. Raises VALIDATION (field
    `file`) for a file that is neither, or a header without the required columns."""
    if _is_xlsx(path):
        _check_unpacked_size(path)
        try:
            sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
        except CalamineError as error:
            raise ValidationFailed("无法读取该 XLSX 文件 / the XLSX file cannot be read", field="file") from error
        if sheet.height > MAX_ROWS + 1:
            raise _too_many_rows()
        yield from _keyed(sheet.iter_rows())
        return
    with open(path, encoding=_csv_encoding(path), newline="") as file:
        reader = csv.reader(file)
        try:
            yield from _keyed(reader)
        except csv.Error as error:  # e.g. a field past the size limit
            raise ValidationFailed(f"CSV 第 {reader.line_num} 行无法解析 / CSV line {reader.line_num} cannot be "
                                   f"read: {error}", field="file") from error


def _too_many_rows() -> ValidationFailed:
    return ValidationFailed(f"一次最多导入 {MAX_ROWS} 行 / at most {MAX_ROWS} rows per import", field="file")


def _check_unpacked_size(path: str) -> None:
    """Refuse a package that would unpack to more than MAX_UNPACKED_BYTES (a zip bomb) before
    anything decodes it: calamine holds the decoded sheet in memory."""
    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(member.file_size for member in package.infolist())
    except zipfile.BadZipFile as error:
        raise ValidationFailed("无法读取该 XLSX 文件 / the XLSX file cannot be read", field="file") from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationFailed(f"XLSX 解压后超过 {MAX_UNPACKED_BYTES // 2**20} MiB / the XLSX unpacks to more than "
                               f"{MAX_UNPACKED_BYTES // 2**20} MiB", field="file")


def _keyed(rows) -> Iterator[tuple[int, dict[str, object]]]:
    header = next(iter(rows), None)
    keys = _header_keys(tuple(header or ()))
    missing = [column.header for column in COLUMNS if column.required and column.key not in keys]
    if missing:
        raise ValidationFailed(f"表头缺少列：{'、'.join(missing)} / the header lacks: {', '.join(missing)} "
                               "(use the template)", field="file")
    for number, cells in enumerate(rows, start=2):
        values = {key: _cell(value) for key, value in zip(keys, cells, strict=False) if key is not None}
        if any(value is not None for value in values.values()):
            yield number, values


def _cell(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _next_rows(rows: Iterator, count: int) -> list:
    return list(itertools.islice(rows, count))


# ---- checking a row ---------------------------------------------------------------------------

def _as_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text_value = str(value).replace("/", "-").replace(".", "-")
    try:
        year, month, day = (int(part) for part in text_value.split("-"))
        return date(year, month, day)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD / a date is written YYYY-MM-DD", field="decidedOn") from None


def _as_enum(value: object, enum_class, names: dict, column: str):
    text_value = str(value or "").strip()
    if text_value in names:
        return names[text_value]
    try:
        return enum_class(text_value.upper())
    except ValueError:
        allowed = ", ".join(member.value for member in enum_class)
        raise ValidationFailed(f"无效的取值 {text_value!r} / not one of {allowed}", field=column) from None


def _as_float(value: object, column: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationFailed("应为数字 / must be a number", field=column) from None


class RowChecker:
    def __init__(self, domains: set[str], protection: IdentityProtection):
        self.domains = domains
        self.protection = protection

    def check(self, values: dict[str, object], report: ImportReport, row: int) -> CheckedEntry | None:
        """The row as a checked entry, or None with each column's problem added to `report`."""
        problems = 0

        def attempt(column: str, check):
            nonlocal problems
            try:
                return check()
            except AppError as error:
                problems += 1
                report.add(RowError(row=row, column=_column_of(error.field, column), code=error.code,
                                    message=error.message))
                return None

        for column, value in values.items():
            if isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold one
                problems += 1
                report.add(RowError(row=row, column=column, code=ValidationFailed.code,
                                    message="含有空字符（NUL）/ contains a NUL character"))
        get = values.get
        case_number = attempt("case_number", lambda: checked_case_number(_text(get("case_number"))))
        kind = attempt("kind", lambda: _as_enum(get("kind"), EnforcementKind, KIND_NAMES, "kind"))
        domain = attempt("domain", lambda: checked_domain(_text(get("domain")), self.domains))
        decided_on = attempt("decided_on", lambda: checked_decided_on(_as_date(get("decided_on"))))
        amount = attempt("amount", lambda: checked_amount(get("amount")))
        summary = attempt("summary", lambda: checked_summary(_text(get("summary"))))
        parties = attempt("party_name", lambda: self._parties(values))
        location = attempt("longitude", lambda: self._location(values))
        if problems:
            return None
        return CheckedEntry(case_number=case_number, kind=kind, domain_code=domain, decided_on=decided_on,
                            summary=summary, amount=amount, parties=parties, location=location)

    def _parties(self, values: dict[str, object]) -> tuple:
        name = _text(values.get("party_name"))
        others = [values.get(key) for key in ("party_kind", "party_id_number", "party_uscc", "party_role")]
        if name is None:
            if any(value is not None for value in others):
                raise ValidationFailed("填写了当事人信息但缺少名称 / a party needs a name", field="party_name")
            return ()
        kind = (_as_enum(values.get("party_kind"), PartyKind, PARTY_KIND_NAMES, "party_kind")
                if values.get("party_kind") is not None
                else PartyKind.ENTERPRISE if values.get("party_uscc") is not None else PartyKind.PERSON)
        party = PartyData(kind=kind, name=name, id_number=_text(values.get("party_id_number")),
                          uscc=_text(values.get("party_uscc")), role=_text(values.get("party_role")))
        return tuple(protect_parties((party,), self.protection))

    def _location(self, values: dict[str, object]):
        longitude, latitude = values.get("longitude"), values.get("latitude")
        if longitude is None and latitude is None:
            return None
        if longitude is None or latitude is None:
            raise ValidationFailed("经度和纬度须同时填写 / give both longitude and latitude", field="longitude")
        crs = _as_enum(values.get("crs") or "WGS84", CoordinateSystem, {}, "crs")
        point = {"type": "Point", "coordinates": [_as_float(longitude, "longitude"), _as_float(latitude, "latitude")]}
        return checked_location(point, crs)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # a number typed into a text column
        value = int(value)
    return str(value)


def _column_of(api_field: str | None, default: str) -> str:
    """The spreadsheet column a check's field names: parties.0.idNumber → party_id_number."""
    if api_field is None:
        return default
    if api_field.startswith("parties."):
        last = api_field.rsplit(".", 1)[-1]
        return {"idNumber": "party_id_number", "uscc": "party_uscc", "name": "party_name",
                "role": "party_role"}.get(last, default)
    return API_FIELDS.get(api_field, api_field if api_field in KEYS else default)


# ---- staging and writing ----------------------------------------------------------------------

STAGING = "enforcement_import"
STAGING_COLUMNS = ("row_number", "id", "case_number", "kind", "domain_code", "decided_on", "amount", "summary",
                   "longitude", "latitude", "entry_due_on", "entered_on_time", "entry_working_days_late",
                   "entry_calendar_version", "entry_provisional", "content_fingerprint", "party_kind",
                   "party_name", "party_role", "party_uscc", "party_id_ciphertext", "party_id_masked",
                   "party_id_index")
CREATE_STAGING = text(f"""
CREATE TEMPORARY TABLE {STAGING} (
    row_number integer, id uuid, case_number text, kind text, domain_code text, decided_on date,
    amount numeric(16, 2), summary text, longitude double precision, latitude double precision,
    entry_due_on date, entered_on_time boolean, entry_working_days_late integer, entry_calendar_version text,
    entry_provisional boolean, content_fingerprint text, party_kind text, party_name text, party_role text,
    party_uscc text, party_id_ciphertext bytea, party_id_masked text, party_id_index text
) ON COMMIT DROP""")
# Rows whose number the agency already has with other content.
CONFLICTS = text(f"""
SELECT s.row_number FROM {STAGING} s
JOIN enforcement_case e ON e.agency_id = :agency_id AND e.case_number = s.case_number
WHERE e.content_fingerprint <> s.content_fingerprint ORDER BY s.row_number LIMIT :limit""")
# The new cases and their parties in one statement; numbers the agency has (with the same
# content, as CONFLICTS has checked under the agency's lock) are left as they are.
INSERT = text(f"""
WITH inserted AS (
    INSERT INTO enforcement_case (id, agency_id, jurisdiction_id, case_number, kind, domain_code, decided_on,
        amount, summary, location, entered_on, entered_at, entry_due_on, entered_on_time, entry_working_days_late,
        entry_rule_version, entry_calendar_version, entry_provisional, content_fingerprint, actor_name,
        actor_user_id, actor_api_key_id)
    SELECT s.id, :agency_id, :jurisdiction_id, s.case_number, s.kind, s.domain_code, s.decided_on, s.amount,
        s.summary,
        CASE WHEN s.longitude IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326) END,
        :entered_on, :entered_at, s.entry_due_on, s.entered_on_time, s.entry_working_days_late, :rule_version,
        s.entry_calendar_version, s.entry_provisional, s.content_fingerprint, :actor_name, :actor_user_id,
        :actor_api_key_id
    FROM {STAGING} s
    WHERE NOT EXISTS (SELECT 1 FROM enforcement_case e WHERE e.agency_id = :agency_id
                      AND e.case_number = s.case_number)
    RETURNING id
), parties AS (
    INSERT INTO enforcement_party (id, enforcement_case_id, position, kind, name, role, uscc,
        id_number_ciphertext, id_number_masked, id_number_index)
    SELECT gen_random_uuid(), s.id, 0, s.party_kind, s.party_name, s.party_role, s.party_uscc,
        s.party_id_ciphertext, s.party_id_masked, s.party_id_index
    FROM {STAGING} s JOIN inserted i ON i.id = s.id
    WHERE s.party_name IS NOT NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM parties)""")
# An import may legitimately run longer than an ordinary request's statement limit.
IMPORT_STATEMENT_TIMEOUT = text("SET LOCAL statement_timeout = '120s'")


def _staged(row: int, entry: CheckedEntry, fingerprint: str, timeliness) -> tuple:
    party = entry.parties[0] if entry.parties else None
    point = entry.location
    return (row, uuid.uuid4(), entry.case_number, entry.kind.value, entry.domain_code, entry.decided_on,
            entry.amount, entry.summary, point.x if point is not None else None,
            point.y if point is not None else None, timeliness.due_on, timeliness.on_time,
            timeliness.working_days_late, timeliness.calendar_version, timeliness.provisional, fingerprint,
            party.kind.value if party else None, party.name if party else None, party.role if party else None,
            party.uscc if party else None, party.id_number_ciphertext if party else None,
            party.id_number_masked if party else None, party.id_number_index if party else None)


async def _copy(session: AsyncSession, records: list[tuple]) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(STAGING, records=records, columns=STAGING_COLUMNS)


async def import_enforcement_cases(session: AsyncSession, *, principal: Principal, source: FileSource,
                                   max_bytes: int, protection: IdentityProtection) -> ImportReport:
    """Import the file into the principal's agency (agency liaisons): every row is checked; if
    any row fails, nothing is written and the report says what is wrong where."""
    require(principal, Role.AGENCY_LIAISON)
    # Nothing is written yet: the connection goes back to the pool while the bytes arrive.
    await unit_of_work.checkpoint(session)
    path = await spool(source, max_bytes)
    try:
        return await _import(session, principal, path, protection)
    finally:
        os.unlink(path)


async def _import(session: AsyncSession, principal: Principal, path: str,
                  protection: IdentityProtection) -> ImportReport:
    report = ImportReport(accepted=False)
    rows = read_rows(path)
    first = await asyncio.to_thread(_next_rows, rows, BATCH_ROWS)  # reads the header too: a bad one fails here
    await session.execute(IMPORT_STATEMENT_TIMEOUT)
    await lock_agency_entries(session, principal.agency_id)
    await lock_calendar(session)
    await session.execute(CREATE_STAGING)
    entered_on = clock.today()
    entry_clock = EntryClock(session, entered_on)
    checker = RowChecker(await active_domains(session), protection)
    numbers: dict[str, tuple[str, int]] = {}  # case number → (fingerprint, first row)
    batch: list[tuple] = []
    chunk = first
    while chunk:
        for row, values in chunk:
            report.rows += 1
            if report.rows > MAX_ROWS:
                raise _too_many_rows()
            entry = checker.check(values, report, row)
            if entry is None:
                continue
            fingerprint = entry.fingerprint()
            earlier = numbers.get(entry.case_number)
            if earlier is not None:
                if earlier[0] != fingerprint:
                    report.add(RowError(row=row, column="case_number", code="CONFLICT",
                                        message=f"与第 {earlier[1]} 行编号相同而内容不同 / the same case number as row "
                                                f"{earlier[1]} with other content"))
                else:
                    report.unchanged += 1  # the same case twice in the file: entered once
                continue
            numbers[entry.case_number] = (fingerprint, row)
            if report.error_count:
                continue  # nothing will be written: only the report is still of use
            batch.append(_staged(row, entry, fingerprint, await entry_clock.timeliness(entry.decided_on)))
        if batch and not report.error_count:
            await _copy(session, batch)
        batch = []
        chunk = await asyncio.to_thread(_next_rows, rows, BATCH_ROWS)
    if report.error_count:
        return report
    conflicts = await session.execute(CONFLICTS, {"agency_id": principal.agency_id, "limit": MAX_REPORTED_ERRORS})
    for (row,) in conflicts:
        report.add(RowError(row=row, column="case_number", code="CONFLICT",
                            message="本机关已录入该编号，内容不同 / your agency has already entered this case number "
                                    "with other content"))
    if report.error_count:
        return report
    jurisdiction_id = await session.scalar(
        text("SELECT jurisdiction_id FROM agency WHERE id = :id"), {"id": principal.agency_id})
    created, _ = (await session.execute(INSERT, {
        "agency_id": principal.agency_id, "jurisdiction_id": jurisdiction_id, "entered_on": entered_on,
        "entered_at": utcnow(), "rule_version": entry_clock.rule.version, "actor_name": principal.username,
        "actor_user_id": principal.user_id, "actor_api_key_id": principal.api_key_id})).one()
    await session.execute(text(f"DROP TABLE {STAGING}"))
    report.accepted = True
    report.created = created
    report.unchanged += len(numbers) - created
    return report

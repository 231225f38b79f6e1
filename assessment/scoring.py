"""The scores, computed in SQL from the other packages' records: one statement for every agency's
indicators, total and rank, and one per indicator for the records behind it (the explanation).

Both read the same record sets (`_RECORDS`), so the rows an explanation lists are exactly the rows
the score counted. What counts, for a period [start, end] assessed as at `as_of` (the end of the
period, or today while it runs):
- ENFORCEMENT_TIMELINESS: the agency's enforcement cases decided in the period; on time as fixed at
  entry (enforcement.models: within 7 working days of the decision).
- CLUE_REFERRAL: cases filed in the period from the agency's referrals, against its target.
- REPLY_ON_TIME: recommendations addressed to the agency whose reply deadline (deadlines package)
  fell due in the period and had passed, or been met, by `as_of`; on time when met by the due date.
- RECTIFICATION: the same recommendations, counted when a rectification check found them RECTIFIED
  by `as_of`. A reply is never a rectification.
- OVERDUE_UNREPLIED: of those, the ones still unanswered at `as_of`.
- LITIGATION: recommendations addressed to the agency whose case was brought to suit in the period.
Working days late are counted on the working calendar (deadlines: calendar_day), from the due date
to the reply, or to `as_of` while there is none."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.rubric import DEDUCTIONS, SCORED, IndicatorCode, Rubric
from core.clock import PLATFORM_TIMEZONE


@dataclass(frozen=True)
class Window:
    year: int
    quarter: int  # 0: the whole year
    start: date
    end: date
    as_of: date

    @property
    def quarters(self) -> int:
        return 4 if self.quarter == 0 else 1


def window(year: int, quarter: int, today: date) -> Window:
    """A quarter (1-4) or the year (0), assessed as at its end or today, whichever is earlier."""
    if quarter == 0:
        start, end = date(year, 1, 1), date(year, 12, 31)
    else:
        start = date(year, 3 * quarter - 2, 1)
        end = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) - timedelta(days=1)
    return Window(year=year, quarter=quarter, start=start, end=end, as_of=min(end, today))


# The working calendar as an ordinal per day from the period's start to `as_of`: the working days
# between two dates is the difference of their ordinals.
_WORKDAYS = """
workdays AS (
  SELECT d::date AS day, count(*) FILTER (WHERE working) OVER (ORDER BY d) AS ordinal
  FROM (SELECT d, CASE cd.kind WHEN 'HOLIDAY' THEN false WHEN 'ADJUSTED_WORKDAY' THEN true
                               ELSE extract(isodow FROM d) < 6 END AS working
        FROM generate_series(CAST(:start AS date), greatest(CAST(:as_of AS date), CAST(:start AS date)),
                             interval '1 day') AS d
        LEFT JOIN calendar_day cd ON cd.day = d::date) AS series)"""

_SCOPE = """
scope AS (SELECT id, jurisdiction_id, uscc FROM agency WHERE jurisdiction_id = ANY(:jurisdictions))"""

# Each record set: agency_id, reference, related, started_on, due_on, done_on, on_time (null when
# the indicator has no deadline), working_days_late, detail (a word the explanation translates).
_RECORDS = {
    IndicatorCode.ENFORCEMENT_TIMELINESS: """
enforcement_records AS (
  SELECT e.agency_id, e.case_number AS reference, e.kind AS related, e.decided_on AS started_on,
         e.entry_due_on AS due_on, e.entered_on AS done_on, e.entered_on_time AS on_time,
         e.entry_working_days_late AS working_days_late,
         CASE WHEN e.entry_provisional THEN 'PROVISIONAL' END AS detail
  FROM enforcement_case e JOIN scope s ON s.id = e.agency_id
  WHERE e.decided_on BETWEEN :start AND :end{agencies:e})""",
    IndicatorCode.CLUE_REFERRAL: """
referral_records AS (
  SELECT c.agency_id, coalesce(r.number, r.title) AS reference, c.number AS related,
         (r.submitted_at AT TIME ZONE :timezone)::date AS started_on, NULL::date AS due_on,
         c.filed_on AS done_on, NULL::boolean AS on_time, NULL::integer AS working_days_late,
         NULL::text AS detail
  FROM pil_case c JOIN scope s ON s.id = c.agency_id LEFT JOIN referral r ON r.id = c.referral_id
  WHERE c.referral_id IS NOT NULL AND c.filed_on BETWEEN :start AND least(CAST(:end AS date), CAST(:as_of AS date))
    {agencies:c})""",
    # The cohort of the reply, rectification and overdue records.
    IndicatorCode.REPLY_ON_TIME: """
due_replies AS (
  SELECT d.agency_id, d.subject_id AS recommendation_id, d.start_on, d.due_on,
         CASE WHEN d.met_on <= :as_of THEN d.met_on END AS replied_on, d.met_on
  FROM deadline d JOIN scope s ON s.id = d.agency_id
  WHERE d.subject_kind = 'RECOMMENDATION' AND d.rule_code IN ('RECOMMENDATION_REPLY', 'RECOMMENDATION_REPLY_URGENT')
    AND d.cancelled_on IS NULL AND d.due_on BETWEEN :start AND :end
    AND (d.met_on <= :as_of OR d.due_on < :as_of){agencies:d}),
reply_records AS (
  SELECT q.agency_id, r.number AS reference, CASE WHEN r.urgent THEN 'URGENT' END AS related,
         q.start_on AS started_on, q.due_on, q.met_on AS done_on,
         coalesce(q.replied_on <= q.due_on, false) AS on_time,
         CASE WHEN q.replied_on <= q.due_on THEN 0 ELSE done.ordinal - due.ordinal END AS working_days_late,
         CASE WHEN q.replied_on IS NULL THEN 'UNREPLIED' END AS detail,
         q.recommendation_id
  FROM due_replies q JOIN recommendation r ON r.id = q.recommendation_id
  LEFT JOIN workdays due ON due.day = q.due_on
  LEFT JOIN workdays done ON done.day = coalesce(q.replied_on, CAST(:as_of AS date)))""",
    IndicatorCode.RECTIFICATION: """
rectified AS (
  SELECT k.recommendation_id, min(k.checked_on) AS rectified_on
  FROM rectification_check k JOIN due_replies q ON q.recommendation_id = k.recommendation_id
  WHERE k.result = 'RECTIFIED' AND k.checked_on <= :as_of GROUP BY k.recommendation_id),
rectification_records AS (
  SELECT q.agency_id, q.reference, q.related, q.started_on, q.due_on, f.rectified_on AS done_on,
         f.rectified_on IS NOT NULL AS on_time, NULL::integer AS working_days_late,
         CASE WHEN f.rectified_on IS NOT NULL THEN 'RECTIFIED'
              WHEN q.detail = 'UNREPLIED' THEN 'UNREPLIED' ELSE 'NOT_VERIFIED' END AS detail
  FROM reply_records q LEFT JOIN rectified f ON f.recommendation_id = q.recommendation_id)""",
    IndicatorCode.OVERDUE_UNREPLIED: """
overdue_records AS (
  SELECT agency_id, reference, related, started_on, due_on, done_on, false AS on_time, working_days_late,
         detail
  FROM reply_records WHERE detail = 'UNREPLIED')""",
    IndicatorCode.LITIGATION: """
litigation_records AS (
  SELECT r.agency_id, r.number AS reference, c.number AS related, r.issued_on AS started_on,
         NULL::date AS due_on, c.litigation_filed_on AS done_on, NULL::boolean AS on_time,
         NULL::integer AS working_days_late, NULL::text AS detail
  FROM recommendation r JOIN scope s ON s.id = r.agency_id JOIN pil_case c ON c.id = r.case_id
  WHERE c.litigation_filed_on BETWEEN :start AND least(CAST(:end AS date), CAST(:as_of AS date)){agencies:r})""",
}
_NAMES = {IndicatorCode.ENFORCEMENT_TIMELINESS: "enforcement_records",
          IndicatorCode.CLUE_REFERRAL: "referral_records", IndicatorCode.REPLY_ON_TIME: "reply_records",
          IndicatorCode.RECTIFICATION: "rectification_records",
          IndicatorCode.OVERDUE_UNREPLIED: "overdue_records", IndicatorCode.LITIGATION: "litigation_records"}
# What each record set needs before it.
_NEEDS = {IndicatorCode.RECTIFICATION: (IndicatorCode.REPLY_ON_TIME,),
          IndicatorCode.OVERDUE_UNREPLIED: (IndicatorCode.REPLY_ON_TIME,)}
_USES_WORKDAYS = {IndicatorCode.REPLY_ON_TIME, IndicatorCode.RECTIFICATION, IndicatorCode.OVERDUE_UNREPLIED}


def _ctes(codes: tuple[IndicatorCode, ...], *, for_agencies: bool = False) -> str:
    """The record sets `codes` need; `for_agencies`: only the rows of the agencies in :agencies, a
    condition on each base table's own column so that an agency's explanation reads its index."""
    wanted: list[IndicatorCode] = []
    for code in codes:
        for needed in (*_NEEDS.get(code, ()), code):
            if needed not in wanted:
                wanted.append(needed)
    parts = [_SCOPE]
    if _USES_WORKDAYS & set(wanted):
        parts.append(_WORKDAYS)
    parts += [_RECORDS[code] for code in IndicatorCode if code in wanted]
    return re.sub(r"\{agencies:(\w)\}", lambda match: f" AND {match.group(1)}.agency_id = ANY(CAST(:agencies AS uuid[]))"
                  if for_agencies else "", "WITH" + ",".join(parts))


# Per agency: each indicator's counts, then value, score, total and rank. A ratio indicator with
# nothing in the period scores its full weight (nothing was owed); scores are rounded to 0.01.
_SCORES = _ctes(tuple(IndicatorCode)) + """,
counts AS (
  SELECT s.id AS agency_id, s.jurisdiction_id,
         coalesce((CAST(:targets AS jsonb) ->> s.uscc)::integer, CAST(:default_target AS integer))
           * CAST(:quarters AS integer) AS target,
         coalesce(e.n, 0) AS enforcement_n, coalesce(e.hits, 0) AS enforcement_hits,
         coalesce(e.late, 0) AS enforcement_late, coalesce(f.n, 0) AS referral_n,
         coalesce(p.n, 0) AS reply_n, coalesce(p.hits, 0) AS reply_hits, coalesce(p.late, 0) AS reply_late,
         coalesce(k.hits, 0) AS rectified_n, coalesce(o.n, 0) AS overdue_n, coalesce(l.n, 0) AS litigation_n
  FROM scope s
  LEFT JOIN (SELECT agency_id, count(*) AS n, count(*) FILTER (WHERE on_time) AS hits,
                    sum(working_days_late) AS late FROM enforcement_records GROUP BY agency_id) e ON e.agency_id = s.id
  LEFT JOIN (SELECT agency_id, count(*) AS n FROM referral_records GROUP BY agency_id) f ON f.agency_id = s.id
  LEFT JOIN (SELECT agency_id, count(*) AS n, count(*) FILTER (WHERE on_time) AS hits,
                    sum(working_days_late) AS late FROM reply_records GROUP BY agency_id) p ON p.agency_id = s.id
  LEFT JOIN (SELECT agency_id, count(*) FILTER (WHERE on_time) AS hits FROM rectification_records
             GROUP BY agency_id) k ON k.agency_id = s.id
  LEFT JOIN (SELECT agency_id, count(*) AS n FROM overdue_records GROUP BY agency_id) o ON o.agency_id = s.id
  LEFT JOIN (SELECT agency_id, count(*) AS n FROM litigation_records GROUP BY agency_id) l ON l.agency_id = s.id),
scored AS (
  SELECT *,
    CASE WHEN enforcement_n = 0 THEN CAST(:w_enforcement AS integer)
         ELSE round(CAST(:w_enforcement AS integer) * enforcement_hits::numeric / enforcement_n, 2) END AS enforcement_score,
    CASE WHEN target = 0 THEN CAST(:w_referral AS integer)
         ELSE round(CAST(:w_referral AS integer) * least(1, referral_n::numeric / target), 2) END AS referral_score,
    CASE WHEN reply_n = 0 THEN CAST(:w_reply AS integer) ELSE round(CAST(:w_reply AS integer) * reply_hits::numeric / reply_n, 2) END AS reply_score,
    CASE WHEN reply_n = 0 THEN CAST(:w_rectification AS integer)
         ELSE round(CAST(:w_rectification AS integer) * rectified_n::numeric / reply_n, 2) END AS rectification_score
  FROM counts),
totals AS (
  SELECT *, greatest(CAST(CAST(:floor AS integer) AS numeric), enforcement_score + referral_score + reply_score + rectification_score
                     - CAST(:d_overdue AS integer) * overdue_n - CAST(:d_litigation AS integer) * litigation_n) AS total
  FROM scored)
SELECT *, rank() OVER (PARTITION BY jurisdiction_id ORDER BY total DESC) AS rank FROM totals"""


@dataclass(frozen=True)
class IndicatorResult:
    code: IndicatorCode
    kind: str  # "SCORED" or "DEDUCTION"
    value: Decimal | None  # a share (0–1) of a ratio indicator, the count of the others
    score: Decimal  # a deduction's is negative
    weight: int  # the weight, or a deduction's points per record
    count: int  # the records behind it
    summary: str

    def as_json(self) -> dict:
        return {"code": self.code.value, "kind": self.kind, "value": None if self.value is None else str(self.value),
                "score": str(self.score), "weight": self.weight, "count": self.count, "summary": self.summary}

    @classmethod
    def from_json(cls, data: dict) -> IndicatorResult:
        return cls(code=IndicatorCode(data["code"]), kind=data["kind"],
                   value=None if data["value"] is None else Decimal(data["value"]), score=Decimal(data["score"]),
                   weight=data["weight"], count=data["count"], summary=data["summary"])


@dataclass(frozen=True)
class AgencyResult:
    agency_id: uuid.UUID
    jurisdiction_id: uuid.UUID
    total: Decimal
    rank: int
    indicators: tuple[IndicatorResult, ...]
    rubric_version: str
    frozen: bool


def _share(hits: int, count: int) -> Decimal | None:
    return None if count == 0 else (Decimal(hits) / Decimal(count)).quantize(Decimal("0.0001"))


def _indicators(row, rubric: Rubric) -> tuple[IndicatorResult, ...]:
    def scored(code, value, score, count, summary) -> IndicatorResult:
        return IndicatorResult(code=code, kind="SCORED", value=value, score=Decimal(score).quantize(Decimal("0.01")),
                               weight=rubric.points(code), count=count, summary=summary)

    def deduction(code, count, summary) -> IndicatorResult:
        points = rubric.points(code)
        return IndicatorResult(code=code, kind="DEDUCTION", value=Decimal(count),
                               score=Decimal(-points * count).quantize(Decimal("0.01")), weight=points, count=count,
                               summary=summary)

    late_entries = row.enforcement_n - row.enforcement_hits
    late_replies = row.reply_n - row.reply_hits
    return (
        scored(IndicatorCode.ENFORCEMENT_TIMELINESS, _share(row.enforcement_hits, row.enforcement_n),
               row.enforcement_score, row.enforcement_n,
               f"{row.enforcement_n} 件中 {row.enforcement_hits} 件按期录入，{late_entries} 件逾期共 "
               f"{row.enforcement_late} 个工作日 / {row.enforcement_hits} of {row.enforcement_n} entered on time, "
               f"{late_entries} late by {row.enforcement_late} working days in all"),
        scored(IndicatorCode.CLUE_REFERRAL,
               None if row.target == 0 else min(Decimal(1), Decimal(row.referral_n) / Decimal(row.target)).quantize(
                   Decimal("0.0001")),
               row.referral_score, row.referral_n,
               f"移送线索立案 {row.referral_n} 件，目标 {row.target} 件 / {row.referral_n} referrals filed as cases, "
               f"target {row.target}"),
        scored(IndicatorCode.REPLY_ON_TIME, _share(row.reply_hits, row.reply_n), row.reply_score, row.reply_n,
               f"应回复 {row.reply_n} 件，按期 {row.reply_hits} 件，逾期或未回复 {late_replies} 件共 {row.reply_late} "
               f"个工作日 / {row.reply_hits} of {row.reply_n} answered on time, {late_replies} late or unanswered, "
               f"{row.reply_late} working days in all"),
        scored(IndicatorCode.RECTIFICATION, _share(row.rectified_n, row.reply_n), row.rectification_score, row.reply_n,
               f"{row.reply_n} 件中经检查整改到位 {row.rectified_n} 件 / {row.rectified_n} of {row.reply_n} found "
               "RECTIFIED by a check"),
        deduction(IndicatorCode.OVERDUE_UNREPLIED, row.overdue_n,
                  f"逾期未回复 {row.overdue_n} 件，每件扣 {rubric.points(IndicatorCode.OVERDUE_UNREPLIED)} 分 / "
                  f"{row.overdue_n} overdue and unanswered, {rubric.points(IndicatorCode.OVERDUE_UNREPLIED)} "
                  "points each"),
        deduction(IndicatorCode.LITIGATION, row.litigation_n,
                  f"被提起诉讼 {row.litigation_n} 件，每件扣 {rubric.points(IndicatorCode.LITIGATION)} 分 / "
                  f"{row.litigation_n} ended in litigation, {rubric.points(IndicatorCode.LITIGATION)} points each"),
    )


def _parameters(period: Window, jurisdictions: list[uuid.UUID]) -> dict:
    return {"jurisdictions": jurisdictions, "start": period.start, "end": period.end, "as_of": period.as_of,
            "timezone": str(PLATFORM_TIMEZONE)}


def scores_statement(rubric: Rubric, period: Window, jurisdictions: list[uuid.UUID]) -> tuple[str, dict]:
    """The statement of `compute_scores` and its parameters (the benchmark explains it)."""
    return _SCORES, _parameters(period, jurisdictions) | {
        "targets": json.dumps(rubric.referral_targets), "default_target": rubric.referral_target_per_quarter,
        "quarters": period.quarters, "floor": rubric.floor,
        "w_enforcement": rubric.points(IndicatorCode.ENFORCEMENT_TIMELINESS),
        "w_referral": rubric.points(IndicatorCode.CLUE_REFERRAL), "w_reply": rubric.points(IndicatorCode.REPLY_ON_TIME),
        "w_rectification": rubric.points(IndicatorCode.RECTIFICATION),
        "d_overdue": rubric.points(IndicatorCode.OVERDUE_UNREPLIED),
        "d_litigation": rubric.points(IndicatorCode.LITIGATION)}


async def compute_scores(session: AsyncSession, *, rubric: Rubric, period: Window,
                         jurisdictions: list[uuid.UUID]) -> list[AgencyResult]:
    """Every agency of `jurisdictions`, ranked within its jurisdiction (best first)."""
    if not jurisdictions:
        return []
    statement, parameters = scores_statement(rubric, period, jurisdictions)
    rows = (await session.execute(text(statement), parameters)).all()
    return [AgencyResult(agency_id=row.agency_id, jurisdiction_id=row.jurisdiction_id,
                         total=Decimal(row.total).quantize(Decimal("0.01")), rank=row.rank,
                         indicators=_indicators(row, rubric), rubric_version=rubric.version, frozen=False)
            for row in rows]


@dataclass(frozen=True)
class Record:
    """One row of an explanation."""

    agency_id: uuid.UUID
    reference: str
    related: str | None
    started_on: date | None
    due_on: date | None
    done_on: date | None
    on_time: bool | None
    working_days_late: int | None
    detail: str | None

    def as_json(self) -> dict:
        return {"reference": self.reference, "related": self.related,
                "started_on": self.started_on and self.started_on.isoformat(),
                "due_on": self.due_on and self.due_on.isoformat(), "done_on": self.done_on and self.done_on.isoformat(),
                "on_time": self.on_time, "working_days_late": self.working_days_late, "detail": self.detail}

    @classmethod
    def from_json(cls, agency_id: uuid.UUID, data: dict) -> Record:
        def day(value):
            return None if value is None else date.fromisoformat(value)

        return cls(agency_id=agency_id, reference=data["reference"], related=data["related"],
                   started_on=day(data["started_on"]), due_on=day(data["due_on"]), done_on=day(data["done_on"]),
                   on_time=data["on_time"], working_days_late=data["working_days_late"], detail=data["detail"])


async def compute_records(session: AsyncSession, *, period: Window, jurisdictions: list[uuid.UUID],
                          code: IndicatorCode, agency_ids: list[uuid.UUID] | None = None) -> list[Record]:
    """The records behind `code` for the agencies given (all of `jurisdictions` when none are)."""
    if not jurisdictions:
        return []
    name = _NAMES[code]
    statement = (_ctes((code,), for_agencies=agency_ids is not None) + f"""
SELECT agency_id, reference, related, started_on, due_on, done_on, on_time, working_days_late, detail
FROM {name} ORDER BY agency_id, started_on, reference""")
    parameters = _parameters(period, jurisdictions) | ({"agencies": agency_ids} if agency_ids is not None else {})
    rows = (await session.execute(text(statement), parameters)).all()
    return [Record(agency_id=row.agency_id, reference=row.reference, related=row.related, started_on=row.started_on,
                   due_on=row.due_on, done_on=row.done_on, on_time=row.on_time,
                   working_days_late=row.working_days_late, detail=row.detail) for row in rows]


ALL_CODES = SCORED + DEDUCTIONS

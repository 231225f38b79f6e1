"""The weekly indicator board (清单式周报) of a jurisdiction: one SQL statement, one row per ISO week.

A week is Monday to Sunday (Beijing dates). Referrals count in the week they were received, with
those of them since filed as cases (status CASE_FILED, which filing a case sets); recommendations in the week they were issued; replies in the
week they fell due (once met or past due), with those met by the due date, and those of them a
rectification check has found RECTIFIED."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PLATFORM_TIMEZONE, end_of_day, start_of_day

_BOARD = """
WITH weeks AS (
  SELECT w::date AS week_start
  FROM generate_series(CAST(:first_monday AS date), CAST(:last_monday AS date), interval '1 week') AS w),
received AS (
  SELECT date_trunc('week', r.submitted_at AT TIME ZONE :timezone)::date AS week_start, count(*) AS n,
         count(*) FILTER (WHERE r.status = 'CASE_FILED') AS filed
  FROM referral r
  WHERE r.jurisdiction_id = ANY(:jurisdictions) AND r.submitted_at >= :from_at AND r.submitted_at < :to_at
  GROUP BY 1),
issued AS (
  SELECT date_trunc('week', issued_on)::date AS week_start, count(*) AS n
  FROM recommendation
  WHERE jurisdiction_id = ANY(:jurisdictions) AND issued_on BETWEEN :first_monday AND :last_sunday
  GROUP BY 1),
rectified AS (
  SELECT DISTINCT recommendation_id FROM rectification_check
  WHERE result = 'RECTIFIED' AND jurisdiction_id = ANY(:jurisdictions)),
replies AS (
  SELECT date_trunc('week', d.due_on)::date AS week_start, count(*) AS n,
         count(*) FILTER (WHERE d.met_on <= d.due_on) AS on_time, count(k.recommendation_id) AS rectified
  FROM deadline d LEFT JOIN rectified k ON k.recommendation_id = d.subject_id
  WHERE d.subject_kind = 'RECOMMENDATION' AND d.rule_code IN ('RECOMMENDATION_REPLY', 'RECOMMENDATION_REPLY_URGENT')
    AND d.cancelled_on IS NULL AND d.jurisdiction_id = ANY(:jurisdictions)
    AND d.due_on BETWEEN :first_monday AND :last_sunday AND (d.met_on IS NOT NULL OR d.due_on < :today)
  GROUP BY 1)
SELECT w.week_start, extract(isoyear FROM w.week_start)::integer AS iso_year,
       extract(week FROM w.week_start)::integer AS iso_week,
       coalesce(v.n, 0) AS referrals_received, coalesce(v.filed, 0) AS referrals_filed,
       coalesce(i.n, 0) AS recommendations_issued, coalesce(p.n, 0) AS replies_due,
       coalesce(p.on_time, 0) AS replies_on_time, coalesce(p.rectified, 0) AS rectified
FROM weeks w
LEFT JOIN received v ON v.week_start = w.week_start
LEFT JOIN issued i ON i.week_start = w.week_start
LEFT JOIN replies p ON p.week_start = w.week_start
ORDER BY w.week_start"""


@dataclass(frozen=True)
class BoardWeek:
    week_start: date
    iso_year: int
    iso_week: int
    referrals_received: int
    referrals_filed: int
    recommendations_issued: int
    replies_due: int
    replies_on_time: int
    rectified: int

    @staticmethod
    def _rate(part: int, whole: int) -> Decimal | None:
        return None if whole == 0 else (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))

    @property
    def filing_rate(self) -> Decimal | None:
        return self._rate(self.referrals_filed, self.referrals_received)

    @property
    def on_time_reply_rate(self) -> Decimal | None:
        return self._rate(self.replies_on_time, self.replies_due)

    @property
    def rectification_rate(self) -> Decimal | None:
        return self._rate(self.rectified, self.replies_due)


async def weekly_board(session: AsyncSession, *, jurisdictions: list[uuid.UUID], first_monday: date,
                       last_sunday: date, today: date) -> list[BoardWeek]:
    rows = (await session.execute(text(_BOARD), {
        "jurisdictions": jurisdictions, "first_monday": first_monday, "last_monday": last_sunday - timedelta(days=6),
        "last_sunday": last_sunday, "from_at": start_of_day(first_monday), "to_at": end_of_day(last_sunday),
        "today": today, "timezone": str(PLATFORM_TIMEZONE)})).all()
    return [BoardWeek(**row._mapping) for row in rows]

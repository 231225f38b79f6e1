"""Dates as the platform's users mean them: China Standard Time (UTC+8, no daylight saving).

Timestamps are stored in UTC; a calendar date (found on, submitted between, deadlines) is a date
in Beijing, or a clue found at 07:00 in Weidong would be dated "yesterday" by a UTC server."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import ValidationFailed

PLATFORM_TIMEZONE = ZoneInfo("Asia/Shanghai")
# Dates outside this range are typing mistakes (and the extremes overflow once shifted to UTC).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def today() -> date:
    return datetime.now(PLATFORM_TIMEZONE).date()


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PLATFORM_TIMEZONE)


def end_of_day(day: date) -> datetime:
    """The first instant after `day`, for half-open ranges."""
    return start_of_day(day + timedelta(days=1))


def check_date(day: date | None, field: str, *, not_after_today: bool = False) -> date | None:
    if day is None:
        return None
    latest = today() if not_after_today else LATEST_DATE
    if not EARLIEST_DATE <= day <= latest:
        raise ValidationFailed(f"日期应在 {EARLIEST_DATE} 到 {latest} 之间 / {field} must lie between "
                               f"{EARLIEST_DATE} and {latest}", field=field)
    return day

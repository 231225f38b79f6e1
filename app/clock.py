"""Dates as the platform's users mean them: China Standard Time (UTC+8, no daylight saving).

Timestamps are stored in UTC; a calendar date (found on, submitted between, deadlines) is a date
in Beijing, or a clue found at 07:00 in Weidong would be dated "yesterday" by a UTC server."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PLATFORM_TIMEZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(PLATFORM_TIMEZONE).date()


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PLATFORM_TIMEZONE)


def end_of_day(day: date) -> datetime:
    """The first instant after `day`, for half-open ranges."""
    return start_of_day(day + timedelta(days=1))

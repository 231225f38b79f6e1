"""The working calendar is reference data that every test shares: a test that changes it gets it back."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select

from deadlines.models import CalendarDay, CalendarYear


@pytest.fixture
async def restore_calendar(resources):
    async with resources.session_factory() as session:
        years = [dict(row) for row in (await session.execute(select(CalendarYear.__table__))).mappings()]
        days = [dict(row) for row in (await session.execute(select(CalendarDay.__table__))).mappings()]
    yield
    async with resources.session_factory() as session:
        await session.execute(delete(CalendarDay))
        await session.execute(delete(CalendarYear))
        await session.execute(insert(CalendarYear), years)
        await session.execute(insert(CalendarDay), days)
        await session.commit()

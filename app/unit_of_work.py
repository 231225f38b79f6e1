"""One transaction per request, and the undo of its side effects outside the database.

Objects written to the store before the commit are registered here; if the request fails or the
commit does, they are removed again, so no object outlives its row. (If even the removal fails,
the orphan is logged with its key and version; the sweeper finds any that escape.)"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)
Undo = Callable[[], Awaitable[None]]
_UNDO_KEY = "undo_on_rollback"


def on_rollback(session: AsyncSession, undo: Undo) -> None:
    session.info.setdefault(_UNDO_KEY, []).append(undo)


async def commit(session: AsyncSession) -> None:
    await session.commit()
    session.info.pop(_UNDO_KEY, None)


async def rollback(session: AsyncSession) -> None:
    await session.rollback()
    await run_undo(session)


async def run_undo(session: AsyncSession) -> None:
    undos = session.info.pop(_UNDO_KEY, [])
    for undo in reversed(undos):
        try:
            await undo()
        except Exception:  # an undo that fails must not hide the others or the original error
            logger.exception("could not undo a side effect of a failed request")

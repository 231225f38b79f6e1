"""One transaction per request, and the undo of its side effects outside the database.

A request's work is committed at its end or not at all. The one exception is a durable intent
that must be on disk before a side effect outside the database starts (`checkpoint`): a pending
upload is recorded before its bytes go to the store. What a failed request must undo is
registered with `on_rollback`. (Nothing runs "after the commit" on a best-effort basis: a step that
must follow a commit is recorded as a row in that commit and finished by whoever reads it, as the
janitor finishes legal holds.)"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)
Undo = Callable[[], Awaitable[None]]
_UNDO_KEY = "undo_on_rollback"


def on_rollback(session: AsyncSession, undo: Undo) -> None:
    session.info.setdefault(_UNDO_KEY, []).append(undo)


async def checkpoint(session: AsyncSession) -> None:
    """Commit what the request has written so far (its intents, nothing it decided) and give the
    connection back to the pool; the request's next statement begins a new transaction."""
    await session.commit()


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

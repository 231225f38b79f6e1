"""Keyset pagination shared by every list: opaque cursors over (timestamp, id), newest first."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.settings import ApiSettings

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[datetime, uuid.UUID] | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    total_count: int
    has_next_page: bool


def page_request(settings: ApiSettings, first: int | None, after: str | None) -> PageRequest:
    if first is None:
        first = settings.default_page_size
    if first < 0 or first > settings.max_page_size:
        raise ValidationFailed(
            f"每页数量应在 0 到 {settings.max_page_size} 之间 / first must be between 0 and "
            f"{settings.max_page_size}", field="first")
    return PageRequest(first=first, after=decode_cursor(after) if after else None)


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed("游标无效 / invalid cursor", field="after") from error


async def paginate(session: AsyncSession, query: Select, *, at_column, id_column,
                   request: PageRequest) -> Page:
    """Run `query` (already scoped and filtered) for one page, plus its total count."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page_query = query.order_by(at_column.desc(), id_column.desc()).limit(request.first + 1)
    if request.after is not None:
        after_at, after_id = request.after
        page_query = page_query.where(
            or_(at_column < after_at, and_(at_column == after_at, id_column < after_id)))
    rows = list((await session.scalars(page_query)).all())
    has_next = len(rows) > request.first
    rows = rows[: request.first]
    cursors = [encode_cursor(getattr(row, at_column.key), getattr(row, id_column.key)) for row in rows]
    return Page(items=rows, cursors=cursors, total_count=total or 0, has_next_page=has_next)

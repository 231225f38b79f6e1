"""Keyset pagination shared by every list: opaque cursors over (timestamp, id), newest first."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, literal_column, or_
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ValidationFailed
from core.planning import iso_datetime, sql_string

if TYPE_CHECKING:  # core depends on nothing above it; settings are app's
    from app.settings import ApiSettings

T = TypeVar("T")

# An encoded cursor is about 90 characters; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[datetime, uuid.UUID] | None
    # Counting every match costs more than the page itself: only when the client asks.
    with_total_count: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    total_count: int | None
    # Counts the matches when total_count was not fetched with the page.
    count: Callable[[], Awaitable[int]]


def page_request(settings: ApiSettings, first: int | None, after: str | None, *,
                 with_total_count: bool = False) -> PageRequest:
    if first is None:
        first = settings.default_page_size
    if first < 0 or first > settings.max_page_size:
        raise ValidationFailed(
            f"每页数量应在 0 到 {settings.max_page_size} 之间 / first must be between 0 and "
            f"{settings.max_page_size}", field="first")
    return PageRequest(first=first, after=decode_cursor(after) if after else None,
                       with_total_count=with_total_count)


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode()


def cursor_sql(at_column, id_column) -> ColumnElement[str]:
    """`encode_cursor` in SQL, for statements that build their JSON themselves (core.planning):
    PostgreSQL's base64 breaks lines every 76 characters and uses + and /, hence the translate."""
    text = iso_datetime(at_column).concat(sql_string("|")).concat(cast(id_column, Text))
    encoded = func.encode(func.convert_to(text, sql_string("UTF8")), sql_string("base64"))
    return func.translate(encoded, sql_string("+/").concat(func.chr(literal_column("10"))), sql_string("-_"))


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    invalid = ValidationFailed("游标无效 / invalid cursor", field="after")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        at, row_id = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split("|")
        parsed_at = datetime.fromisoformat(at)
        if parsed_at.tzinfo is None:
            raise invalid
        # In UTC here, where year 1 minus an offset fails cleanly, instead of in the driver.
        return parsed_at.astimezone(timezone.utc), uuid.UUID(row_id)
    except (ValueError, UnicodeError, binascii.Error, OverflowError) as error:
        raise invalid from error


def after_condition(after: tuple[datetime, uuid.UUID], *, at_column, id_column) -> ColumnElement[bool]:
    """The rows after a cursor's, in the list order (newest first)."""
    after_at, after_id = after
    return or_(at_column < after_at, and_(at_column == after_at, id_column < after_id))


async def paginate(session: AsyncSession, query: Select, *, at_column, id_column,
                   request: PageRequest, counted: Select | None = None) -> Page:
    """One page of `query` (already scoped and filtered; its first column is the listed entity,
    further columns come along in each item as a tuple).

    With `request.with_total_count` the count rides in the page's own statement as a scalar
    subquery (one round trip); a page past the end returns no row to carry it, and is counted
    on its own. `counted` is what to count when `query` joins more than it filters by (a join
    that only brings columns along would make every row of the count pay for it)."""
    count_query = (counted if counted is not None else query).with_only_columns(
        func.count(), maintain_column_froms=True).order_by(None)

    async def count() -> int:
        return await session.scalar(count_query)

    width = len(query.column_descriptions)
    page_query = query.order_by(at_column.desc(), id_column.desc()).limit(request.first + 1)
    if request.with_total_count:
        page_query = page_query.add_columns(count_query.correlate(None).scalar_subquery())
    if request.after is not None:
        page_query = page_query.where(after_condition(request.after, at_column=at_column, id_column=id_column))
    rows = (await session.execute(page_query)).all()

    total = None
    if request.with_total_count:
        if rows:
            total = rows[0][-1]
        elif request.after is None:
            total = 0
        else:
            total = await count()
    has_next = len(rows) > request.first
    rows = rows[: request.first]
    items = [row[0] if width == 1 else tuple(row[:width]) for row in rows]
    entities = [row[0] for row in rows]
    cursors = [encode_cursor(getattr(entity, at_column.key), getattr(entity, id_column.key))
               for entity in entities]
    return Page(items=items, cursors=cursors, has_next_page=has_next, total_count=total, count=count)

"""Keyset pagination shared by every list: opaque cursors over the list's sort key (by default
(timestamp, id), newest first; a list may offer other orders, see `SortOrder`)."""

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
class SortOrder:
    """An order a list can be read in: `columns` compared in turn, all ascending or all
    descending, the last one unique (the id) so that every row has exactly one place and a
    cursor (the row's values of these columns) says where the next page starts."""

    columns: tuple
    ascending: bool = False


@dataclass(frozen=True)
class PageRequest:
    first: int
    # The cursor's values as text, read by the list's SortOrder (which knows their types).
    after: tuple[str, ...] | None
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


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed("游标无效 / invalid cursor", field="after")


def cursor_sql(at_column, id_column) -> ColumnElement[str]:
    """`encode_cursor` in SQL, for statements that build their JSON themselves (core.planning):
    PostgreSQL's base64 breaks lines every 76 characters and uses + and /, hence the translate."""
    text = iso_datetime(at_column).concat(sql_string("|")).concat(cast(id_column, Text))
    encoded = func.encode(func.convert_to(text, sql_string("UTF8")), sql_string("base64"))
    return func.translate(encoded, sql_string("+/").concat(func.chr(literal_column("10"))), sql_string("-_"))


def _cursor_text(value: object) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if "|" in text:  # no key value of ours holds one; a separator inside would shift the parts
        raise ValueError(f"a cursor value cannot contain '|': {text!r}")
    return text


def encode_cursor(*values: object) -> str:
    return base64.urlsafe_b64encode("|".join(_cursor_text(value) for value in values).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, ...]:
    """The values of a cursor as text; `cursor_values` reads them as the order's columns."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid_cursor()
    try:
        return tuple(base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split("|"))
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise _invalid_cursor() from error


def _cursor_value(text: str, python_type: type) -> object:
    if python_type is datetime:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            raise ValueError("a cursor time needs its offset")
        # In UTC here, where year 1 minus an offset fails cleanly, instead of in the driver.
        return parsed.astimezone(timezone.utc)
    if python_type is uuid.UUID:
        return uuid.UUID(text)
    if python_type is int:
        return int(text)
    return text


def cursor_values(parts: tuple[str, ...], order: SortOrder) -> tuple[object, ...]:
    """The cursor's values typed as the order's columns; VALIDATION (field `after`) for a cursor
    that is not one of this order's (wrong number of values, or values of the wrong shape)."""
    if len(parts) != len(order.columns):
        raise _invalid_cursor()
    try:
        return tuple(_cursor_value(text, column.type.python_type)
                     for text, column in zip(parts, order.columns, strict=True))
    except (ValueError, OverflowError) as error:
        raise _invalid_cursor() from error


def after_condition(after: tuple[str, ...], order: SortOrder) -> ColumnElement[bool]:
    """The rows after a cursor's in `order`: (a, b, c) > (x, y, z) spelt out column by column
    (the form the (timestamp, id) list indexes have always been used with)."""
    columns, values, ascending = order.columns, cursor_values(after, order), order.ascending
    conditions = []
    for index, column in enumerate(columns):
        beyond = column > values[index] if ascending else column < values[index]
        conditions.append(and_(*(earlier == values[position] for position, earlier in enumerate(columns[:index])),
                               beyond))
    return or_(*conditions)


async def paginate(session: AsyncSession, query: Select, *, request: PageRequest, at_column=None, id_column=None,
                   order: SortOrder | None = None, counted: Select | None = None) -> Page:
    """One page of `query` (already scoped and filtered; its first column is the listed entity,
    further columns come along in each item as a tuple), in `order`, or newest first by
    (`at_column`, `id_column`).

    With `request.with_total_count` the count rides in the page's own statement as a scalar
    subquery (one round trip); a page past the end returns no row to carry it, and is counted
    on its own. `counted` is what to count when `query` joins more than it filters by (a join
    that only brings columns along would make every row of the count pay for it)."""
    count_query = (counted if counted is not None else query).with_only_columns(
        func.count(), maintain_column_froms=True).order_by(None)

    async def count() -> int:
        return await session.scalar(count_query)

    order = order or SortOrder(columns=(at_column, id_column))
    width = len(query.column_descriptions)
    page_query = query.order_by(*(column.asc() if order.ascending else column.desc()
                                  for column in order.columns)).limit(request.first + 1)
    if request.with_total_count:
        page_query = page_query.add_columns(count_query.correlate(None).scalar_subquery())
    if request.after is not None:
        page_query = page_query.where(after_condition(request.after, order))
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
    cursors = [encode_cursor(*(getattr(entity, column.key) for column in order.columns)) for entity in entities]
    return Page(items=items, cursors=cursors, has_next_page=has_next, total_count=total, count=count)

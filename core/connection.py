"""Relay-style connections for every paginated list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from core.pagination import Page

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


async def _total_count(root: Connection) -> int:
    # Usually fetched with the page (see `selects`); counted here otherwise.
    return root.total if root.total is not None else await root.count()


@strawberry.type
class Connection(Generic[NodeT]):
    total_count: int = strawberry.field(resolver=_total_count,
                                        description="All matches the caller may see, not just this page.")
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total: strawberry.Private[int | None]
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @classmethod
    def from_page(cls, page: Page, convert: Callable[[object], NodeT]) -> Connection[NodeT]:
        edges = [Edge(cursor=cursor, node=convert(item)) for item, cursor in zip(page.items, page.cursors, strict=True)]
        return cls(edges=edges, total=page.total_count, count=page.count,
                   page_info=PageInfo(has_next_page=page.has_next_page,
                                      end_cursor=page.cursors[-1] if page.cursors else None))


def selects(info: Info, *path: str) -> bool:
    """Whether the query asks for `path` (GraphQL field names, e.g. "edges", "node", "agency")
    below the field being resolved, through fragments and aliases, so a resolver can fetch it
    in the same statement as the rest."""
    fields: Iterable = info.selected_fields
    for name in path:
        fields = [child for field in _fields(fields) for child in field.selections]
        fields = [field for field in _fields(fields) if field.name == name]
        if not fields:
            return False
    return True


def _fields(selections: Iterable) -> list[SelectedField]:
    found = []
    for selection in selections:
        if isinstance(selection, (FragmentSpread, InlineFragment)):
            found.extend(_fields(selection.selections))
        elif isinstance(selection, SelectedField):
            found.append(selection)
    return found

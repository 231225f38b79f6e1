"""Relay-style connections for every paginated list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from app.pagination import Page

NodeT = TypeVar("NodeT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    total_count: int = strawberry.field(description="All matches the caller may see, not just this page.")
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page, convert: Callable[[object], NodeT]) -> Connection[NodeT]:
        edges = [Edge(cursor=cursor, node=convert(item)) for item, cursor in zip(page.items, page.cursors, strict=True)]
        return cls(total_count=page.total_count, edges=edges,
                   page_info=PageInfo(has_next_page=page.has_next_page,
                                      end_cursor=page.cursors[-1] if page.cursors else None))

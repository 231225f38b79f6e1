"""Per-request DataLoaders: one `IN` query per batch, results in key order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def loader(context: Any, name: str, load_many: Callable[[list[K]], Awaitable[dict[K, V]]],
           default: Any = None) -> DataLoader[K, V]:
    """The context's loader called `name`, made on first use from a function that returns a dict
    of what it found; keys it did not find load as `default`."""
    if name not in context.loaders:
        async def batch(keys: list[K]) -> list[V]:
            found = await load_many(list(keys))
            return [found.get(key, default) for key in keys]

        context.loaders[name] = DataLoader(load_fn=batch)
    return context.loaders[name]


def grouped(rows: Iterable[V], keys: list[K], key: Callable[[V], K]) -> dict[K, list[V]]:
    """`rows` in their order, under each of `keys` (every key present, with [] when none matched):
    what a one-to-many DataLoader returns."""
    groups: dict[K, list[V]] = {k: [] for k in keys}
    for row in rows:
        groups[key(row)].append(row)
    return groups

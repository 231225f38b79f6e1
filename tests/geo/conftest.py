"""Places the tile tests share."""

from __future__ import annotations

import pytest

from tests.geo.test_tiles import PIT, point, submit


@pytest.fixture
async def places(client, world) -> dict[str, str]:
    """A's pit and well, B's dump in district 1; C's dump in district 2; all in one z10 tile."""
    ids = {}
    for user, title, geometry in (("liaison-a", "pit", PIT), ("liaison-a", "well", point(113.32, 34.52)),
                                  ("liaison-b", "b-dump", point(113.33, 34.51)),
                                  ("liaison-c", "c-dump", point(113.53, 34.51))):
        ids[title] = (await submit(client, world, user, title, geometry))["id"]
    return ids

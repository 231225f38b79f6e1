"""Every assessment test starts with the default rubric loaded, as `prepare` loads it."""

from __future__ import annotations

import pytest

from assessment.service import load_rubric_file
from core import unit_of_work
from tests.conftest import ADMIN


@pytest.fixture
async def rubric(resources, world):
    async with resources.session_factory() as session:
        row, _ = await load_rubric_file(session, principal=ADMIN)
        await unit_of_work.commit(session)
    return row.version

"""The migrations build the schema the models describe, and unwind completely."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import metadata
from tests.conftest import ROOT


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


async def _inspect(url: str, look):
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(look)
    finally:
        await engine.dispose()


def _tables(connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"spatial_ref_sys"}


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={
        "include_object": alembic_helpers.include_object, "compare_type": True})
    return compare_metadata(context, metadata)


async def test_empty_database_migrates_to_head_and_back_to_base(stack):
    stack.pg.ensure_database("pil_migrations")
    url = stack.pg.url("pil_migrations")
    config = _config(url)
    await asyncio.to_thread(command.upgrade, config, "head")
    assert {"referral", "evidence", "agency", "user_account", "jurisdiction"} <= await _inspect(url, _tables)
    assert await _inspect(url, _differences) == []
    indexes = await _inspect(url, lambda c: {ix["name"] for ix in inspect(c).get_indexes("referral")})
    assert "idx_referral_geometry" in indexes  # the GiST index, created once

    await asyncio.to_thread(command.downgrade, config, "base")
    assert await _inspect(url, _tables) <= {"alembic_version"}

    await asyncio.to_thread(command.upgrade, config, "head")  # and up again from nothing
    domains = await _inspect(url, lambda c: c.execute(text("SELECT count(*) FROM referral_domain")).scalar())
    assert domains >= 4

"""Migration 0012 on a database with cases in it: the cases filed before it take their referral's
content, parties and number parts; and it unwinds."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.app.test_migrations import _config

SETUP = """
INSERT INTO jurisdiction (id, code, name, level, boundary, created_at) VALUES
  ('00000000-0000-0000-0000-000000000001', '410101', '一区', 'DISTRICT',
   ST_GeomFromText('MULTIPOLYGON(((113 34, 114 34, 114 35, 113 35, 113 34)))', 4326), now());
INSERT INTO agency (id, name, kind, uscc, jurisdiction_id, created_at) VALUES
  ('00000000-0000-0000-0000-000000000002', '机关A', 'NATURAL_RESOURCES', '91410101MA47TEXT10',
   '00000000-0000-0000-0000-000000000001', now());
INSERT INTO referral (id, agency_id, jurisdiction_id, domain_code, title, facts, address, geometry, status,
                      submitted_at, submission_fingerprint, harms_state_interests, harms_public_interest, version)
VALUES ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000002',
        '00000000-0000-0000-0000-000000000001', 'ECOLOGY_RESOURCES', '非法采矿', '事实', '某村',
        ST_GeomFromText('POINT(113.2 34.5)', 4326), 'CASE_FILED', now(), 'x', true, false, 3);
INSERT INTO referral_party (id, referral_id, position, kind, name, uscc) VALUES
  ('00000000-0000-0000-0000-000000000004', '00000000-0000-0000-0000-000000000003', 0, 'ENTERPRISE', '某公司',
   '91410101MA47TEXT10');
INSERT INTO pil_case (id, jurisdiction_id, referral_id, agency_id, kind, status, number, filed_on, filed_at)
VALUES ('00000000-0000-0000-0000-000000000005', '00000000-0000-0000-0000-000000000001',
        '00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000002', 'CIVIL', 'FILED',
        '一检公益立〔2026〕12号', '2026-03-01', now());
"""


async def _run(url: str, *statements: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            result = None
            for statement in statements:
                result = await connection.execute(text(statement))
            return list(result.mappings()) if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


async def test_cases_filed_before_take_their_referrals_content(stack):
    stack.pg.ensure_database("pil_migration_cases")
    url = stack.pg.url("pil_migration_cases")
    config = _config(url)
    # The revision before this one (the lead re-chains migrations when merging).
    before = ScriptDirectory.from_config(config).get_revision("0012").down_revision
    await asyncio.to_thread(command.upgrade, config, before)
    await _run(url, *[statement for statement in SETUP.split(";\n") if statement.strip()])
    await asyncio.to_thread(command.upgrade, config, "0012")

    [case] = await _run(url, "SELECT title, domain_code, facts, address, ST_AsText(geometry) AS geometry, "
                             "harms_state_interests, harms_public_interest, number_year, number_serial FROM pil_case")
    assert dict(case) == {"title": "非法采矿", "domain_code": "ECOLOGY_RESOURCES", "facts": "事实", "address": "某村",
                          "geometry": "POINT(113.2 34.5)", "harms_state_interests": True,
                          "harms_public_interest": False, "number_year": 2026, "number_serial": 12}
    parties = await _run(url, "SELECT case_id::text, position, kind, name, uscc FROM case_party")
    assert [dict(row) for row in parties] == [{"case_id": "00000000-0000-0000-0000-000000000005", "position": 0,
                                               "kind": "ENTERPRISE", "name": "某公司", "uscc": "91410101MA47TEXT10"}]

    await asyncio.to_thread(command.downgrade, config, before)
    [case] = await _run(url, "SELECT number, referral_id::text FROM pil_case")
    assert dict(case) == {"number": "一检公益立〔2026〕12号", "referral_id": "00000000-0000-0000-0000-000000000003"}

"""tiles: an append-only log of where tile sources changed, replacing the per-table versions; the
referral counts per web-mercator grid cell the aggregated tiles are drawn from

Revision ID: 0025
Revises: 0019
Create Date: 2026-11-29 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None

# The tables tiles are drawn from, with the column that places their rows (None: a change anywhere).
TILE_SOURCES = {'referral': 'geometry', 'evidence': None, 'jurisdiction': 'boundary',
                'reference_layer': None, 'reference_feature': 'geometry'}
# Above this many rows in one statement, one extent stands for them all (a bulk load, a backfill).
ROWS_RECORDED_ONE_BY_ONE = 1000

# Statement-level, over the transition tables: a submission appends one row and locks nothing that
# another submission needs (the versions of 0015 were one row per table, updated by every commit).
RECORD_FUNCTION = f"""
CREATE FUNCTION record_tile_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    placed_by text := TG_ARGV[0];
    changed_rows text;
    changed bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' OR placed_by IS NULL THEN
        INSERT INTO tile_change (source, bbox) VALUES (TG_TABLE_NAME, NULL);
        RETURN NULL;
    END IF;
    changed_rows := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT %1$I AS g FROM new_rows', placed_by)
        WHEN 'DELETE' THEN format('SELECT %1$I AS g FROM old_rows', placed_by)
        ELSE format('SELECT %1$I AS g FROM old_rows UNION ALL SELECT %1$I FROM new_rows', placed_by) END;
    EXECUTE format('SELECT count(*) FROM (%s) c', changed_rows) INTO changed;
    IF changed = 0 THEN
        RETURN NULL;
    ELSIF changed > {ROWS_RECORDED_ONE_BY_ONE} THEN
        EXECUTE format('INSERT INTO tile_change (source, bbox) '
                       'SELECT $1, ST_SetSRID(ST_Extent(g)::geometry, 4326) FROM (%s) c', changed_rows)
            USING TG_TABLE_NAME;
    ELSE
        EXECUTE format('INSERT INTO tile_change (source, bbox) '
                       'SELECT DISTINCT $1, ST_Envelope(g) FROM (%s) c WHERE g IS NOT NULL', changed_rows)
            USING TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$"""

# Emptying the log forgets changes that cached tiles have not seen: in their place, one "changed
# anywhere" row per source, which every tile cached before redraws for.
FORGET_FUNCTION = f"""
CREATE FUNCTION forget_tile_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tile_change (source, bbox)
    SELECT source, NULL FROM unnest(ARRAY[{', '.join(f"'{table}'" for table in TILE_SOURCES)}]) AS source;
    RETURN NULL;
END
$$"""

# Half the side of the EPSG:3857 square; referral points are counted in cells of levels 5 to 14
# (zoom 0 to 9 tiles, 32 cells a side each).
HALF_WORLD = 20037508.342789244
# The counts of the referrals of a query `%s` (columns n, agency_id, jurisdiction_id, geometry).
GRID_INSERT = f"""
        INSERT INTO referral_grid_count (level, cell_x, cell_y, agency_id, jurisdiction_id, referrals, sum_x, sum_y)
        SELECT level, cell_x, cell_y, agency_id, jurisdiction_id, sum(n), sum(n * x), sum(n * y)
        FROM (SELECT n, agency_id, jurisdiction_id, ST_X(p) AS x, ST_Y(p) AS y
              FROM (SELECT n, agency_id, jurisdiction_id, ST_Transform(ST_PointOnSurface(geometry), 3857) AS p
                    FROM (%s) c) projected) points
        CROSS JOIN generate_series(5, 14) AS level
        CROSS JOIN LATERAL (SELECT
            least(greatest(floor((x + {HALF_WORLD}) / ({2 * HALF_WORLD} / (1 << level))), 0), (1 << level) - 1)::int,
            least(greatest(floor(({HALF_WORLD} - y) / ({2 * HALF_WORLD} / (1 << level))), 0), (1 << level) - 1)::int
        ) AS cell (cell_x, cell_y)
        GROUP BY level, cell_x, cell_y, agency_id, jurisdiction_id
"""
GRID_FUNCTION = f"""
CREATE FUNCTION count_referrals_in_grid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM referral_grid_count;
        RETURN NULL;
    END IF;
    changes := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS n, agency_id, jurisdiction_id, geometry FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS n, agency_id, jurisdiction_id, geometry FROM old_rows'
        -- Only what moves a referral or changes whose it is: a status change counts nothing.
        ELSE 'SELECT side.* FROM old_rows o JOIN new_rows r ON r.id = o.id CROSS JOIN LATERAL ('
             '  VALUES (-1, o.agency_id, o.jurisdiction_id, o.geometry), (1, r.agency_id, r.jurisdiction_id, r.geometry)'
             ') AS side (n, agency_id, jurisdiction_id, geometry) '
             'WHERE NOT (o.geometry ~= r.geometry AND o.agency_id = r.agency_id '
             '           AND o.jurisdiction_id = r.jurisdiction_id)' END;
    EXECUTE format($sql${GRID_INSERT}$sql$, changes);
    RETURN NULL;
END
$$"""

OLD_BUMP_FUNCTION = """
CREATE FUNCTION bump_tile_source_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    marker text := 'pil.tile_version_bumped_' || TG_TABLE_NAME;
BEGIN
    -- One bump per transaction and table is enough: a bulk load of a million rows costs one.
    IF current_setting(marker, true) IS DISTINCT FROM txid_current()::text THEN
        INSERT INTO tile_source_version (source, version)
        VALUES (TG_TABLE_NAME, nextval('tile_source_version_seq'))
        ON CONFLICT (source) DO UPDATE SET version = EXCLUDED.version;
        PERFORM set_config(marker, txid_current()::text, true);
    END IF;
    RETURN NULL;
END
$$"""


def upgrade() -> None:
    for table in TILE_SOURCES:
        op.execute(f"DROP TRIGGER tile_version_{table}_truncate ON {table}")
        op.execute(f"DROP TRIGGER tile_version_{table} ON {table}")
    op.execute("DROP FUNCTION bump_tile_source_version()")
    op.execute("DROP SEQUENCE tile_source_version_seq")
    op.drop_table('tile_source_version')

    op.create_table('tile_change',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('source', sa.String(length=63), nullable=False),
    sa.Column('xid', sa.BigInteger(), server_default=sa.text('(pg_current_xact_id())::text::bigint'), nullable=False),
    sa.Column('bbox', Geometry(srid=4326, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tile_change'))
    )
    op.create_index(op.f('ix_tile_change_xid'), 'tile_change', ['xid'], unique=False)
    op.create_table('referral_grid_count',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('cell_x', sa.Integer(), nullable=False),
    sa.Column('cell_y', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('referrals', sa.Integer(), nullable=False),
    sa.Column('sum_x', sa.Float(), nullable=False),
    sa.Column('sum_y', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_grid_count'))
    )
    op.create_index('ix_referral_grid_count_level_cell_x_cell_y', 'referral_grid_count', ['level', 'cell_x', 'cell_y'],
                    unique=False)
    op.execute(GRID_FUNCTION)
    for event, transition in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                              ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        op.execute(f"CREATE TRIGGER referral_grid_{event.lower()} AFTER {event} ON referral "
                   f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION count_referrals_in_grid()")
    op.execute("CREATE TRIGGER referral_grid_truncate AFTER TRUNCATE ON referral "
               "FOR EACH STATEMENT EXECUTE FUNCTION count_referrals_in_grid()")
    # Referrals already there are counted once, as a load would be.
    op.execute(GRID_INSERT.replace("%s", "SELECT 1 AS n, agency_id, jurisdiction_id, geometry FROM referral"))
    op.execute(RECORD_FUNCTION)
    op.execute(FORGET_FUNCTION)
    op.execute("CREATE TRIGGER tile_change_truncate AFTER TRUNCATE ON tile_change "
               "FOR EACH STATEMENT EXECUTE FUNCTION forget_tile_changes()")
    for table, placed_by in TILE_SOURCES.items():
        argument = f"'{placed_by}'" if placed_by else ""
        for event, transition in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                                  ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            referencing = f"REFERENCING {transition} " if placed_by else ""
            op.execute(f"CREATE TRIGGER tile_change_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"{referencing}FOR EACH STATEMENT EXECUTE FUNCTION record_tile_change({argument})")
        op.execute(f"CREATE TRIGGER tile_change_{table}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION record_tile_change()")


def downgrade() -> None:
    for event in ("insert", "delete", "update", "truncate"):
        op.execute(f"DROP TRIGGER referral_grid_{event} ON referral")
    op.execute("DROP FUNCTION count_referrals_in_grid()")
    op.drop_index('ix_referral_grid_count_level_cell_x_cell_y', table_name='referral_grid_count')
    op.drop_table('referral_grid_count')
    for table in TILE_SOURCES:
        for event in ("insert", "delete", "update", "truncate"):
            op.execute(f"DROP TRIGGER tile_change_{table}_{event} ON {table}")
    op.execute("DROP FUNCTION record_tile_change()")
    op.execute("DROP TRIGGER tile_change_truncate ON tile_change")
    op.execute("DROP FUNCTION forget_tile_changes()")
    op.drop_index(op.f('ix_tile_change_xid'), table_name='tile_change')
    op.drop_table('tile_change')

    op.create_table('tile_source_version',
    sa.Column('source', sa.String(length=63), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_tile_source_version'))
    )
    op.execute("CREATE SEQUENCE tile_source_version_seq")
    op.execute(OLD_BUMP_FUNCTION)
    for table in TILE_SOURCES:
        op.execute(f"INSERT INTO tile_source_version VALUES ('{table}', nextval('tile_source_version_seq'))")
        op.execute(f"CREATE CONSTRAINT TRIGGER tile_version_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tile_source_version()")
        op.execute(f"CREATE TRIGGER tile_version_{table}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION bump_tile_source_version()")

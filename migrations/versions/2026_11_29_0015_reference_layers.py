"""geo: reference layers (ecological red lines, permanent farmland, water sources, reserves, mining
rights) and their features, for the protected_areas tiles; versions of the tables tiles are drawn
from, kept by triggers, for the tile cache

Revision ID: 0015
Revises: 0010
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0015'
down_revision = '0011'
branch_labels = None
depends_on = None

AGENCY_KINDS = ('NATURAL_RESOURCES', 'ECOLOGY_ENVIRONMENT', 'MARKET_REGULATION', 'FINANCE', 'HOUSING_URBAN_RURAL',
                'AGRICULTURE_RURAL', 'WATER_RESOURCES', 'EMERGENCY_MANAGEMENT', 'FORESTRY', 'PUBLIC_SECURITY', 'OTHER')

# The tables tiles are drawn from. Each transaction that changes one moves its version on, once,
# at commit (a deferred trigger: the version row is locked only while the transaction commits, so
# concurrent submissions do not queue behind each other); TRUNCATE, which fires no row trigger,
# moves it at once.
TILE_SOURCES = ('referral', 'evidence', 'jurisdiction', 'reference_layer', 'reference_feature')
BUMP_FUNCTION = """
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
    op.create_table('reference_layer',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('ECOLOGICAL_RED_LINE', 'PERMANENT_FARMLAND', 'DRINKING_WATER_SOURCE', 'NATURE_RESERVE', 'MINING_RIGHTS', name='reference_layer_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('responsible_agency_kind', sa.Enum(*AGENCY_KINDS, name='responsible_agency_kind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'", name=op.f('ck_reference_layer_code_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_layer')),
    sa.UniqueConstraint('code', name=op.f('uq_reference_layer_code'))
    )
    op.create_geospatial_table('reference_feature',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('layer_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('geometry', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['layer_id'], ['reference_layer.id'], name=op.f('fk_reference_feature_layer_id_reference_layer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_feature'))
    )
    op.create_geospatial_index('idx_reference_feature_geometry', 'reference_feature', ['geometry'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_reference_feature_layer_id'), 'reference_feature', ['layer_id'], unique=False)
    op.create_table('tile_source_version',
    sa.Column('source', sa.String(length=63), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_tile_source_version'))
    )
    op.execute("CREATE SEQUENCE tile_source_version_seq")
    op.execute(BUMP_FUNCTION)
    for table in TILE_SOURCES:
        op.execute(f"INSERT INTO tile_source_version VALUES ('{table}', nextval('tile_source_version_seq'))")
        op.execute(f"CREATE CONSTRAINT TRIGGER tile_version_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tile_source_version()")
        op.execute(f"CREATE TRIGGER tile_version_{table}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION bump_tile_source_version()")


def downgrade() -> None:
    for table in TILE_SOURCES:
        op.execute(f"DROP TRIGGER tile_version_{table}_truncate ON {table}")
        op.execute(f"DROP TRIGGER tile_version_{table} ON {table}")
    op.execute("DROP FUNCTION bump_tile_source_version()")
    op.execute("DROP SEQUENCE tile_source_version_seq")
    op.drop_table('tile_source_version')
    op.drop_index(op.f('ix_reference_feature_layer_id'), table_name='reference_feature')
    op.drop_geospatial_index('idx_reference_feature_geometry', table_name='reference_feature', postgresql_using='gist', column_name='geometry')
    op.drop_geospatial_table('reference_feature')
    op.drop_table('reference_layer')

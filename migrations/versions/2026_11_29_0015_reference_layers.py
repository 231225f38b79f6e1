"""geo: reference layers (ecological red lines, permanent farmland, water sources, reserves, mining
rights) and their features, for the protected_areas tiles

Revision ID: 0015
Revises: 0010
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0015'
down_revision = '0010'
branch_labels = None
depends_on = None

AGENCY_KINDS = ('NATURAL_RESOURCES', 'ECOLOGY_ENVIRONMENT', 'MARKET_REGULATION', 'FINANCE', 'HOUSING_URBAN_RURAL',
                'AGRICULTURE_RURAL', 'WATER_RESOURCES', 'EMERGENCY_MANAGEMENT', 'FORESTRY', 'PUBLIC_SECURITY', 'OTHER')


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


def downgrade() -> None:
    op.drop_index(op.f('ix_reference_feature_layer_id'), table_name='reference_feature')
    op.drop_geospatial_index('idx_reference_feature_geometry', table_name='reference_feature', postgresql_using='gist', column_name='geometry')
    op.drop_geospatial_table('reference_feature')
    op.drop_table('reference_layer')

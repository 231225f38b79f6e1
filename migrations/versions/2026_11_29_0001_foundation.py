"""foundation: accounts, agencies, referrals, evidence

Revision ID: 0001
Revises:
Create Date: 2026-11-29 01:58:21.795258
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


# The statutory domains of public-interest litigation: the four of the 2023 district notice
# first, then those later laws added. Reference data every installation needs, so it ships here.
REFERRAL_DOMAINS = [
    ("ECOLOGY_RESOURCES", "生态环境和资源保护", "Ecology, environment and resource protection"),
    ("FOOD_DRUG_SAFETY", "食品药品安全", "Food and drug safety"),
    ("STATE_PROPERTY", "国有财产保护", "Protection of state-owned property"),
    ("STATE_LAND_TRANSFER", "国有土地使用权出让", "Transfer of state-owned land-use rights"),
    ("HEROES_MARTYRS", "英雄烈士权益保护", "Protection of heroes and martyrs"),
    ("MINORS", "未成年人保护", "Protection of minors"),
    ("SAFE_PRODUCTION", "安全生产", "Safe production"),
    ("PERSONAL_INFORMATION", "个人信息保护", "Personal information protection"),
    ("MILITARY_STATUS", "军人地位和权益保障", "Military status and rights"),
    ("ANTI_MONOPOLY", "反垄断", "Anti-monopoly"),
    ("ANTI_TELECOM_FRAUD", "反电信网络诈骗", "Anti-telecom and online fraud"),
    ("AGRICULTURAL_PRODUCT_QUALITY", "农产品质量安全", "Agricultural product quality and safety"),
    ("WOMENS_RIGHTS", "妇女权益保障", "Protection of women's rights"),
    ("ACCESSIBILITY", "无障碍环境建设", "Accessibility"),
    ("CULTURAL_HERITAGE", "文物和文化遗产保护", "Cultural relics and heritage protection"),
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('jurisdiction',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.Enum('PROVINCE', 'CITY', 'DISTRICT', name='jurisdiction_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("code ~ '^[1-9][0-9]{5}$'", name=op.f('ck_jurisdiction_code_format')),
    sa.ForeignKeyConstraint(['parent_id'], ['jurisdiction.id'], name=op.f('fk_jurisdiction_parent_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jurisdiction')),
    sa.UniqueConstraint('code', name=op.f('uq_jurisdiction_code'))
    )
    op.create_geospatial_index('idx_jurisdiction_boundary', 'jurisdiction', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_jurisdiction_parent_id'), 'jurisdiction', ['parent_id'], unique=False)
    op.create_table('referral_domain',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_referral_domain'))
    )
    op.bulk_insert(
        sa.table("referral_domain", sa.column("code", sa.String), sa.column("name_zh", sa.String),
                 sa.column("name_en", sa.String), sa.column("is_active", sa.Boolean),
                 sa.column("sort_order", sa.Integer)),
        [{"code": code, "name_zh": zh, "name_en": en, "is_active": True, "sort_order": index}
         for index, (code, zh, en) in enumerate(REFERRAL_DOMAINS)])
    op.create_table('agency',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('NATURAL_RESOURCES', 'ECOLOGY_ENVIRONMENT', 'MARKET_REGULATION', 'FINANCE', 'HOUSING_URBAN_RURAL', 'AGRICULTURE_RURAL', 'WATER_RESOURCES', 'EMERGENCY_MANAGEMENT', 'FORESTRY', 'PUBLIC_SECURITY', 'OTHER', name='agency_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_agency_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency')),
    sa.UniqueConstraint('uscc', name=op.f('uq_agency_uscc'))
    )
    op.create_index(op.f('ix_agency_jurisdiction_id'), 'agency', ['jurisdiction_id'], unique=False)
    op.create_table('procuratorate',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_procuratorate_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procuratorate')),
    sa.UniqueConstraint('jurisdiction_id', name=op.f('uq_procuratorate_jurisdiction_id'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('AGENCY_LIAISON', 'PROSECUTOR', 'ASSESSOR', 'ADMIN', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('procuratorate_id', sa.Uuid(), nullable=True),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('tokens_valid_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'AGENCY_LIAISON' AND agency_id IS NOT NULL AND procuratorate_id IS NULL  AND jurisdiction_id IS NULL) OR (role = 'PROSECUTOR' AND procuratorate_id IS NOT NULL AND agency_id IS NULL  AND jurisdiction_id IS NULL) OR (role = 'ASSESSOR' AND jurisdiction_id IS NOT NULL AND agency_id IS NULL  AND procuratorate_id IS NULL) OR (role = 'ADMIN' AND agency_id IS NULL AND procuratorate_id IS NULL  AND jurisdiction_id IS NULL)", name=op.f('ck_user_account_role_binding')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_user_account_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_user_account_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['procuratorate_id'], ['procuratorate.id'], name=op.f('fk_user_account_procuratorate_id_procuratorate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_index(op.f('ix_user_account_agency_id'), 'user_account', ['agency_id'], unique=False)
    op.create_table('api_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_api_key_agency_id_agency')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user_account.id'], name=op.f('fk_api_key_created_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_index(op.f('ix_api_key_agency_id'), 'api_key', ['agency_id'], unique=False)
    op.create_geospatial_table('referral',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('domain_code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('geometry', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=True),
    sa.Column('special_investigation', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('SUBMITTED', 'WITHDRAWN', 'REGISTERED', name='referral_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('submitted_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('submitted_by_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('submission_fingerprint', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_referral_agency_id_agency')),
    sa.ForeignKeyConstraint(['domain_code'], ['referral_domain.code'], name=op.f('fk_referral_domain_code_referral_domain')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_referral_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['submitted_by_api_key_id'], ['api_key.id'], name=op.f('fk_referral_submitted_by_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['submitted_by_user_id'], ['user_account.id'], name=op.f('fk_referral_submitted_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('agency_id', 'idempotency_key', name=op.f('uq_referral_agency_id_idempotency_key'))
    )
    op.create_geospatial_index('idx_referral_geometry', 'referral', ['geometry'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_referral_agency_id'), 'referral', ['agency_id'], unique=False)
    op.create_index(op.f('ix_referral_jurisdiction_id'), 'referral', ['jurisdiction_id'], unique=False)
    op.create_index(op.f('ix_referral_status'), 'referral', ['status'], unique=False)
    op.create_table('evidence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('version_id', sa.String(length=200), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=127), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('uploaded_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('uploaded_by_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_evidence_sha256_hex')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_evidence_size_positive')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_evidence_referral_id_referral')),
    sa.ForeignKeyConstraint(['uploaded_by_api_key_id'], ['api_key.id'], name=op.f('fk_evidence_uploaded_by_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['user_account.id'], name=op.f('fk_evidence_uploaded_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('object_key', name=op.f('uq_evidence_object_key'))
    )
    op.create_index(op.f('ix_evidence_referral_id'), 'evidence', ['referral_id'], unique=False)
    op.create_table('referral_status_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.Enum('SUBMITTED', 'WITHDRAWN', 'REGISTERED', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('SUBMITTED', 'WITHDRAWN', 'REGISTERED', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_referral_status_change_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_referral_status_change_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_status_change_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_status_change'))
    )
    op.create_index(op.f('ix_referral_status_change_referral_id'), 'referral_status_change', ['referral_id'], unique=False)
    op.create_table('custody_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('evidence_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('UPLOADED', 'DOWNLOADED', name='custody_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_custody_event_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_custody_event_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_custody_event_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_event'))
    )
    op.create_index(op.f('ix_custody_event_evidence_id'), 'custody_event', ['evidence_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_custody_event_evidence_id'), table_name='custody_event')
    op.drop_table('custody_event')
    op.drop_index(op.f('ix_referral_status_change_referral_id'), table_name='referral_status_change')
    op.drop_table('referral_status_change')
    op.drop_index(op.f('ix_evidence_referral_id'), table_name='evidence')
    op.drop_table('evidence')
    op.drop_index(op.f('ix_referral_status'), table_name='referral')
    op.drop_index(op.f('ix_referral_jurisdiction_id'), table_name='referral')
    op.drop_index(op.f('ix_referral_agency_id'), table_name='referral')
    op.drop_geospatial_index('idx_referral_geometry', table_name='referral', postgresql_using='gist', column_name='geometry')
    op.drop_geospatial_table('referral')
    op.drop_index(op.f('ix_api_key_agency_id'), table_name='api_key')
    op.drop_table('api_key')
    op.drop_index(op.f('ix_user_account_agency_id'), table_name='user_account')
    op.drop_table('user_account')
    op.drop_table('procuratorate')
    op.drop_index(op.f('ix_agency_jurisdiction_id'), table_name='agency')
    op.drop_table('agency')
    op.drop_table('referral_domain')
    op.drop_index(op.f('ix_jurisdiction_parent_id'), table_name='jurisdiction')
    op.drop_geospatial_index('idx_jurisdiction_boundary', table_name='jurisdiction', postgresql_using='gist', column_name='boundary')
    op.drop_geospatial_table('jurisdiction')

"""recommendations: issued in administrative cases, served, replied to with a staged rectification
plan, progress reports, rectification checks; evidence owned by replies, reports and checks

Revision ID: 0013
Revises: 0015
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0015'
branch_labels = None
depends_on = None

OWNER_KINDS_BEFORE = ('REFERRAL',)
OWNER_KINDS_AFTER = (*OWNER_KINDS_BEFORE, 'REPLY', 'RECTIFICATION_REPORT', 'RECTIFICATION_CHECK')
OWNER_COLUMNS = {'REFERRAL': 'referral_id', 'REPLY': 'reply_id', 'RECTIFICATION_REPORT': 'rectification_report_id',
                 'RECTIFICATION_CHECK': 'rectification_check_id'}


def _owner_kinds(kinds: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{kind}'" for kind in kinds)
    op.drop_constraint(op.f('ck_evidence_evidence_owner_kind'), 'evidence', type_='check')
    op.create_check_constraint(op.f('ck_evidence_evidence_owner_kind'), 'evidence', f'owner_kind IN ({allowed})')


def _one_owner() -> str:
    """As evidence.models.ONE_OWNER was written at this revision: exactly the kind's column is set."""
    def owned_by(kind: str) -> str:
        nulls = [f"{column} IS {'NOT NULL' if column == OWNER_COLUMNS[kind] else 'NULL'}"
                 for column in OWNER_COLUMNS.values()]
        return f"(owner_kind = '{kind}' AND {' AND '.join(nulls)})"

    return " OR ".join(owned_by(kind) for kind in OWNER_COLUMNS)


def upgrade() -> None:
    op.create_table('recommendation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('ISSUED', 'SERVED', 'REPLIED', 'CHECKED', name='recommendation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('served_on', sa.Date(), nullable=True),
    sa.Column('service_witnesses', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_recommendation_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['pil_case.id'], name=op.f('fk_recommendation_case_id_pil_case')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_recommendation_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation')),
    sa.UniqueConstraint('number', name=op.f('uq_recommendation_number'))
    )
    op.create_index('ix_recommendation_agency_id_issued_at_id', 'recommendation', ['agency_id', 'issued_at', 'id'], unique=False)
    op.create_index(op.f('ix_recommendation_case_id'), 'recommendation', ['case_id'], unique=False)
    op.create_index('ix_recommendation_issued_at_id', 'recommendation', ['issued_at', 'id'], unique=False)
    op.create_index('ix_recommendation_jurisdiction_id_issued_at_id', 'recommendation', ['jurisdiction_id', 'issued_at', 'id'], unique=False)
    op.create_table('recommendation_reply',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recommendation_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('measures_taken', sa.Text(), nullable=False),
    sa.Column('replied_on', sa.Date(), nullable=False),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('accepted OR reasons IS NOT NULL', name=op.f('ck_recommendation_reply_refusal_has_reasons')),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_recommendation_reply_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_recommendation_reply_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_recommendation_reply_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_recommendation_reply_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_recommendation_reply_recommendation_id_recommendation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_reply')),
    sa.UniqueConstraint('recommendation_id', name=op.f('uq_recommendation_reply_recommendation_id'))
    )
    op.create_table('recommendation_status_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recommendation_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.Enum('ISSUED', 'SERVED', 'REPLIED', 'CHECKED', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('ISSUED', 'SERVED', 'REPLIED', 'CHECKED', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_recommendation_status_change_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_recommendation_status_change_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_recommendation_status_change_recommendation_id_recommendation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_status_change'))
    )
    op.create_index(op.f('ix_recommendation_status_change_recommendation_id'), 'recommendation_status_change', ['recommendation_id'], unique=False)
    op.create_geospatial_table('rectification_check',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recommendation_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('result', sa.Enum('RECTIFIED', 'PARTIAL', 'NOT_RECTIFIED', name='rectification_result', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('location', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('open_items', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('follow_up_of_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_rectification_check_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_rectification_check_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_rectification_check_agency_id_agency')),
    sa.ForeignKeyConstraint(['follow_up_of_id'], ['rectification_check.id'], name=op.f('fk_rectification_check_follow_up_of_id_rectification_check')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_rectification_check_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_rectification_check_recommendation_id_recommendation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_check'))
    )
    op.create_geospatial_index('idx_rectification_check_location', 'rectification_check', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_rectification_check_recommendation_id'), 'rectification_check', ['recommendation_id'], unique=False)
    op.create_table('rectification_report',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recommendation_id', sa.Uuid(), nullable=False),
    sa.Column('reply_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('stage_updates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_rectification_report_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_rectification_report_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_rectification_report_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_rectification_report_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_rectification_report_recommendation_id_recommendation')),
    sa.ForeignKeyConstraint(['reply_id'], ['recommendation_reply.id'], name=op.f('fk_rectification_report_reply_id_recommendation_reply')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_report'))
    )
    op.create_index(op.f('ix_rectification_report_recommendation_id'), 'rectification_report', ['recommendation_id'], unique=False)
    op.create_table('rectification_stage',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reply_id', sa.Uuid(), nullable=False),
    sa.Column('recommendation_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('milestone', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('percent_complete', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent_complete BETWEEN 0 AND 100', name=op.f('ck_rectification_stage_percent_range')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_rectification_stage_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_rectification_stage_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_rectification_stage_recommendation_id_recommendation')),
    sa.ForeignKeyConstraint(['reply_id'], ['recommendation_reply.id'], name=op.f('fk_rectification_stage_reply_id_recommendation_reply')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_stage')),
    sa.UniqueConstraint('reply_id', 'position', name=op.f('uq_rectification_stage_reply_id_position'))
    )
    op.create_index(op.f('ix_rectification_stage_recommendation_id'), 'rectification_stage', ['recommendation_id'], unique=False)
    op.add_column('evidence', sa.Column('reply_id', sa.Uuid(), nullable=True))
    op.add_column('evidence', sa.Column('rectification_report_id', sa.Uuid(), nullable=True))
    op.add_column('evidence', sa.Column('rectification_check_id', sa.Uuid(), nullable=True))
    op.alter_column('evidence', 'referral_id',
               existing_type=sa.UUID(),
               nullable=True)
    op.create_index('ix_evidence_rectification_check_id_uploaded_at_id', 'evidence', ['rectification_check_id', 'uploaded_at', 'id'], unique=False)
    op.create_index('ix_evidence_rectification_report_id_uploaded_at_id', 'evidence', ['rectification_report_id', 'uploaded_at', 'id'], unique=False)
    op.create_index('ix_evidence_reply_id_uploaded_at_id', 'evidence', ['reply_id', 'uploaded_at', 'id'], unique=False)
    op.create_foreign_key(op.f('fk_evidence_rectification_report_id_rectification_report'), 'evidence', 'rectification_report', ['rectification_report_id'], ['id'])
    op.create_foreign_key(op.f('fk_evidence_rectification_check_id_rectification_check'), 'evidence', 'rectification_check', ['rectification_check_id'], ['id'])
    op.create_foreign_key(op.f('fk_evidence_reply_id_recommendation_reply'), 'evidence', 'recommendation_reply', ['reply_id'], ['id'])
    _owner_kinds(OWNER_KINDS_AFTER)
    op.create_check_constraint(op.f('ck_evidence_one_owner'), 'evidence', _one_owner())


def downgrade() -> None:
    # Fails while evidence of a reply, report or check exists: those files are not to be lost.
    op.drop_constraint(op.f('ck_evidence_one_owner'), 'evidence', type_='check')
    _owner_kinds(OWNER_KINDS_BEFORE)
    op.drop_constraint(op.f('fk_evidence_reply_id_recommendation_reply'), 'evidence', type_='foreignkey')
    op.drop_constraint(op.f('fk_evidence_rectification_check_id_rectification_check'), 'evidence', type_='foreignkey')
    op.drop_constraint(op.f('fk_evidence_rectification_report_id_rectification_report'), 'evidence', type_='foreignkey')
    op.drop_index('ix_evidence_reply_id_uploaded_at_id', table_name='evidence')
    op.drop_index('ix_evidence_rectification_report_id_uploaded_at_id', table_name='evidence')
    op.drop_index('ix_evidence_rectification_check_id_uploaded_at_id', table_name='evidence')
    op.alter_column('evidence', 'referral_id',
               existing_type=sa.UUID(),
               nullable=False)
    op.drop_column('evidence', 'rectification_check_id')
    op.drop_column('evidence', 'rectification_report_id')
    op.drop_column('evidence', 'reply_id')
    op.drop_index(op.f('ix_rectification_stage_recommendation_id'), table_name='rectification_stage')
    op.drop_table('rectification_stage')
    op.drop_index(op.f('ix_rectification_report_recommendation_id'), table_name='rectification_report')
    op.drop_table('rectification_report')
    op.drop_index(op.f('ix_rectification_check_recommendation_id'), table_name='rectification_check')
    op.drop_geospatial_index('idx_rectification_check_location', table_name='rectification_check', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('rectification_check')
    op.drop_index(op.f('ix_recommendation_status_change_recommendation_id'), table_name='recommendation_status_change')
    op.drop_table('recommendation_status_change')
    op.drop_table('recommendation_reply')
    op.drop_index('ix_recommendation_jurisdiction_id_issued_at_id', table_name='recommendation')
    op.drop_index('ix_recommendation_issued_at_id', table_name='recommendation')
    op.drop_index(op.f('ix_recommendation_case_id'), table_name='recommendation')
    op.drop_index('ix_recommendation_agency_id_issued_at_id', table_name='recommendation')
    op.drop_table('recommendation')

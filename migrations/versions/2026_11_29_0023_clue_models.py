"""clue models: versioned screenings of enforcement cases, their runs and hits (with status
histories); the CLUE_HITS_FOUND notification

Revision ID: 0023
Revises: 0019
Create Date: 2026-11-29 12:31:07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0023'
down_revision = '0019'
branch_labels = None
depends_on = None

# Notification kinds as of 0017, and the one this revision adds (notification and webhook delivery).
KINDS = ('REFERRAL_SUBMITTED', 'REFERRAL_REGISTERED', 'REFERRAL_RETURNED', 'REFERRAL_DECLINED', 'CASE_FILED',
         'RECOMMENDATION_RECEIVED', 'RECTIFICATION_CHECKED', 'DEADLINE_PROGRESS', 'DEADLINE_DUE_SOON',
         'DEADLINE_OVERDUE', 'DEADLINE_ESCALATED')
KIND_CHECKS = (('notification', 'kind', 'notification_kind'), ('webhook_delivery', 'event', 'webhook_delivery_event'))


def _allow_kinds(kinds: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{kind}'" for kind in kinds)
    for table, column, name in KIND_CHECKS:
        op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_{name}'), table, f'{column} IN ({allowed})')


def upgrade() -> None:
    op.create_table('clue_model',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('procuratorate_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('subject', sa.Enum('ENFORCEMENT_CASE', name='clue_subject', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('ACTIVE', 'RETIRED', name='clue_model_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_clue_model_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['procuratorate_id'], ['procuratorate.id'], name=op.f('fk_clue_model_procuratorate_id_procuratorate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clue_model')),
    sa.UniqueConstraint('jurisdiction_id', 'name', name=op.f('uq_clue_model_jurisdiction_id_name'))
    )
    op.create_index(op.f('ix_clue_model_jurisdiction_id'), 'clue_model', ['jurisdiction_id'], unique=False)
    op.create_table('clue_model_status_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.Enum('ACTIVE', 'RETIRED', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('ACTIVE', 'RETIRED', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_clue_model_status_change_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_clue_model_status_change_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['model_id'], ['clue_model.id'], name=op.f('fk_clue_model_status_change_model_id_clue_model')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clue_model_status_change'))
    )
    op.create_index(op.f('ix_clue_model_status_change_model_id'), 'clue_model_status_change', ['model_id'], unique=False)
    op.create_table('clue_model_version',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('conditions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('version >= 1', name=op.f('ck_clue_model_version_version_positive')),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_clue_model_version_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_clue_model_version_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['model_id'], ['clue_model.id'], name=op.f('fk_clue_model_version_model_id_clue_model')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clue_model_version')),
    sa.UniqueConstraint('model_id', 'version', name=op.f('uq_clue_model_version_model_id_version'))
    )
    op.create_table('clue_model_run',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('version_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.Enum('ON_DEMAND', 'SCHEDULED', name='clue_run_trigger', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('started_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('hits_found', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['clue_model.id'], name=op.f('fk_clue_model_run_model_id_clue_model')),
    sa.ForeignKeyConstraint(['started_by_user_id'], ['user_account.id'], name=op.f('fk_clue_model_run_started_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['version_id'], ['clue_model_version.id'], name=op.f('fk_clue_model_run_version_id_clue_model_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clue_model_run'))
    )
    op.create_index('ix_clue_model_run_model_id_started_at', 'clue_model_run', ['model_id', 'started_at'], unique=False)
    op.create_table('clue_hit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('version_id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('enforcement_case_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('NEW', 'DISMISSED', 'CASE_OPENED', name='clue_hit_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_clue_hit_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['pil_case.id'], name=op.f('fk_clue_hit_case_id_pil_case')),
    sa.ForeignKeyConstraint(['enforcement_case_id'], ['enforcement_case.id'], name=op.f('fk_clue_hit_enforcement_case_id_enforcement_case')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_clue_hit_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['model_id'], ['clue_model.id'], name=op.f('fk_clue_hit_model_id_clue_model')),
    sa.ForeignKeyConstraint(['run_id'], ['clue_model_run.id'], name=op.f('fk_clue_hit_run_id_clue_model_run')),
    sa.ForeignKeyConstraint(['version_id'], ['clue_model_version.id'], name=op.f('fk_clue_hit_version_id_clue_model_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clue_hit')),
    sa.UniqueConstraint('model_id', 'enforcement_case_id', name=op.f('uq_clue_hit_model_id_enforcement_case_id'))
    )
    op.create_index(op.f('ix_clue_hit_enforcement_case_id'), 'clue_hit', ['enforcement_case_id'], unique=False)
    op.create_index('ix_clue_hit_jurisdiction_id_found_at_id', 'clue_hit', ['jurisdiction_id', 'found_at', 'id'], unique=False)
    op.create_index('ix_clue_hit_model_id_found_at_id', 'clue_hit', ['model_id', 'found_at', 'id'], unique=False)
    op.create_table('clue_hit_status_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('hit_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.Enum('NEW', 'DISMISSED', 'CASE_OPENED', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('NEW', 'DISMISSED', 'CASE_OPENED', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_clue_hit_status_change_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_clue_hit_status_change_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['hit_id'], ['clue_hit.id'], name=op.f('fk_clue_hit_status_change_hit_id_clue_hit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clue_hit_status_change'))
    )
    op.create_index(op.f('ix_clue_hit_status_change_hit_id'), 'clue_hit_status_change', ['hit_id'], unique=False)
    _allow_kinds((*KINDS, 'CLUE_HITS_FOUND'))


def downgrade() -> None:
    op.execute("DELETE FROM webhook_delivery WHERE event = 'CLUE_HITS_FOUND'")
    op.execute("DELETE FROM notification WHERE kind = 'CLUE_HITS_FOUND'")
    _allow_kinds(KINDS)
    op.drop_index(op.f('ix_clue_hit_status_change_hit_id'), table_name='clue_hit_status_change')
    op.drop_table('clue_hit_status_change')
    op.drop_index('ix_clue_hit_model_id_found_at_id', table_name='clue_hit')
    op.drop_index('ix_clue_hit_jurisdiction_id_found_at_id', table_name='clue_hit')
    op.drop_index(op.f('ix_clue_hit_enforcement_case_id'), table_name='clue_hit')
    op.drop_table('clue_hit')
    op.drop_index('ix_clue_model_run_model_id_started_at', table_name='clue_model_run')
    op.drop_table('clue_model_run')
    op.drop_table('clue_model_version')
    op.drop_index(op.f('ix_clue_model_status_change_model_id'), table_name='clue_model_status_change')
    op.drop_table('clue_model_status_change')
    op.drop_index(op.f('ix_clue_model_jurisdiction_id'), table_name='clue_model')
    op.drop_table('clue_model')

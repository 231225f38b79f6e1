"""cases: filed from a registered referral, with their history; the referral's CASE_FILED status

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BEFORE = ('SUBMITTED', 'WITHDRAWN', 'REGISTERED', 'RETURNED', 'DECLINED')
AFTER = (*BEFORE, 'CASE_FILED')
# The CHECK constraints string_enum names (ck_<table>_<enum name>), as migration 0001 made them.
STATUS_CHECKS = (
    ('referral', 'status', 'referral_status'),
    ('referral_status_change', 'from_status', 'from_status'),
    ('referral_status_change', 'to_status', 'to_status'),
)


def _allow(statuses: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{status}'" for status in statuses)
    for table, column, name in STATUS_CHECKS:
        op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_{name}'), table, f'{column} IN ({allowed})')


def _status(name: str) -> sa.Enum:
    return sa.Enum('FILED', name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    _allow(AFTER)
    op.create_table('pil_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('ADMINISTRATIVE', 'CIVIL', 'CRIMINAL_INCIDENTAL_CIVIL', name='case_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', _status('case_status'), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision_served_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_pil_case_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_pil_case_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_pil_case_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pil_case')),
    sa.UniqueConstraint('number', name=op.f('uq_pil_case_number')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_pil_case_referral_id'))
    )
    op.create_index('ix_pil_case_filed_at_id', 'pil_case', ['filed_at', 'id'], unique=False)
    op.create_index('ix_pil_case_jurisdiction_id_filed_at_id', 'pil_case', ['jurisdiction_id', 'filed_at', 'id'], unique=False)
    op.create_index('ix_pil_case_agency_id_filed_at_id', 'pil_case', ['agency_id', 'filed_at', 'id'], unique=False)
    op.create_table('case_status_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', _status('from_status'), nullable=True),
    sa.Column('to_status', _status('to_status'), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_case_status_change_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_case_status_change_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['pil_case.id'], name=op.f('fk_case_status_change_case_id_pil_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_status_change'))
    )
    op.create_index(op.f('ix_case_status_change_case_id'), 'case_status_change', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_case_status_change_case_id'), table_name='case_status_change')
    op.drop_table('case_status_change')
    op.drop_index('ix_pil_case_agency_id_filed_at_id', table_name='pil_case')
    op.drop_index('ix_pil_case_jurisdiction_id_filed_at_id', table_name='pil_case')
    op.drop_index('ix_pil_case_filed_at_id', table_name='pil_case')
    op.drop_table('pil_case')
    # Fails while a referral or its history is in CASE_FILED: those rows are not to be lost.
    _allow(BEFORE)

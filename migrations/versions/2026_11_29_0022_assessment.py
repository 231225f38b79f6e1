"""the assessment: rubric versions, periods with their closes and reopens, frozen results,
objections; indexes for scoring an agency's records by date

Revision ID: 0022
Revises: 0019
Create Date: 2026-11-29 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0022'
down_revision = '0024'
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _actor(table: str) -> list:
    return [
        sa.Column('actor_name', sa.String(length=100), nullable=False),
        sa.Column('actor_user_id', sa.Uuid(), nullable=True),
        sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f(f'fk_{table}_actor_api_key_id_api_key')),
        sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'],
                                name=op.f(f'fk_{table}_actor_user_id_user_account')),
    ]


def upgrade() -> None:
    op.create_table('assessment_rubric',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('document', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    *_actor('assessment_rubric'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_rubric')),
    sa.UniqueConstraint('version', name=op.f('uq_assessment_rubric_version'))
    )
    op.create_index('ix_assessment_rubric_created_at', 'assessment_rubric', ['created_at'], unique=False)
    op.create_table('assessment_period',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('status', _enum('assessment_period_status', 'OPEN', 'CLOSED'), nullable=False),
    sa.Column('rubric_id', sa.Uuid(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('objections_due_on', sa.Date(), nullable=True),
    sa.Column('closing_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 0 AND 4', name=op.f('ck_assessment_period_quarter_range')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_assessment_period_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['rubric_id'], ['assessment_rubric.id'],
                            name=op.f('fk_assessment_period_rubric_id_assessment_rubric')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_period')),
    sa.UniqueConstraint('jurisdiction_id', 'year', 'quarter', name=op.f('uq_assessment_period_jurisdiction_id_year_quarter'))
    )
    op.create_table('assessment_period_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('period_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', _enum('from_status', 'OPEN', 'CLOSED'), nullable=True),
    sa.Column('to_status', _enum('to_status', 'OPEN', 'CLOSED'), nullable=False),
    *_actor('assessment_period_change'),
    sa.ForeignKeyConstraint(['period_id'], ['assessment_period.id'],
                            name=op.f('fk_assessment_period_change_period_id_assessment_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_period_change'))
    )
    op.create_index(op.f('ix_assessment_period_change_period_id'), 'assessment_period_change', ['period_id'],
                    unique=False)
    op.create_table('assessment_result',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('closing_id', sa.Uuid(), nullable=False),
    sa.Column('period_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('total', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('indicators', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('records', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_assessment_result_agency_id_agency')),
    sa.ForeignKeyConstraint(['closing_id'], ['assessment_period_change.id'],
                            name=op.f('fk_assessment_result_closing_id_assessment_period_change')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_assessment_result_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['period_id'], ['assessment_period.id'],
                            name=op.f('fk_assessment_result_period_id_assessment_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_result')),
    sa.UniqueConstraint('closing_id', 'agency_id', name=op.f('uq_assessment_result_closing_id_agency_id'))
    )
    op.create_table('assessment_objection',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('period_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('indicator_code', sa.String(length=40), nullable=False),
    sa.Column('status', _enum('assessment_objection_status', 'FILED', 'ANSWERED'), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_name', sa.String(length=100), nullable=True),
    *_actor('assessment_objection'),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_assessment_objection_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_assessment_objection_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['period_id'], ['assessment_period.id'],
                            name=op.f('fk_assessment_objection_period_id_assessment_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_objection'))
    )
    op.create_index(op.f('ix_assessment_objection_period_id'), 'assessment_objection', ['period_id'], unique=False)
    # One agency's records by date: its explanation, and the scores of one jurisdiction.
    op.create_index('ix_enforcement_case_agency_id_decided_on', 'enforcement_case', ['agency_id', 'decided_on'],
                    unique=False)
    op.create_index('ix_deadline_agency_id_due_on', 'deadline', ['agency_id', 'due_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deadline_agency_id_due_on', table_name='deadline')
    op.drop_index('ix_enforcement_case_agency_id_decided_on', table_name='enforcement_case')
    op.drop_index(op.f('ix_assessment_objection_period_id'), table_name='assessment_objection')
    op.drop_table('assessment_objection')
    op.drop_table('assessment_result')
    op.drop_index(op.f('ix_assessment_period_change_period_id'), table_name='assessment_period_change')
    op.drop_table('assessment_period_change')
    op.drop_table('assessment_period')
    op.drop_index('ix_assessment_rubric_created_at', table_name='assessment_rubric')
    op.drop_table('assessment_rubric')

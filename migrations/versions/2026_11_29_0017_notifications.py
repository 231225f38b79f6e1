"""notifications: in-app notifications, the once-only record of deadline reminders, agencies'
webhooks and their delivery log; procrastinate's job-queue schema for the worker

Revision ID: 0017
Revises: 0012
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

revision = '0017'
down_revision = '0021'
branch_labels = None
depends_on = None

# procrastinate's tables and functions live in a schema of their own (worker.app sets the search
# path of its connections to it), apart from the application's tables.
QUEUE_SCHEMA = "procrastinate"

KINDS = ('REFERRAL_SUBMITTED', 'REFERRAL_REGISTERED', 'REFERRAL_RETURNED', 'REFERRAL_DECLINED', 'CASE_FILED',
         'RECOMMENDATION_RECEIVED', 'RECTIFICATION_CHECKED', 'DEADLINE_PROGRESS', 'DEADLINE_DUE_SOON', 'DEADLINE_OVERDUE', 'DEADLINE_ESCALATED')


def _apply_queue_schema() -> None:
    """procrastinate's schema.sql of the installed version (a script of many statements, with
    PL/pgSQL bodies: sent as one simple-protocol query through the driver's own connection)."""
    from procrastinate.schema import SchemaManager

    driver = op.get_bind().connection.dbapi_connection.driver_connection
    previous = op.get_bind().exec_driver_sql("SHOW search_path").scalar()
    await_only(driver.execute(f"CREATE SCHEMA {QUEUE_SCHEMA}; SET LOCAL search_path TO {QUEUE_SCHEMA};\n"
                              + SchemaManager.get_schema()))
    op.get_bind().exec_driver_sql(f"SELECT set_config('search_path', '{previous}', true)")


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='notification_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject_kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index('ix_notification_user_id_created_at', 'notification', ['user_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_notification_unread', 'notification', ['user_id'], unique=False, postgresql_where=sa.text('read_at IS NULL'))
    op.create_table('notification_sent',
    sa.Column('deadline_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name=op.f('fk_notification_sent_deadline_id_deadline'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('deadline_id', 'step', name=op.f('pk_notification_sent'))
    )
    op.create_table('webhook',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_webhook_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_webhook_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_webhook_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_webhook_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    op.create_index(op.f('ix_webhook_agency_id'), 'webhook', ['agency_id'], unique=False)
    op.create_table('webhook_delivery',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('webhook_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.Enum(*KINDS, name='webhook_delivery_event', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'DELIVERED', 'FAILED', name='delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_webhook_delivery_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_webhook_delivery_jurisdiction_id_jurisdiction')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    op.create_index(op.f('ix_webhook_delivery_webhook_id'), 'webhook_delivery', ['webhook_id'], unique=False)
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'PENDING'"))
    _apply_queue_schema()


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {QUEUE_SCHEMA} CASCADE")
    op.drop_table('webhook_delivery')
    op.drop_table('webhook')
    op.drop_table('notification_sent')
    op.drop_table('notification')

"""durable evidence: pending uploads, the recorded legal hold

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_upload',
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('abandoned_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('object_key', name=op.f('pk_pending_upload'))
    )
    # Existing rows start as "not known to be held": the janitor's first round re-applies the hold.
    op.add_column('evidence', sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('evidence', 'held_at')
    op.drop_table('pending_upload')

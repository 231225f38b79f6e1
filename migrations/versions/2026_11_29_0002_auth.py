"""auth: per-user token version instead of a timestamp; failed logins shared by all workers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user_account', sa.Column('token_version', sa.Integer(), server_default='0',
                                            nullable=False))
    op.drop_column('user_account', 'tokens_valid_after')
    op.create_table('failed_login',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_login'))
    )
    op.create_index('ix_failed_login_at', 'failed_login', ['at'], unique=False)
    op.create_index('ix_failed_login_source_at', 'failed_login', ['source', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_failed_login_source_at', table_name='failed_login')
    op.drop_index('ix_failed_login_at', table_name='failed_login')
    op.drop_table('failed_login')
    # Tokens issued before the downgrade stay valid until they expire: the versions cannot be
    # turned back into instants.
    op.add_column('user_account', sa.Column('tokens_valid_after', sa.DateTime(timezone=True),
                                            nullable=True))
    op.drop_column('user_account', 'token_version')

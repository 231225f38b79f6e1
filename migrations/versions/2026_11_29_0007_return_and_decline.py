"""referral: returned and declined statuses, a version for edits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BEFORE = ('SUBMITTED', 'WITHDRAWN', 'REGISTERED')
AFTER = (*BEFORE, 'RETURNED', 'DECLINED')
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


def upgrade() -> None:
    op.add_column('referral', sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
    _allow(AFTER)


def downgrade() -> None:
    # Fails while a referral or its history is in a new status: those rows are not to be lost.
    _allow(BEFORE)
    op.drop_column('referral', 'version')

"""cases: the stages after filing (consultation, recommendation, follow-up, announcement,
litigation, closed)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BEFORE = ('FILED',)
AFTER = (*BEFORE, 'CONSULTATION', 'RECOMMENDATION_ISSUED', 'FOLLOW_UP', 'ANNOUNCED', 'LITIGATION', 'CLOSED')
STATUS_CHECKS = (
    ('pil_case', 'status', 'case_status'),
    ('case_status_change', 'from_status', 'from_status'),
    ('case_status_change', 'to_status', 'to_status'),
)


def _allow(statuses: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{status}'" for status in statuses)
    for table, column, name in STATUS_CHECKS:
        op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_{name}'), table, f'{column} IN ({allowed})')


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    # Fails while a case or its history is in a later stage: those rows are not to be lost.
    _allow(BEFORE)

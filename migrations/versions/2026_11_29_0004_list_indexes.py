"""list indexes: every list order and scope filter ends in (submitted_at, id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# (old single-column index, its column, the composite that replaces it); the composites lead with
# the same column, so lookups by it keep an index.
REPLACED = [
    ('referral', 'ix_referral_agency_id', 'agency_id',
     'ix_referral_agency_id_submitted_at_id', ['agency_id', 'submitted_at', 'id']),
    ('referral', 'ix_referral_jurisdiction_id', 'jurisdiction_id',
     'ix_referral_jurisdiction_id_submitted_at_id', ['jurisdiction_id', 'submitted_at', 'id']),
    ('referral', 'ix_referral_status', 'status',
     'ix_referral_status_submitted_at_id', ['status', 'submitted_at', 'id']),
    ('evidence', 'ix_evidence_referral_id', 'referral_id',
     'ix_evidence_referral_id_uploaded_at_id', ['referral_id', 'uploaded_at', 'id']),
]


def upgrade() -> None:
    op.create_index('ix_referral_submitted_at_id', 'referral', ['submitted_at', 'id'], unique=False)
    for table, old, _, new, columns in REPLACED:
        op.create_index(new, table, columns, unique=False)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, column, new, _ in REPLACED:
        op.create_index(old, table, [column], unique=False)
        op.drop_index(new, table_name=table)
    op.drop_index('ix_referral_submitted_at_id', table_name='referral')

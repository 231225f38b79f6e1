"""evidence: its own owner kind and scope columns

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The Enum's CHECK constraint (ck_evidence_evidence_owner_kind) comes with the column.
    op.add_column('evidence', sa.Column('owner_kind', sa.Enum('REFERRAL', name='evidence_owner_kind', native_enum=False, create_constraint=True, length=32), nullable=True))
    op.add_column('evidence', sa.Column('agency_id', sa.Uuid(), nullable=True))
    op.add_column('evidence', sa.Column('jurisdiction_id', sa.Uuid(), nullable=True))
    # Every file so far was a referral's: it takes the referral's agency and jurisdiction.
    op.execute("UPDATE evidence e SET owner_kind = 'REFERRAL', agency_id = r.agency_id, "
               "jurisdiction_id = r.jurisdiction_id FROM referral r WHERE r.id = e.referral_id")
    for column in ('owner_kind', 'agency_id', 'jurisdiction_id'):
        op.alter_column('evidence', column, nullable=False)
    op.create_foreign_key(op.f('fk_evidence_agency_id_agency'), 'evidence', 'agency', ['agency_id'], ['id'])
    op.create_foreign_key(op.f('fk_evidence_jurisdiction_id_jurisdiction'), 'evidence', 'jurisdiction',
                          ['jurisdiction_id'], ['id'])
    op.create_index(op.f('ix_evidence_agency_id'), 'evidence', ['agency_id'], unique=False)
    op.create_index(op.f('ix_evidence_jurisdiction_id'), 'evidence', ['jurisdiction_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_jurisdiction_id'), table_name='evidence')
    op.drop_index(op.f('ix_evidence_agency_id'), table_name='evidence')
    op.drop_constraint(op.f('fk_evidence_jurisdiction_id_jurisdiction'), 'evidence', type_='foreignkey')
    op.drop_constraint(op.f('fk_evidence_agency_id_agency'), 'evidence', type_='foreignkey')
    op.drop_column('evidence', 'jurisdiction_id')
    op.drop_column('evidence', 'agency_id')
    op.drop_column('evidence', 'owner_kind')

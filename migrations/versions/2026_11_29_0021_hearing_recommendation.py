"""hearings: the recommendation whose rectification a hearing is on

Revision ID: 0021
Revises: 0016
Create Date: 2026-11-29 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('hearing', sa.Column('recommendation_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_hearing_recommendation_id_recommendation'), 'hearing', 'recommendation',
                          ['recommendation_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_hearing_recommendation_id_recommendation'), 'hearing', type_='foreignkey')
    op.drop_column('hearing', 'recommendation_id')

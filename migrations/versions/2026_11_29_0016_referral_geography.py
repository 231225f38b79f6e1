"""geo: where each referral lies (its placement among the districts, cross-boundary, spanned
districts), its overlaps with the reference layers, and the prosecutors' decisions on the agency
responsible for the harm

Referrals submitted before this revision have no placement or overlaps until they are
resubmitted or a layer is (re)imported (which recomputes every referral's overlaps with it).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_placement',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('cross_boundary', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('spanned_jurisdiction_ids', postgresql.ARRAY(sa.Uuid()), server_default='{}', nullable=False),
    sa.Column('spanned_shares', postgresql.ARRAY(sa.Float()), server_default='{}', nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cardinality(spanned_jurisdiction_ids) = cardinality(spanned_shares)',
                       name=op.f('ck_referral_placement_one_share_per_district')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_placement_referral_id_referral'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referral_placement'))
    )
    op.create_table('referral_overlap',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('feature_id', sa.Uuid(), nullable=False),
    sa.Column('layer_id', sa.Uuid(), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.CheckConstraint('area_m2 >= 0', name=op.f('ck_referral_overlap_area_not_negative')),
    sa.CheckConstraint('share > 0 AND share <= 1', name=op.f('ck_referral_overlap_share_is_a_fraction')),
    sa.ForeignKeyConstraint(['feature_id'], ['reference_feature.id'],
                            name=op.f('fk_referral_overlap_feature_id_reference_feature'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['layer_id'], ['reference_layer.id'],
                            name=op.f('fk_referral_overlap_layer_id_reference_layer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_overlap_referral_id_referral'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_overlap')),
    sa.UniqueConstraint('referral_id', 'feature_id', name=op.f('uq_referral_overlap_referral_id_feature_id'))
    )
    op.create_index(op.f('ix_referral_overlap_feature_id'), 'referral_overlap', ['feature_id'], unique=False)
    op.create_index('ix_referral_overlap_layer_id_referral_id', 'referral_overlap', ['layer_id', 'referral_id'],
                    unique=False)
    op.create_table('responsibility_decision',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('proposed_agency_id', sa.Uuid(), nullable=True),
    sa.Column('decided_by_user_id', sa.Uuid(), nullable=False),
    sa.Column('decided_by_name', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_responsibility_decision_agency_id_agency')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['user_account.id'],
                            name=op.f('fk_responsibility_decision_decided_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['proposed_agency_id'], ['agency.id'],
                            name=op.f('fk_responsibility_decision_proposed_agency_id_agency')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'],
                            name=op.f('fk_responsibility_decision_referral_id_referral'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responsibility_decision'))
    )
    op.create_index('ix_responsibility_decision_referral_id_decided_at', 'responsibility_decision',
                    ['referral_id', 'decided_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_responsibility_decision_referral_id_decided_at', table_name='responsibility_decision')
    op.drop_table('responsibility_decision')
    op.drop_index('ix_referral_overlap_layer_id_referral_id', table_name='referral_overlap')
    op.drop_index(op.f('ix_referral_overlap_feature_id'), table_name='referral_overlap')
    op.drop_table('referral_overlap')
    op.drop_table('referral_placement')

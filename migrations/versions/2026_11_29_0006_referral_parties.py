"""referral parties: persons and enterprises, harms, legal basis, urgency

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('referral', sa.Column('harms_state_interests', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    # Referrals made before harms were recorded are taken to be about the public interest (what
    # every referral was submitted as until then); new ones say so explicitly.
    op.add_column('referral', sa.Column('harms_public_interest', sa.Boolean(), server_default=sa.true(),
                                        nullable=False))
    op.alter_column('referral', 'harms_public_interest', server_default=sa.false())
    op.add_column('referral', sa.Column('legal_basis', sa.Text(), nullable=True))
    op.add_column('referral', sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_check_constraint(op.f('ck_referral_names_a_harm'), 'referral',
                               'harms_state_interests OR harms_public_interest')
    op.create_table('referral_party',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('PERSON', 'ENTERPRISE', name='party_kind', native_enum=False, length=32,
                              create_constraint=True), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('id_number_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('id_number_masked', sa.String(length=18), nullable=True),
    sa.Column('id_number_index', sa.String(length=64), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.CheckConstraint("(kind = 'PERSON' AND uscc IS NULL) OR (kind = 'ENTERPRISE' AND id_number_ciphertext IS NULL)",
                       name=op.f('ck_referral_party_identifier_fits_kind')),
    sa.CheckConstraint('(id_number_ciphertext IS NULL) = (id_number_masked IS NULL) '
                       'AND (id_number_ciphertext IS NULL) = (id_number_index IS NULL)',
                       name=op.f('ck_referral_party_id_number_forms_together')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_party_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_party')),
    sa.UniqueConstraint('referral_id', 'position', name=op.f('uq_referral_party_referral_id_position'))
    )
    op.create_index('ix_referral_party_id_number_index', 'referral_party', ['id_number_index'], unique=False)
    op.create_index('ix_referral_party_uscc', 'referral_party', ['uscc'], unique=False)
    op.create_index('ix_referral_party_lower_name', 'referral_party', [sa.text('lower(name) text_pattern_ops')],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_referral_party_lower_name', table_name='referral_party')
    op.drop_index('ix_referral_party_uscc', table_name='referral_party')
    op.drop_index('ix_referral_party_id_number_index', table_name='referral_party')
    op.drop_table('referral_party')
    op.drop_constraint(op.f('ck_referral_names_a_harm'), 'referral', type_='check')
    op.drop_column('referral', 'urgent')
    op.drop_column('referral', 'legal_basis')
    op.drop_column('referral', 'harms_public_interest')
    op.drop_column('referral', 'harms_state_interests')

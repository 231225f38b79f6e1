"""enforcement cases (执法办案信息) with their parties and entry timeliness; a referral may come from one

Revision ID: 0020
Revises: 0012
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None

KINDS = ('PENALTY', 'COMPULSORY_MEASURE', 'COMPULSORY_EXECUTION', 'INSPECTION', 'LICENCE_REVOCATION',
         'ORDER_TO_RECTIFY', 'OTHER')


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_geospatial_table('enforcement_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('case_number', sa.String(length=100), nullable=False),
    sa.Column('kind', _enum('enforcement_kind', *KINDS), nullable=False),
    sa.Column('domain_code', sa.String(length=40), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('location', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT',
                                   name='geometry'), nullable=True),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_due_on', sa.Date(), nullable=False),
    sa.Column('entered_on_time', sa.Boolean(), nullable=False),
    sa.Column('entry_working_days_late', sa.Integer(), nullable=False),
    sa.Column('entry_rule_version', sa.String(length=40), nullable=False),
    sa.Column('entry_calendar_version', sa.String(length=200), nullable=False),
    sa.Column('entry_provisional', sa.Boolean(), nullable=False),
    sa.Column('content_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_enforcement_case_amount_not_negative')),
    sa.CheckConstraint('entry_working_days_late >= 0', name=op.f('ck_enforcement_case_late_not_negative')),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'],
                            name=op.f('fk_enforcement_case_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'],
                            name=op.f('fk_enforcement_case_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_enforcement_case_agency_id_agency')),
    sa.ForeignKeyConstraint(['domain_code'], ['referral_domain.code'],
                            name=op.f('fk_enforcement_case_domain_code_referral_domain')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                            name=op.f('fk_enforcement_case_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enforcement_case')),
    sa.UniqueConstraint('agency_id', 'case_number', name=op.f('uq_enforcement_case_agency_id_case_number'))
    )
    op.create_geospatial_index('idx_enforcement_case_location', 'enforcement_case', ['location'], unique=False,
                               postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_enforcement_case_entered_at_id', 'enforcement_case', ['entered_at', 'id'], unique=False)
    op.create_index('ix_enforcement_case_agency_id_entered_at_id', 'enforcement_case',
                    ['agency_id', 'entered_at', 'id'], unique=False)
    op.create_index('ix_enforcement_case_jurisdiction_id_entered_at_id', 'enforcement_case',
                    ['jurisdiction_id', 'entered_at', 'id'], unique=False)
    op.create_index('ix_enforcement_case_decided_on', 'enforcement_case', ['decided_on'], unique=False)
    op.create_index('ix_enforcement_case_amount', 'enforcement_case', ['amount'], unique=False)

    name, owner = 'enforcement_party', 'enforcement_case_id'
    op.create_table(name,
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column(owner, sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('party_kind', 'PERSON', 'ENTERPRISE'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('id_number_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('id_number_masked', sa.String(length=18), nullable=True),
    sa.Column('id_number_index', sa.String(length=64), nullable=True),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.CheckConstraint("(kind = 'PERSON' AND uscc IS NULL) OR (kind = 'ENTERPRISE' AND id_number_ciphertext IS NULL)",
                       name=op.f(f'ck_{name}_identifier_fits_kind')),
    sa.CheckConstraint('(id_number_ciphertext IS NULL) = (id_number_masked IS NULL) '
                       'AND (id_number_ciphertext IS NULL) = (id_number_index IS NULL)',
                       name=op.f(f'ck_{name}_id_number_forms_together')),
    sa.ForeignKeyConstraint([owner], ['enforcement_case.id'], name=op.f(f'fk_{name}_{owner}_enforcement_case')),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint(owner, 'position', name=op.f(f'uq_{name}_{owner}_position'))
    )
    op.create_index(f'ix_{name}_id_number_index', name, ['id_number_index'], unique=False)
    op.create_index(f'ix_{name}_uscc', name, ['uscc'], unique=False)
    op.create_index(f'ix_{name}_lower_name', name, [sa.text('lower(name) text_pattern_ops')], unique=False)

    op.create_table('enforcement_clue_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('enforcement_case_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['pil_case.id'], name=op.f('fk_enforcement_clue_case_case_id_pil_case')),
    sa.ForeignKeyConstraint(['enforcement_case_id'], ['enforcement_case.id'],
                            name=op.f('fk_enforcement_clue_case_enforcement_case_id_enforcement_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enforcement_clue_case')),
    sa.UniqueConstraint('case_id', name=op.f('uq_enforcement_clue_case_case_id'))
    )
    op.create_index(op.f('ix_enforcement_clue_case_enforcement_case_id'), 'enforcement_clue_case',
                    ['enforcement_case_id'], unique=False)

    op.add_column('referral', sa.Column('enforcement_case_id', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_referral_enforcement_case_id'), 'referral', ['enforcement_case_id'], unique=False)
    op.create_foreign_key(op.f('fk_referral_enforcement_case_id_enforcement_case'), 'referral', 'enforcement_case',
                          ['enforcement_case_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_referral_enforcement_case_id_enforcement_case'), 'referral', type_='foreignkey')
    op.drop_index(op.f('ix_referral_enforcement_case_id'), table_name='referral')
    op.drop_column('referral', 'enforcement_case_id')
    op.drop_index(op.f('ix_enforcement_clue_case_enforcement_case_id'), table_name='enforcement_clue_case')
    op.drop_table('enforcement_clue_case')
    op.drop_index('ix_enforcement_party_lower_name', table_name='enforcement_party')
    op.drop_index('ix_enforcement_party_uscc', table_name='enforcement_party')
    op.drop_index('ix_enforcement_party_id_number_index', table_name='enforcement_party')
    op.drop_table('enforcement_party')
    for index in ('ix_enforcement_case_amount', 'ix_enforcement_case_decided_on',
                  'ix_enforcement_case_jurisdiction_id_entered_at_id', 'ix_enforcement_case_agency_id_entered_at_id',
                  'ix_enforcement_case_entered_at_id'):
        op.drop_index(index, table_name='enforcement_case')
    op.drop_geospatial_index('idx_enforcement_case_location', table_name='enforcement_case', postgresql_using='gist',
                             column_name='location')
    op.drop_geospatial_table('enforcement_case')

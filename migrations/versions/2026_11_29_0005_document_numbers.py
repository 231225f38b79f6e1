"""document numbers: a 代字 per procuratorate, per-year counters, the referral's registration number

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('procuratorate', sa.Column('document_code', sa.String(length=20), nullable=True))
    # Existing procuratorates get the default the service derives (agencies.service.
    # default_document_code: the jurisdiction's name without its division suffix, then 检); an
    # administrator changes any that custom abbreviates otherwise.
    op.execute("""
        UPDATE procuratorate AS p
           SET document_code = left(regexp_replace(j.name,
                   '(.)(自治州|自治县|自治旗|新区|地区|林区|矿区|特区|区|县|市|州|盟|旗|省)$', '\\1'), 19) || '检'
          FROM jurisdiction AS j
         WHERE j.id = p.jurisdiction_id
    """)
    op.alter_column('procuratorate', 'document_code', nullable=False)
    op.create_unique_constraint(op.f('uq_procuratorate_document_code'), 'procuratorate', ['document_code'])
    op.create_table('document_counter',
    sa.Column('procuratorate_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('REFERRAL_REGISTRATION', 'CASE', 'RECOMMENDATION', name='document_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number > 0', name=op.f('ck_document_counter_last_number_positive')),
    sa.ForeignKeyConstraint(['procuratorate_id'], ['procuratorate.id'], name=op.f('fk_document_counter_procuratorate_id_procuratorate')),
    sa.PrimaryKeyConstraint('procuratorate_id', 'kind', 'year', name=op.f('pk_document_counter'))
    )
    op.add_column('referral', sa.Column('number', sa.String(length=60), nullable=True))
    op.create_unique_constraint(op.f('uq_referral_number'), 'referral', ['number'])
    # Referrals registered before numbers existed are numbered in the order they were registered,
    # per receiving procuratorate and Beijing year, and the counters continue after them.
    op.execute("""
        CREATE TEMPORARY TABLE registered_referral AS
        SELECT r.id, p.id AS procuratorate_id, p.document_code, numbered.year,
               row_number() OVER (PARTITION BY p.id, numbered.year
                                  ORDER BY numbered.registered_at, r.id) AS serial
          FROM referral AS r
          JOIN procuratorate AS p ON p.jurisdiction_id = r.jurisdiction_id
          JOIN (SELECT referral_id, min(changed_at) AS registered_at,
                       extract(year FROM min(changed_at) AT TIME ZONE 'Asia/Shanghai')::int AS year
                  FROM referral_status_change WHERE action = 'register' GROUP BY referral_id) AS numbered
            ON numbered.referral_id = r.id
    """)
    op.execute("""
        UPDATE referral SET number = n.document_code || '公益线〔' || n.year || '〕' || n.serial || '号'
          FROM registered_referral AS n WHERE referral.id = n.id
    """)
    op.execute("""
        INSERT INTO document_counter (procuratorate_id, kind, year, last_number)
        SELECT procuratorate_id, 'REFERRAL_REGISTRATION', year, max(serial)
          FROM registered_referral GROUP BY procuratorate_id, year
    """)
    op.execute("DROP TABLE registered_referral")


def downgrade() -> None:
    op.drop_constraint(op.f('uq_referral_number'), 'referral', type_='unique')
    op.drop_column('referral', 'number')
    op.drop_table('document_counter')
    op.drop_constraint(op.f('uq_procuratorate_document_code'), 'procuratorate', type_='unique')
    op.drop_column('procuratorate', 'document_code')

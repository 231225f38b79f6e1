"""evidence: kinds, and large uploads sent straight to the store through presigned URLs

Revision ID: 0018
Revises: 0012
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

KINDS = ('PHOTO', 'VIDEO', 'AUDIO', 'DOCUMENT', 'SPREADSHEET', 'GEODATA')


def _kind() -> sa.Enum:
    return sa.Enum(*KINDS, name='evidence_kind', native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.add_column('evidence', sa.Column('kind', _kind(), nullable=True))
    # Files stored before kinds take the kind a client that names none gets (evidence.kinds).
    op.execute("""
        UPDATE evidence SET kind = CASE
            WHEN media_type LIKE 'image/%' THEN 'PHOTO'
            WHEN media_type LIKE 'video/%' THEN 'VIDEO'
            WHEN media_type LIKE 'audio/%' THEN 'AUDIO'
            WHEN media_type = 'text/csv' THEN 'SPREADSHEET'
            WHEN media_type IN ('application/geo+json', 'application/vnd.google-earth.kml+xml') THEN 'GEODATA'
            ELSE 'DOCUMENT' END""")
    op.alter_column('evidence', 'kind', nullable=False)
    op.add_column('evidence', sa.Column('idempotency_key', sa.String(length=100), nullable=True))
    op.create_unique_constraint(op.f('uq_evidence_referral_id_idempotency_key'), 'evidence',
                                ['referral_id', 'idempotency_key'])
    op.add_column('pending_upload', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'evidence_upload',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('referral_id', sa.Uuid(), nullable=False),
        sa.Column('agency_id', sa.Uuid(), nullable=False),
        sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
        sa.Column('object_key', sa.String(length=200), nullable=False),
        sa.Column('store_upload_id', sa.String(length=500), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('kind', _kind(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('part_size', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.Enum('OPEN', 'CONFIRMED', 'REJECTED', name='evidence_upload_status',
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('rejection', sa.Text(), nullable=True),
        sa.Column('requested_by_user_id', sa.Uuid(), nullable=True),
        sa.Column('requested_by_api_key_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_evidence_upload_sha256_hex')),
        sa.CheckConstraint('size_bytes > 0', name=op.f('ck_evidence_upload_size_positive')),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_evidence_upload_agency_id_agency')),
        sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'],
                                name=op.f('fk_evidence_upload_jurisdiction_id_jurisdiction')),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_evidence_upload_referral_id_referral')),
        sa.ForeignKeyConstraint(['requested_by_api_key_id'], ['api_key.id'],
                                name=op.f('fk_evidence_upload_requested_by_api_key_id_api_key')),
        sa.ForeignKeyConstraint(['requested_by_user_id'], ['user_account.id'],
                                name=op.f('fk_evidence_upload_requested_by_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_upload')),
        sa.UniqueConstraint('object_key', name=op.f('uq_evidence_upload_object_key')),
    )
    op.create_index(op.f('ix_evidence_upload_agency_id'), 'evidence_upload', ['agency_id'], unique=False)
    op.create_index(op.f('ix_evidence_upload_jurisdiction_id'), 'evidence_upload', ['jurisdiction_id'], unique=False)
    op.create_index(op.f('ix_evidence_upload_referral_id'), 'evidence_upload', ['referral_id'], unique=False)


def downgrade() -> None:
    op.drop_table('evidence_upload')
    op.drop_column('pending_upload', 'expires_at')
    op.drop_constraint(op.f('uq_evidence_referral_id_idempotency_key'), 'evidence', type_='unique')
    op.drop_column('evidence', 'idempotency_key')
    op.drop_column('evidence', 'kind')

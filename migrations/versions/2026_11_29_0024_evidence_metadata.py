"""evidence: what a photo knows (position, capture time, distance, preview) and declared positions;
presigned uploads for every evidence owner

Revision ID: 0024
Revises: 0019
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0025'
branch_labels = None
depends_on = None

OWNER_COLUMNS = {'REFERRAL': 'referral_id', 'REPLY': 'reply_id', 'RECTIFICATION_REPORT': 'rectification_report_id',
                 'RECTIFICATION_CHECK': 'rectification_check_id'}


def _one_owner() -> str:
    """As evidence.models.ONE_OWNER is written at this revision: exactly the kind's column is set."""
    def owned_by(kind: str) -> str:
        nulls = [f"{column} IS {'NOT NULL' if column == OWNER_COLUMNS[kind] else 'NULL'}"
                 for column in OWNER_COLUMNS.values()]
        return f"(owner_kind = '{kind}' AND {' AND '.join(nulls)})"

    return " OR ".join(owned_by(kind) for kind in OWNER_COLUMNS)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _point() -> geoalchemy2.Geometry:
    return geoalchemy2.Geometry(geometry_type='POINT', srid=4326, spatial_index=False)


def upgrade() -> None:
    op.add_column('evidence', sa.Column('position', _point(), nullable=True))
    op.create_geospatial_index('idx_evidence_position', 'evidence', ['position'], unique=False,
                               postgresql_using='gist', postgresql_ops={})
    op.add_column('evidence', sa.Column('position_source', _enum('evidence_position_source', 'EXIF', 'DECLARED',
                                                                 'NONE'), server_default='NONE', nullable=False))
    op.add_column('evidence', sa.Column('position_accuracy_m', sa.Float(), nullable=True))
    op.add_column('evidence', sa.Column('declared_position', _point(), nullable=True))
    op.add_column('evidence', sa.Column('declared_accuracy_m', sa.Float(), nullable=True))
    op.add_column('evidence', sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('evidence', sa.Column('captured_at_source', _enum('evidence_captured_at_source', 'EXIF', 'EXIF_GPS',
                                                                    'EXIF_LOCAL', 'NONE'),
                                        server_default='NONE', nullable=False))
    op.add_column('evidence', sa.Column('distance_from_referral_m', sa.Float(), nullable=True))
    op.add_column('evidence', sa.Column('far_from_referral', sa.Boolean(), nullable=True))
    op.add_column('evidence', sa.Column('metadata_status', _enum('evidence_metadata_status', 'PENDING', 'DONE', 'NONE',
                                                                 'FAILED'),
                                        server_default='NONE', nullable=False))
    op.add_column('evidence', sa.Column('metadata_problem', sa.Text(), nullable=True))
    op.add_column('evidence', sa.Column('metadata_read_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('evidence', sa.Column('preview_object_key', sa.String(length=200), nullable=True))
    op.add_column('evidence', sa.Column('preview_version_id', sa.String(length=200), nullable=True))
    op.add_column('evidence', sa.Column('preview_media_type', sa.String(length=127), nullable=True))
    # Photos stored before this revision are read by the worker (or `manage evidence-metadata`).
    op.execute("UPDATE evidence SET metadata_status = 'PENDING' WHERE kind = 'PHOTO'")
    for column in ('position_source', 'captured_at_source', 'metadata_status'):
        op.alter_column('evidence', column, server_default=None)
    op.create_check_constraint(op.f('ck_evidence_position_accuracy_positive'), 'evidence',
                               'position_accuracy_m IS NULL OR position_accuracy_m >= 0')
    op.create_check_constraint(op.f('ck_evidence_declared_accuracy_positive'), 'evidence',
                               'declared_accuracy_m IS NULL OR declared_accuracy_m >= 0')
    op.create_index('ix_evidence_metadata_pending', 'evidence', ['uploaded_at'],
                    postgresql_where=sa.text("metadata_status = 'PENDING'"))

    op.add_column('evidence_upload', sa.Column(
        'owner_kind', _enum('evidence_owner_kind', *OWNER_COLUMNS), server_default='REFERRAL', nullable=False))
    op.alter_column('evidence_upload', 'owner_kind', server_default=None)
    op.alter_column('evidence_upload', 'referral_id', nullable=True)
    op.add_column('evidence_upload', sa.Column('reply_id', sa.Uuid(), nullable=True))
    op.add_column('evidence_upload', sa.Column('rectification_report_id', sa.Uuid(), nullable=True))
    op.add_column('evidence_upload', sa.Column('rectification_check_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_evidence_upload_reply_id_recommendation_reply'), 'evidence_upload',
                          'recommendation_reply', ['reply_id'], ['id'])
    op.create_foreign_key(op.f('fk_evidence_upload_rectification_report_id_rectification_report'), 'evidence_upload',
                          'rectification_report', ['rectification_report_id'], ['id'])
    op.create_foreign_key(op.f('fk_evidence_upload_rectification_check_id_rectification_check'), 'evidence_upload',
                          'rectification_check', ['rectification_check_id'], ['id'])
    op.create_check_constraint(op.f('ck_evidence_upload_one_owner'), 'evidence_upload', _one_owner())
    op.add_column('evidence_upload', sa.Column('declared_position', _point(), nullable=True))
    op.add_column('evidence_upload', sa.Column('declared_accuracy_m', sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column('evidence_upload', 'declared_accuracy_m')
    op.drop_column('evidence_upload', 'declared_position')
    op.drop_constraint(op.f('ck_evidence_upload_one_owner'), 'evidence_upload', type_='check')
    op.execute("DELETE FROM evidence_upload WHERE referral_id IS NULL")
    for column in ('rectification_check_id', 'rectification_report_id', 'reply_id'):
        op.drop_column('evidence_upload', column)
    op.alter_column('evidence_upload', 'referral_id', nullable=False)
    op.drop_column('evidence_upload', 'owner_kind')
    op.drop_index('ix_evidence_metadata_pending', table_name='evidence')
    op.drop_constraint(op.f('ck_evidence_declared_accuracy_positive'), 'evidence', type_='check')
    op.drop_constraint(op.f('ck_evidence_position_accuracy_positive'), 'evidence', type_='check')
    for column in ('preview_media_type', 'preview_version_id', 'preview_object_key', 'metadata_read_at',
                   'metadata_problem', 'metadata_status', 'distance_from_referral_m', 'far_from_referral',
                   'captured_at_source', 'captured_at', 'declared_accuracy_m', 'declared_position',
                   'position_accuracy_m', 'position_source'):
        op.drop_column('evidence', column)
    op.drop_geospatial_index('idx_evidence_position', table_name='evidence', postgresql_using='gist',
                             column_name='position')
    op.drop_column('evidence', 'position')

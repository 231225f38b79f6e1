"""deadlines: the working calendar (filled from chinese-calendar) and the deadlines computed on it

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _package_calendar() -> tuple[list[dict], list[dict]]:
    """Every year chinese-calendar holds, as the package installed now has it (a later year is
    loaded with `python -m app.manage load-calendar`, or entered by an administrator)."""
    import chinese_calendar

    source = f"chinese-calendar {chinese_calendar.__version__}"
    names = {holiday.value: f"{holiday.chinese} {holiday.value}" for holiday in chinese_calendar.Holiday}
    years = sorted({day.year for day in chinese_calendar.holidays})
    year_rows = [{"year": year, "revision": 1, "source": source, "reason": "初始导入 / initial load",
                  "changed_at": datetime.now(timezone.utc)}
                 for year in years]
    day_rows = [{"day": day, "year": day.year, "kind": kind, "name": names.get(name, name)}
                for kind, days in (("HOLIDAY", chinese_calendar.holidays),
                                   ("ADJUSTED_WORKDAY", chinese_calendar.workdays))
                for day, name in days.items()]
    return year_rows, day_rows


def upgrade() -> None:
    calendar_year = op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    calendar_day = op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('HOLIDAY', 'ADJUSTED_WORKDAY', name='calendar_day_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['year'], ['calendar_year.year'], name=op.f('fk_calendar_day_year_calendar_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day'))
    )
    op.create_index(op.f('ix_calendar_day_year'), 'calendar_day', ['year'], unique=False)
    op.create_table('deadline',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('rule_code', sa.String(length=40), nullable=False),
    sa.Column('rule_version', sa.String(length=20), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('met_on', sa.Date(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('calendar_version', sa.String(length=400), nullable=False),
    sa.Column('explanation', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_deadline_agency_id_agency')),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], name=op.f('fk_deadline_jurisdiction_id_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline')),
    sa.UniqueConstraint('subject_kind', 'subject_id', 'rule_code', name=op.f('uq_deadline_subject_kind_subject_id_rule_code'))
    )
    op.create_index('ix_deadline_due_on', 'deadline', ['due_on'], unique=False)
    op.create_table('deadline_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deadline_id', sa.Uuid(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('before_due_on', sa.Date(), nullable=False),
    sa.Column('after_due_on', sa.Date(), nullable=False),
    sa.Column('before_provisional', sa.Boolean(), nullable=False),
    sa.Column('after_provisional', sa.Boolean(), nullable=False),
    sa.Column('before_calendar_version', sa.String(length=400), nullable=False),
    sa.Column('after_calendar_version', sa.String(length=400), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['actor_api_key_id'], ['api_key.id'], name=op.f('fk_deadline_change_actor_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_deadline_change_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name=op.f('fk_deadline_change_deadline_id_deadline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_change'))
    )
    op.create_index(op.f('ix_deadline_change_deadline_id'), 'deadline_change', ['deadline_id'], unique=False)

    year_rows, day_rows = _package_calendar()
    op.bulk_insert(calendar_year, year_rows)
    op.bulk_insert(calendar_day, day_rows)


def downgrade() -> None:
    op.drop_index(op.f('ix_deadline_change_deadline_id'), table_name='deadline_change')
    op.drop_table('deadline_change')
    op.drop_index('ix_deadline_due_on', table_name='deadline')
    op.drop_table('deadline')
    op.drop_index(op.f('ix_calendar_day_year'), table_name='calendar_day')
    op.drop_table('calendar_day')
    op.drop_table('calendar_year')

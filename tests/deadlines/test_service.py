"""The functions other packages call: open, meet, read scoped (the GraphQL side is tested through the
referral's acknowledgement deadline)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from agencies.models import Agency, Role
from agencies.principal import Principal
from core.errors import ValidationFailed
from deadlines import service
from deadlines.models import DeadlineChange


async def _agency(session, world, name: str) -> Agency:
    return await session.get(Agency, uuid.UUID(world.ids[f"agency:{name}"]))


async def test_open_meet_and_read_scoped(resources, world):
    async with resources.session_factory() as session:
        agency = await _agency(session, world, "A")
        subject = uuid.uuid4()
        opened = await service.open_deadline(
            session, rule="RECOMMENDATION_REPLY", start_on=date(2026, 8, 1), subject_kind="RECOMMENDATION",
            subject_id=subject, agency_id=agency.id, jurisdiction_id=agency.jurisdiction_id)
        assert (opened.due_on, opened.provisional, opened.rule_version) == (date(2026, 10, 8), False, "2020.1")
        assert opened.explanation["nominalEnd"] == "2026-10-01"
        # Every attribute is there without another statement (a GraphQL type can be made from it).
        assert (opened.met_on, opened.cancelled_on, opened.created_at is not None) == (None, None, True)
        # Opening again with the same start changes nothing.
        again = await service.open_deadline(
            session, rule="RECOMMENDATION_REPLY", start_on=date(2026, 8, 1), subject_kind="RECOMMENDATION",
            subject_id=subject, agency_id=agency.id, jurisdiction_id=agency.jurisdiction_id)
        assert again.id == opened.id
        # A corrected start recomputes and records why.
        corrected = await service.open_deadline(
            session, rule="RECOMMENDATION_REPLY", start_on=date(2026, 8, 10), subject_kind="RECOMMENDATION",
            subject_id=subject, agency_id=agency.id, jurisdiction_id=agency.jurisdiction_id)
        assert corrected.id == opened.id and corrected.due_on == date(2026, 10, 10)  # a Saturday worked
        change = await session.scalar(select(DeadlineChange).where(DeadlineChange.deadline_id == opened.id))
        assert (change.before_due_on, change.after_due_on) == (date(2026, 10, 8), date(2026, 10, 10))

        await service.meet_deadline(session, subject_kind="RECOMMENDATION", subject_id=subject,
                                    met_on=date(2026, 9, 30))
        await service.meet_deadline(session, subject_kind="RECOMMENDATION", subject_id=subject,
                                    met_on=date(2026, 10, 30))  # idempotent: the first date stays
        liaison_a = Principal(role=Role.AGENCY_LIAISON, username="a", agency_id=agency.id)
        other = Principal(role=Role.AGENCY_LIAISON, username="b", agency_id=uuid.UUID(world.ids["agency:B"]))
        seen = await service.deadlines_of(session, principal=liaison_a, subject_kind="RECOMMENDATION",
                                          subject_ids=[subject])
        assert [row.met_on for row in seen[subject]] == [date(2026, 9, 30)]
        assert await service.deadlines_of(session, principal=other, subject_kind="RECOMMENDATION",
                                          subject_ids=[subject]) == {subject: []}
        await session.commit()


async def test_a_given_date_only_for_a_rule_that_takes_one(resources, world):
    async with resources.session_factory() as session:
        agency = await _agency(session, world, "A")
        common = dict(start_on=date(2026, 9, 1), subject_kind="RECTIFICATION_STAGE", subject_id=uuid.uuid4(),
                      agency_id=agency.id, jurisdiction_id=agency.jurisdiction_id)
        with pytest.raises(ValidationFailed) as missing:
            await service.open_deadline(session, rule="RECTIFICATION_STAGE", **common)
        assert missing.value.field == "dueOn"
        with pytest.raises(ValidationFailed) as refused:
            await service.open_deadline(session, rule="CIVIL_ANNOUNCEMENT", due_on=date(2026, 10, 1), **common)
        assert refused.value.field == "dueOn"
        with pytest.raises(ValidationFailed) as unknown:
            await service.open_deadline(session, rule="NO_SUCH_RULE", **common)
        assert unknown.value.field == "rule"
        stage = await service.open_deadline(session, rule="RECTIFICATION_STAGE", due_on=date(2026, 10, 3), **common)
        assert stage.due_on == date(2026, 10, 3)
        # A revised plan moves the date, and the change says so.
        moved = await service.open_deadline(session, rule="RECTIFICATION_STAGE", due_on=date(2026, 11, 2), **common)
        assert (moved.id, moved.due_on) == (stage.id, date(2026, 11, 2))
        change = await session.scalar(select(DeadlineChange).where(DeadlineChange.deadline_id == stage.id))
        assert (change.before_due_on, change.after_due_on) == (date(2026, 10, 3), date(2026, 11, 2))
        assert "2026-11-02" in change.reason
        await session.rollback()

"""The stages of a case after filing: pre-litigation consultation (诉前磋商), the announcement of a
civil claim (公告), litigation (提起诉讼) and closing (结案). Each status change goes through the case
machine (cases.flows); what the table cannot say (which kind of case, which dates, which outcome
from which status) is checked here. The recommendation and its follow-up are the recommendations
package's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies import service as agencies_service
from agencies.models import Role
from agencies.principal import Principal
from cases.flows import CASE_MACHINE, CIVIL_CLAIM_KINDS, OUTCOME_SOURCES, OUTCOMES_FROM_COURT, CaseAction
from cases.models import (
    AnnouncementOutcome,
    Case,
    CaseKind,
    CaseOutcome,
    CaseStatus,
    ConsultationMeeting,
    ConsultationParticipantRole,
)
from cases.service import case_for, visible
from core import clock
from core.clock import check_date
from core.errors import Conflict, InvalidTransition, ValidationFailed
from core.loaders import grouped
from core.state_machine import MAX_REASON_LENGTH, apply_transition
from core.text import clean_text
from deadlines import service as deadlines_service

MAX_PARTICIPANTS = 50
MAX_FACTS_LENGTH = 20000


@dataclass(frozen=True)
class Participant:
    name: str
    role: str


@dataclass(frozen=True)
class ConsultationStart:
    # The agency consulted: the referring agency unless another is named (the agency responsible
    # for the harm is not always the one that referred it).
    agency_id: str | None = None
    started_on: date | None = None


@dataclass(frozen=True)
class MeetingRecord:
    held_on: date
    place: str
    participants: tuple[Participant, ...]
    agreed_facts: str


@dataclass(frozen=True)
class CourtDecision:
    court: str
    document_number: str
    decided_on: date


@dataclass(frozen=True)
class Closing:
    outcome: CaseOutcome
    summary: str
    closed_on: date | None = None
    court_decision: CourtDecision | None = None


def _not_before_filing(case: Case, day: date | None, field: str) -> date:
    day = check_date(day, field, not_after_today=True) or clock.today()
    if day < case.filed_on:
        raise ValidationFailed(f"{field} 不能早于立案日期 {case.filed_on} / {field} cannot precede the filing "
                               f"date {case.filed_on}", field=field)
    return day


def checked_participants(participants: tuple[Participant, ...], roles: type, *, field: str = "participants"
                         ) -> list[dict[str, str]]:
    """Participants as stored (name and role), at least one and at most MAX_PARTICIPANTS."""
    if not participants:
        raise ValidationFailed("请列出参加人员 / name at least one participant", field=field)
    if len(participants) > MAX_PARTICIPANTS:
        raise ValidationFailed(f"参加人员最多{MAX_PARTICIPANTS}人 / at most {MAX_PARTICIPANTS} participants",
                               field=field)
    return [{"name": clean_text(participant.name, f"{field}.{index}.name", 100, required=True),
             "role": roles(participant.role).value}
            for index, participant in enumerate(participants)]


async def _transition(session: AsyncSession, principal: Principal, case_id: str, action: CaseAction,
                      reason: str | None = None) -> tuple[Case, CaseStatus]:
    """Find the case within scope (NOT_FOUND), check the role (FORBIDDEN) before anything about
    the case is said, then move it (INVALID_TRANSITION from a status the table does not allow).
    Returns the case and the status it left. The checks that follow may still refuse: the
    request then fails as a whole and the move is rolled back with it."""
    case = await case_for(session, principal=principal, case_id=case_id, roles=tuple(CASE_MACHINE.roles_for(action)))
    history = await apply_transition(session, principal=principal, machine=CASE_MACHINE, row=case, action=action,
                                     reason=reason)
    return case, history.from_status


def _refuse_kind(case: Case, action: CaseAction, allowed: frozenset[CaseKind], why: str) -> None:
    if case.kind not in allowed:
        raise InvalidTransition(why, kind=case.kind.value, action=action.value)


async def start_consultation(session: AsyncSession, *, principal: Principal, case_id: str,
                             start: ConsultationStart) -> Case:
    """Pre-litigation consultation with the agency (诉前磋商, 办案规则 art. 70): an administrative
    case only (FILED → CONSULTATION)."""
    case, _ = await _transition(session, principal, case_id, CaseAction.CONSULT)
    _refuse_kind(case, CaseAction.CONSULT, frozenset({CaseKind.ADMINISTRATIVE}),
                 "只有行政公益诉讼案件可以诉前磋商 / only an administrative case goes to pre-litigation "
                 "consultation")
    agency_id = start.agency_id or case.agency_id
    if agency_id is None:
        raise ValidationFailed("请指定磋商的行政机关 / name the agency to consult (the case has no referring "
                               "agency)", field="agencyId")
    # An agency outside the prosecutor's scope is NOT_FOUND, as everywhere.
    agency = await agencies_service.get_agency(session, principal=principal, agency_id=agency_id)
    case.consulted_agency_id = agency.id
    case.consultation_started_on = _not_before_filing(case, start.started_on, "startedOn")
    await session.flush()
    return case


async def record_consultation_meeting(session: AsyncSession, *, principal: Principal, case_id: str,
                                      meeting: MeetingRecord) -> ConsultationMeeting:
    """A consultation meeting, recorded while or after it happens (data entry often lags):
    whenever the case has gone to consultation, on a day since it started."""
    case = await case_for(session, principal=principal, case_id=case_id)
    if case.consultation_started_on is None:
        raise InvalidTransition("案件尚未进入诉前磋商 / the case has not gone to consultation",
                                status=case.status.value)
    held_on = check_date(meeting.held_on, "heldOn", not_after_today=True)
    if held_on < case.consultation_started_on:
        raise ValidationFailed(f"磋商日期不能早于磋商开始日期 {case.consultation_started_on} / heldOn cannot "
                               f"precede the consultation's start on {case.consultation_started_on}",
                               field="heldOn")
    row = ConsultationMeeting(
        case_id=case.id, held_on=held_on, place=clean_text(meeting.place, "place", 200, required=True),
        participants=checked_participants(meeting.participants, ConsultationParticipantRole),
        agreed_facts=clean_text(meeting.agreed_facts, "agreedFacts", MAX_FACTS_LENGTH, required=True))
    row.set_actor(principal)
    session.add(row)
    await session.flush()
    return row


def consultations_visible(principal: Principal):
    """Who reads a consultation: everyone who sees the case, except that an agency reads only a
    consultation held with it. A consultation is a meeting between the procuratorate and one
    agency whose agreed facts both sides sign; when the agency consulted is not the referring
    one, the referring agency has no part in it (as an addressee agency sees only its own
    recommendation)."""
    condition = visible(principal)
    if principal.role is Role.AGENCY_LIAISON:
        condition = condition & (Case.consulted_agency_id == principal.agency_id)
    return condition


async def meetings_of(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]
                      ) -> dict[uuid.UUID, list[ConsultationMeeting]]:
    rows = await session.scalars(select(ConsultationMeeting).join(Case, Case.id == ConsultationMeeting.case_id)
                                 .where(ConsultationMeeting.case_id.in_(case_ids), consultations_visible(principal))
                                 .order_by(ConsultationMeeting.held_on, ConsultationMeeting.created_at))
    return grouped(rows, case_ids, key=lambda row: row.case_id)


def sees_consultation(principal: Principal, case: Case) -> bool:
    return principal.role is not Role.AGENCY_LIAISON or case.consulted_agency_id == principal.agency_id


# A case's deadlines are filed under this subject kind (deadlines.models.Deadline.subject_kind).
DEADLINE_SUBJECT = "CASE"
# 法释〔2018〕6号 art. 13: thirty days, the rule and its computation in deadlines/rules.toml.
ANNOUNCEMENT_RULE = "CIVIL_ANNOUNCEMENT"


async def announcement_ends_on(session: AsyncSession, principal: Principal, case: Case) -> date:
    """The last day of the case's announcement period: its deadline's due date, read each time
    (a change of the official calendar recomputes it)."""
    deadlines = await deadlines_service.deadlines_of(session, principal=principal, subject_kind=DEADLINE_SUBJECT,
                                                     subject_ids=[case.id])
    return next(row.due_on for row in deadlines[case.id] if row.rule_code == ANNOUNCEMENT_RULE)


async def _announcement_settled(session: AsyncSession, case: Case, day: date) -> None:
    """The announcement's outcome is known (an organisation came forward, none did, the suit was
    filed, the case closed): its period no longer waits for anything."""
    await deadlines_service.meet_deadline(session, subject_kind=DEADLINE_SUBJECT, subject_id=case.id,
                                          rule=ANNOUNCEMENT_RULE, met_on=day)


async def announce_case(session: AsyncSession, *, principal: Principal, case_id: str, published_on: date,
                        medium: str) -> Case:
    """Publish the announcement of a civil claim (FILED → ANNOUNCED): for 30 days any organisation
    the law names may sue instead; the procuratorate may sue only after the period."""
    case, _ = await _transition(session, principal, case_id, CaseAction.ANNOUNCE)
    _refuse_kind(case, CaseAction.ANNOUNCE, CIVIL_CLAIM_KINDS,
                 "只有民事公益诉讼和刑事附带民事公益诉讼案件需要公告 / only a civil claim is announced")
    case.announcement_published_on = _not_before_filing(case, published_on, "publishedOn")
    case.announcement_medium = clean_text(medium, "medium", 200, required=True)
    await deadlines_service.open_deadline(
        session, rule=ANNOUNCEMENT_RULE, start_on=case.announcement_published_on, subject_kind=DEADLINE_SUBJECT,
        subject_id=case.id, agency_id=case.agency_id, jurisdiction_id=case.jurisdiction_id, principal=principal)
    await session.flush()
    return case


def _period_still_running(case: Case, ends_on: date, day: date, field: str) -> InvalidTransition:
    return InvalidTransition(
        f"公告期至 {ends_on} 届满，{day} 尚在公告期内 / the announcement period ends on {ends_on}; {field} {day} "
        f"is within it", status=case.status.value, announcementEndsOn=ends_on.isoformat())


async def record_announcement_outcome(session: AsyncSession, *, principal: Principal, case_id: str,
                                      organisation_came_forward: bool, organisation: str | None,
                                      recorded_on: date | None) -> Case:
    """What came of the announcement: an organisation came forward (any day from publication), or
    none did (only once the period is over). Recorded once."""
    case = await case_for(session, principal=principal, case_id=case_id)
    await session.refresh(case, with_for_update=True)
    if case.status is not CaseStatus.ANNOUNCED:
        raise InvalidTransition("案件不在公告期 / the case is not announced", status=case.status.value)
    day = check_date(recorded_on, "recordedOn", not_after_today=True) or clock.today()
    if day < case.announcement_published_on:
        raise ValidationFailed(f"recordedOn 不能早于公告日期 {case.announcement_published_on} / recordedOn cannot "
                               f"precede the publication on {case.announcement_published_on}", field="recordedOn")
    name = clean_text(organisation, "organisation", 200, required=organisation_came_forward)
    if not organisation_came_forward:
        if name:
            raise ValidationFailed("无组织起诉时不填写组织名称 / no organisation is named when none came forward",
                                   field="organisation")
        if day <= (ends_on := await announcement_ends_on(session, principal, case)):
            raise _period_still_running(case, ends_on, day, "recordedOn")
    if case.announcement_outcome is not None:
        raise Conflict(f"公告结果已记录 / the announcement's outcome was already recorded "
                       f"({case.announcement_outcome.value})")
    case.announcement_outcome = (AnnouncementOutcome.ORGANISATION_CAME_FORWARD if organisation_came_forward
                                 else AnnouncementOutcome.NO_ORGANISATION)
    case.announcement_organisation = name
    case.announcement_outcome_on = day
    await _announcement_settled(session, case, day)
    await session.flush()
    return case


async def file_litigation(session: AsyncSession, *, principal: Principal, case_id: str, court: str,
                          filed_on: date | None, claims: str) -> Case:
    """Sue (→ LITIGATION): an administrative case from follow-up (after a recommendation that was
    not complied with, 行政诉讼法 art. 25(4)); a civil claim once its announcement period is over
    and no organisation came forward."""
    case, source = await _transition(session, principal, case_id, CaseAction.FILE_LITIGATION)
    # The table lets follow-up sue, for the administrative suit; a civil claim reopened for
    # follow-up (回头看) is sued only after an announcement, never straight from follow-up.
    _refuse_kind(case, CaseAction.FILE_LITIGATION,
                 frozenset({CaseKind.ADMINISTRATIVE}) if source is CaseStatus.FOLLOW_UP else CIVIL_CLAIM_KINDS,
                 "民事公益诉讼须经公告后起诉 / a civil claim is sued only after its announcement")
    day = _not_before_filing(case, filed_on, "filedOn")
    court_name = clean_text(court, "court", 200, required=True)
    claims_text = clean_text(claims, "claims", MAX_FACTS_LENGTH, required=True)
    if source is CaseStatus.ANNOUNCED:
        if day <= (ends_on := await announcement_ends_on(session, principal, case)):
            raise _period_still_running(case, ends_on, day, "filedOn")
        if case.announcement_outcome is AnnouncementOutcome.ORGANISATION_CAME_FORWARD:
            raise InvalidTransition(
                f"已有组织（{case.announcement_organisation}）起诉，检察机关可支持起诉，结案请用 SUED_BY_ORGANISATION / "
                f"an organisation came forward ({case.announcement_organisation}); close the case with "
                f"SUED_BY_ORGANISATION instead", status=CaseStatus.ANNOUNCED.value)
        if case.announcement_outcome is None:
            # Suing after the period states that no organisation came forward within it.
            case.announcement_outcome = AnnouncementOutcome.NO_ORGANISATION
            case.announcement_outcome_on = day
            await _announcement_settled(session, case, day)
    case.litigation_court, case.litigation_filed_on, case.litigation_claims = court_name, day, claims_text
    await session.flush()
    return case


def _checked_court_decision(case: Case, closing: Closing, closed_on: date) -> CourtDecision | None:
    if closing.outcome not in OUTCOMES_FROM_COURT:
        if closing.court_decision is not None:
            raise ValidationFailed(f"结案方式 {closing.outcome.value} 不附法院文书 / outcome {closing.outcome.value} "
                                   "carries no court document", field="courtDecision")
        return None
    if closing.court_decision is None:
        raise ValidationFailed(f"结案方式 {closing.outcome.value} 须填写法院、文书号和日期 / outcome "
                               f"{closing.outcome.value} needs the court, the document number and its date",
                               field="courtDecision")
    decided_on = check_date(closing.court_decision.decided_on, "courtDecision.decidedOn", not_after_today=True)
    if decided_on < case.litigation_filed_on or decided_on > closed_on:
        raise ValidationFailed(f"裁判日期应在起诉日期 {case.litigation_filed_on} 与结案日期 {closed_on} 之间 / "
                               f"the court's decision falls between the suit ({case.litigation_filed_on}) "
                               f"and the closing ({closed_on})", field="courtDecision.decidedOn")
    return CourtDecision(court=clean_text(closing.court_decision.court, "courtDecision.court", 200, required=True),
                    document_number=clean_text(closing.court_decision.document_number, "courtDecision.documentNumber", 100,
                                               required=True),
                    decided_on=decided_on)


async def close_case(session: AsyncSession, *, principal: Principal, case_id: str, closing: Closing) -> Case:
    """Close a case (→ CLOSED) with its outcome and a summary (the transition's reason). Which
    outcome fits which status and kind is cases.flows.OUTCOME_SOURCES; an outcome a court decided
    records the court's document."""
    case = await case_for(session, principal=principal, case_id=case_id,
                          roles=tuple(CASE_MACHINE.roles_for(CaseAction.CLOSE)))
    summary = clean_text(closing.summary, "summary", MAX_REASON_LENGTH, required=True)
    history = await apply_transition(session, principal=principal, machine=CASE_MACHINE, row=case,
                                     action=CaseAction.CLOSE, reason=summary)
    source = history.from_status
    kinds = OUTCOME_SOURCES[closing.outcome].get(source)
    if kinds is None or case.kind not in kinds:
        fits = ", ".join(sorted(status.value for status in OUTCOME_SOURCES[closing.outcome]))
        raise ValidationFailed(
            f"{source.value} 状态的{_KIND_NAMES[case.kind]}案件不能以 {closing.outcome.value} 结案 / a "
            f"{case.kind.value} case in {source.value} cannot close with {closing.outcome.value} "
            f"(it closes a case in: {fits})", field="outcome")
    if (closing.outcome is CaseOutcome.SUED_BY_ORGANISATION
            and case.announcement_outcome is not AnnouncementOutcome.ORGANISATION_CAME_FORWARD):
        raise ValidationFailed("尚未记录有组织起诉 / no organisation has been recorded as coming forward "
                               "(recordAnnouncementOutcome)", field="outcome")
    closed_on = _not_before_filing(case, closing.closed_on, "closedOn")
    decision = _checked_court_decision(case, closing, closed_on)
    if source is CaseStatus.ANNOUNCED:
        await _announcement_settled(session, case, closed_on)
    case.outcome, case.outcome_summary, case.closed_on = closing.outcome, summary, closed_on
    case.judgment_court = decision.court if decision else None
    case.judgment_document_number = decision.document_number if decision else None
    case.judgment_on = decision.decided_on if decision else None
    await session.flush()
    return case


_KIND_NAMES = {CaseKind.ADMINISTRATIVE: "行政", CaseKind.CIVIL: "民事", CaseKind.CRIMINAL_INCIDENTAL_CIVIL: "刑事附带民事"}


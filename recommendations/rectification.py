"""Rules for what follows a served recommendation: the addressee agency's one written reply with
its staged rectification plan, the agency's later progress reports, and the procuratorate's
rectification checks (follow-up checks months later, 回头看, included).

A reply says what the agency will do; only a check says whether the harm was put right. Nothing
here lets a reply or a progress report set a rectification result.

Files go through the evidence service's streamed path (pending reservations committed before any
byte is sent, SHA-256 on the way, sniffed types, size limits, legal hold), owned by the reply, the
report or the check, and scoped to the addressee agency and the case's jurisdiction: the reply's
attachments belong to the addressee, which need not be the referring agency."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from geoalchemy2.shape import from_shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Role
from agencies.principal import Principal
from cases.flows import CASE_MACHINE, CaseAction
from cases.models import Case, CaseStatus
from core import clock
from core.clock import check_date
from core.db import utcnow
from core.errors import Conflict, InvalidTransition, ValidationFailed
from core.loaders import grouped
from core.permissions import require
from core.state_machine import apply_transition
from core.text import clean_text
from deadlines.service import meet_deadline, open_deadline
from evidence.kinds import BombLimits
from evidence.models import Evidence, EvidenceOwnerKind
from evidence.service import (
    EvidenceOwner,
    IncomingFile,
    check_description,
    reserve_uploads,
    settle_uploads,
    store_evidence,
)
from evidence.storage import EvidenceStore
from geo.geometry import CoordinateSystem, parse_geometry
from notifications import events as notification_events
from recommendations.flows import RECOMMENDATION_MACHINE, RecommendationAction
from recommendations.models import (
    Recommendation,
    RecommendationReply,
    RectificationCheck,
    RectificationReport,
    RectificationResult,
    RectificationStage,
)
from recommendations.service import SUBJECT_KIND, get_recommendation, parse_id, reply_rule, visible

# As many as one multipart request may carry (app.graphql.PlatformRouter.max_files).
MAX_ATTACHMENTS = 20
MAX_STAGES = 50
MAX_OPEN_ITEMS = 100
STAGE_SUBJECT_KIND = "RECTIFICATION_STAGE"  # what deadlines call a stage of a plan
STAGE_RULE = "RECTIFICATION_STAGE"  # its date is the plan's, not computed (deadlines/rules.toml)


@dataclass(frozen=True)
class StagePlan:
    milestone: str
    due_on: date
    percent_complete: int = 0


@dataclass(frozen=True)
class ReplyDraft:
    accepted: bool
    measures_taken: str | None = None
    reasons: str | None = None
    stages: tuple[StagePlan, ...] = ()


@dataclass(frozen=True)
class StageUpdate:
    stage_id: str
    percent_complete: int


@dataclass(frozen=True)
class ProgressReport:
    updates: tuple[StageUpdate, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class CheckRecord:
    result: RectificationResult
    checked_on: date
    findings: str
    location: object
    crs: CoordinateSystem = CoordinateSystem.WGS84
    open_items: tuple[str, ...] = ()
    follow_up_of: str | None = None
    resolved_open_items: tuple[str, ...] = ()  # ids of the followed-up check's items now done
    reopen_reason: str | None = None  # reopens follow-up of a closed case


def _check_files(files: list[IncomingFile], field: str) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"一次最多上传{MAX_ATTACHMENTS}个文件 / at most {MAX_ATTACHMENTS} files at a time",
                               field=field)
    for index, incoming in enumerate(files):
        check_description(incoming, field=f"{field}.{index}")


async def _store_files(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                       owner: EvidenceOwner, files: list[IncomingFile], max_upload_bytes: int,
                       limits: BombLimits, field: str) -> tuple[list[Evidence], list[str]]:
    """Reserve, then stream each file into the store; returns the evidence rows to add and the
    keys to settle in the same transaction. This commits the request's reads so far and hands
    the connection back while bytes move (evidence.service.reserve_uploads)."""
    prefix = f"{owner.kind.value.lower()}/{owner.id}"
    reservations = await reserve_uploads(session, owner_prefix=prefix, count=len(files))
    evidence = [await store_evidence(session, principal=principal, store=store, owner=owner,
                                     reservation=reservation, incoming=incoming, max_bytes=max_upload_bytes, limits=limits,
                                     field=f"{field}.{index}")
                for index, (reservation, incoming) in enumerate(zip(reservations, files, strict=True))]
    return evidence, [reservation.object_key for reservation in reservations]


def _percent(value: int, field: str) -> int:
    if not 0 <= value <= 100:
        raise ValidationFailed("完成百分比应在 0 到 100 之间 / percentComplete must lie between 0 and 100", field=field)
    return value


def _stages(plans: tuple[StagePlan, ...]) -> list[dict]:
    if len(plans) > MAX_STAGES:
        raise ValidationFailed(f"整改阶段最多{MAX_STAGES}个 / at most {MAX_STAGES} stages", field="stages")
    stages = [{"milestone": clean_text(plan.milestone, f"stages.{index}.milestone", 300, required=True),
               "due_on": check_date(plan.due_on, f"stages.{index}.dueOn"),
               "percent_complete": _percent(plan.percent_complete, f"stages.{index}.percentComplete")}
              for index, plan in enumerate(plans)]
    for index, stage in enumerate(stages):
        # A stage already done may have been due before the reply; one still open is due from today on.
        if stage["percent_complete"] < 100 and stage["due_on"] < clock.today():
            raise ValidationFailed("未完成阶段的期限不能早于今天 / an unfinished stage cannot be due in the past",
                                   field=f"stages.{index}.dueOn")
    return stages


async def _open_stage_deadline(session: AsyncSession, stage: RectificationStage, start_on: date) -> None:
    """Each unfinished stage's date, set by the plan, is a deadline of its own (reminders, the assessment)."""
    if stage.percent_complete < 100:
        await open_deadline(session, rule=STAGE_RULE, start_on=start_on, due_on=stage.due_on,
                            subject_kind=STAGE_SUBJECT_KIND, subject_id=stage.id, agency_id=stage.agency_id,
                            jurisdiction_id=stage.jurisdiction_id)


async def _reply_of(session: AsyncSession, recommendation_id: uuid.UUID) -> RecommendationReply | None:
    return await session.scalar(select(RecommendationReply)
                                .where(RecommendationReply.recommendation_id == recommendation_id))


async def _refuse_second_reply(session: AsyncSession, recommendation: Recommendation) -> None:
    if await _reply_of(session, recommendation.id) is not None:
        raise Conflict("该检察建议已有回复，请以整改进展报告补充 / the recommendation has been replied to already; "
                       "report progress instead")


async def reply_to_recommendation(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                                  recommendation_id: str, draft: ReplyDraft, files: list[IncomingFile],
                                  max_upload_bytes: int, limits: BombLimits) -> Recommendation:
    """The addressee agency's one written reply: accepted or not (with reasons), the measures
    taken, a staged rectification plan and attachments, all saved or none."""
    require(principal, *RECOMMENDATION_MACHINE.roles_for(RecommendationAction.REPLY))
    recommendation = await get_recommendation(session, principal=principal, recommendation_id=recommendation_id)
    await _refuse_second_reply(session, recommendation)
    RECOMMENDATION_MACHINE.transition(RecommendationAction.REPLY, recommendation.status, principal)
    reasons = clean_text(draft.reasons, "reasons", 10000, required=not draft.accepted)
    # An agency that does not accept may have taken no measures; one that accepts says which.
    measures_taken = clean_text(draft.measures_taken, "measuresTaken", 20000, required=draft.accepted)
    stages = _stages(draft.stages)
    _check_files(files, "attachments")

    reply = RecommendationReply(
        id=uuid.uuid4(), recommendation_id=recommendation.id, agency_id=recommendation.agency_id,
        jurisdiction_id=recommendation.jurisdiction_id, accepted=draft.accepted, reasons=reasons,
        measures_taken=measures_taken or "", replied_on=clock.today())
    reply.set_actor(principal)
    owner = EvidenceOwner(kind=EvidenceOwnerKind.REPLY, id=reply.id, agency_id=recommendation.agency_id,
                          jurisdiction_id=recommendation.jurisdiction_id)
    evidence, keys = await _store_files(session, principal=principal, store=store, owner=owner, files=files,
                                        max_upload_bytes=max_upload_bytes, limits=limits, field="attachments")
    # The lock orders concurrent replies: the second finds the first and is refused.
    await session.refresh(recommendation, with_for_update=True)
    await _refuse_second_reply(session, recommendation)
    await apply_transition(session, principal=principal, machine=RECOMMENDATION_MACHINE, row=recommendation,
                           action=RecommendationAction.REPLY)
    session.add(reply)
    await session.flush()
    rows = [RectificationStage(id=uuid.uuid4(), reply_id=reply.id, recommendation_id=recommendation.id,
                               agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id,
                               position=position, **stage)
            for position, stage in enumerate(stages)]
    session.add_all(rows)
    await session.flush()
    for row in rows:
        await _open_stage_deadline(session, row, reply.replied_on)
    session.add_all(evidence)
    await settle_uploads(session, keys)
    await meet_deadline(session, subject_kind=SUBJECT_KIND, subject_id=recommendation.id,
                        rule=reply_rule(recommendation), met_on=reply.replied_on)
    await session.flush()
    return recommendation


async def report_progress(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                          recommendation_id: str, report: ProgressReport, files: list[IncomingFile],
                          max_upload_bytes: int, limits: BombLimits) -> Recommendation:
    """The addressee agency reports on its rectification after the reply: stages' new percentages,
    a note, supporting files. Updates the plan; rectification itself stays a check's finding."""
    require(principal, Role.AGENCY_LIAISON)
    recommendation = await get_recommendation(session, principal=principal, recommendation_id=recommendation_id)
    reply = await _reply_of(session, recommendation.id)
    if reply is None:
        raise InvalidTransition("尚未回复，请先提交书面回复 / reply to the recommendation before reporting progress",
                                status=recommendation.status.value, action="report_progress")
    note = clean_text(report.note, "note", 10000, required=False)
    if not (note or report.updates or files):
        raise ValidationFailed("请填写进展说明、更新阶段或附上材料 / a report needs a note, a stage update or a file",
                               field="note")
    stage_ids = []
    for index, update in enumerate(report.updates):
        stage_ids.append(parse_id(update.stage_id))
        _percent(update.percent_complete, f"updates.{index}.percentComplete")
    stages = {stage.id: stage for stage in await session.scalars(
        select(RectificationStage).where(RectificationStage.reply_id == reply.id))}
    for index, stage_id in enumerate(stage_ids):
        if stage_id not in stages:
            raise ValidationFailed("不是本回复的整改阶段 / not a stage of this reply's plan",
                                   field=f"updates.{index}.stageId")
    if len(set(stage_ids)) != len(stage_ids):
        raise ValidationFailed("同一阶段只能更新一次 / each stage once per report", field="updates")
    _check_files(files, "attachments")

    row = RectificationReport(id=uuid.uuid4(), recommendation_id=recommendation.id, reply_id=reply.id,
                              agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id,
                              note=note)
    row.set_actor(principal)
    owner = EvidenceOwner(kind=EvidenceOwnerKind.RECTIFICATION_REPORT, id=row.id,
                          agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id)
    evidence, keys = await _store_files(session, principal=principal, store=store, owner=owner, files=files,
                                        max_upload_bytes=max_upload_bytes, limits=limits, field="attachments")
    # Reports of one recommendation take their turn: each records the percentages it replaced.
    await session.refresh(recommendation, with_for_update=True)
    locked = {stage.id: stage for stage in await session.scalars(
        select(RectificationStage).where(RectificationStage.reply_id == reply.id)
        .with_for_update().execution_options(populate_existing=True))}
    updates = []
    for stage_id, update in zip(stage_ids, report.updates, strict=True):
        stage = locked[stage_id]
        updates.append({"stage_id": str(stage.id), "milestone": stage.milestone,
                        "from_percent": stage.percent_complete, "to_percent": update.percent_complete})
        stage.percent_complete = update.percent_complete
        stage.updated_at = utcnow()
        if stage.percent_complete == 100:
            await meet_deadline(session, subject_kind=STAGE_SUBJECT_KIND, subject_id=stage.id, rule=STAGE_RULE,
                                met_on=clock.today())
    row.stage_updates = updates
    session.add(row)
    await session.flush()
    session.add_all(evidence)
    await settle_uploads(session, keys)
    await session.flush()
    return recommendation


async def record_check(session: AsyncSession, *, principal: Principal, store: EvidenceStore,
                       recommendation_id: str, record: CheckRecord, files: list[IncomingFile],
                       max_upload_bytes: int, limits: BombLimits) -> RectificationCheck:
    """A prosecutor records a rectification check with its geotagged evidence. The first check of
    a case moves it RECOMMENDATION_ISSUED → FOLLOW_UP; a check on a closed case (回头看) may reopen
    follow-up, with the reason."""
    require(principal, *RECOMMENDATION_MACHINE.roles_for(RecommendationAction.CHECK))
    recommendation = await get_recommendation(session, principal=principal, recommendation_id=recommendation_id)
    RECOMMENDATION_MACHINE.transition(RecommendationAction.CHECK, recommendation.status, principal)
    result = RectificationResult(record.result)
    checked_on = check_date(record.checked_on, "checkedOn", not_after_today=True)
    if checked_on < recommendation.served_on:
        raise ValidationFailed("检查日期不能早于送达日期 / checkedOn cannot precede the served date", field="checkedOn")
    findings = clean_text(record.findings, "findings", 20000, required=True)
    location = parse_geometry(record.location, record.crs, field="location")
    check_id = uuid.uuid4()
    open_items = await _open_items(session, recommendation, record, result, checked_on, check_id)
    case = await session.get(Case, recommendation.case_id)
    reopen_reason = clean_text(record.reopen_reason, "reopenReason", 2000, required=False)
    if reopen_reason and (case.status is not CaseStatus.CLOSED or result is RectificationResult.RECTIFIED):
        raise ValidationFailed("只有已结案且未整改到位的案件可以重新跟进 / follow-up is reopened only on a closed case "
                               "whose rectification fell short", field="reopenReason")
    _check_files(files, "evidence")

    check = RectificationCheck(
        id=check_id, recommendation_id=recommendation.id, agency_id=recommendation.agency_id,
        jurisdiction_id=recommendation.jurisdiction_id, result=result, checked_on=checked_on, findings=findings,
        location=from_shape(location, srid=4326), open_items=open_items,
        follow_up_of_id=parse_id(record.follow_up_of) if record.follow_up_of else None)
    check.set_actor(principal)
    owner = EvidenceOwner(kind=EvidenceOwnerKind.RECTIFICATION_CHECK, id=check.id,
                          agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id)
    evidence, keys = await _store_files(session, principal=principal, store=store, owner=owner, files=files,
                                        max_upload_bytes=max_upload_bytes, limits=limits, field="evidence")
    await apply_transition(session, principal=principal, machine=RECOMMENDATION_MACHINE, row=recommendation,
                           action=RecommendationAction.CHECK)
    await session.refresh(case, with_for_update=True)
    if case.status is CaseStatus.RECOMMENDATION_ISSUED:
        await apply_transition(session, principal=principal, machine=CASE_MACHINE, row=case,
                               action=CaseAction.BEGIN_FOLLOW_UP)
    elif reopen_reason:
        await apply_transition(session, principal=principal, machine=CASE_MACHINE, row=case,
                               action=CaseAction.REOPEN_FOLLOW_UP, reason=reopen_reason)
    session.add(check)
    await session.flush()
    session.add_all(evidence)
    await settle_uploads(session, keys)
    await notification_events.rectification_checked(session, recommendation, check)
    await session.flush()
    return check


async def _open_items(session: AsyncSession, recommendation: Recommendation, record: CheckRecord,
                      result: RectificationResult, checked_on: date, check_id: uuid.UUID) -> list[dict]:
    """The check's open items: those of the check it follows up that are not resolved now (each
    keeping its id and the check that first found it), then the new ones."""
    carried: list[dict] = []
    if record.follow_up_of:
        original = await session.scalar(select(RectificationCheck).where(
            RectificationCheck.id == parse_id(record.follow_up_of),
            RectificationCheck.recommendation_id == recommendation.id))
        if original is None:
            raise ValidationFailed("不是本检察建议的整改检查 / not a check of this recommendation", field="followUpOf")
        if checked_on < original.checked_on:
            raise ValidationFailed("回头看不能早于原检查 / a follow-up check cannot precede the check it follows up",
                                   field="checkedOn")
        known = {item["id"] for item in original.open_items}
        resolved = set(record.resolved_open_items)
        if unknown := resolved - known:
            raise ValidationFailed(f"原检查没有这些待整改事项 / the followed-up check has no open items "
                                   f"{', '.join(sorted(unknown))}", field="resolvedOpenItemIds")
        # Rectified means nothing is left: every carried item is resolved with it.
        if result is not RectificationResult.RECTIFIED:
            carried = [item for item in original.open_items if item["id"] not in resolved]
    elif record.resolved_open_items:
        raise ValidationFailed("仅回头看可以销项 / only a follow-up check resolves earlier open items",
                               field="resolvedOpenItemIds")
    if len(record.open_items) > MAX_OPEN_ITEMS:
        raise ValidationFailed(f"待整改事项最多{MAX_OPEN_ITEMS}项 / at most {MAX_OPEN_ITEMS} open items",
                               field="openItems")
    new = [{"id": str(uuid.uuid4()), "description": clean_text(text, f"openItems.{index}", 1000, required=True),
            "first_check_id": str(check_id)} for index, text in enumerate(record.open_items)]
    if result is RectificationResult.RECTIFIED and new:
        raise ValidationFailed("整改到位的检查不应留有待整改事项 / a RECTIFIED check leaves no open items",
                               field="openItems")
    if result is not RectificationResult.RECTIFIED and not carried + new:
        raise ValidationFailed("未整改到位须列明待整改事项 / name what remains to be done", field="openItems")
    return carried + new


# Reading, for the loaders: every query scoped by the rows' own columns. ----------------------

async def replies_of(session: AsyncSession, *, principal: Principal, recommendation_ids: list[uuid.UUID]
                     ) -> dict[uuid.UUID, RecommendationReply]:
    rows = await session.scalars(select(RecommendationReply).where(
        RecommendationReply.recommendation_id.in_(recommendation_ids), visible(principal, RecommendationReply)))
    return {row.recommendation_id: row for row in rows}


async def stages_of(session: AsyncSession, *, principal: Principal, recommendation_ids: list[uuid.UUID]
                    ) -> dict[uuid.UUID, list[RectificationStage]]:
    rows = await session.scalars(select(RectificationStage).where(
        RectificationStage.recommendation_id.in_(recommendation_ids), visible(principal, RectificationStage))
        .order_by(RectificationStage.position))
    return grouped(rows, recommendation_ids, key=lambda row: row.recommendation_id)


async def reports_of(session: AsyncSession, *, principal: Principal, recommendation_ids: list[uuid.UUID]
                     ) -> dict[uuid.UUID, list[RectificationReport]]:
    rows = await session.scalars(select(RectificationReport).where(
        RectificationReport.recommendation_id.in_(recommendation_ids), visible(principal, RectificationReport))
        .order_by(RectificationReport.reported_at, RectificationReport.id))
    return grouped(rows, recommendation_ids, key=lambda row: row.recommendation_id)


async def checks_of(session: AsyncSession, *, principal: Principal, recommendation_ids: list[uuid.UUID]
                    ) -> dict[uuid.UUID, list[RectificationCheck]]:
    rows = await session.scalars(select(RectificationCheck).where(
        RectificationCheck.recommendation_id.in_(recommendation_ids), visible(principal, RectificationCheck))
        .order_by(RectificationCheck.checked_on, RectificationCheck.recorded_at, RectificationCheck.id))
    return grouped(rows, recommendation_ids, key=lambda row: row.recommendation_id)

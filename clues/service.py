"""Rules for clue models: who may write, read and run them, applying a version to the records in a
model's scope (on demand and on the worker's schedule), the queue of hits and what prosecutors do
with each, and the funnel that says what came of a model's hits.

Who sees what:
- a model belongs to a procuratorate; its prosecutors and assessors (and those above) read it, its
  prosecutors write, revise, retire and run it; an administrator reads every model;
- a liaison reads the ACTIVE models of its agency's jurisdiction and those above, and tries them on
  its own agency's records (`model_matches`: computed on the spot, nothing stored, so a dry run
  leaves no trace for the procuratorate to read);
- hits, runs and funnels are the procuratorate's screening work, as own-clue cases are: prosecutors,
  assessors and administrators see them within their scope; a liaison is FORBIDDEN whatever the id
  (nothing about another agency's records, or its own, can be read off an answer)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, DateTime, Select, String, Uuid, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from agencies.models import Agency, Jurisdiction, Role
from agencies.principal import Principal
from agencies.scoping import owner_filters, visible_to
from cases import service as case_service
from cases.models import Case
from clues.conditions import Vocabulary, compile_conditions, latest_check_rectified
from clues.flows import CLUE_HIT_MACHINE, CLUE_MODEL_MACHINE
from clues.models import (
    ClueHit,
    ClueHitAction,
    ClueHitStatus,
    ClueHitStatusChange,
    ClueModel,
    ClueModelAction,
    ClueModelRun,
    ClueModelStatus,
    ClueModelStatusChange,
    ClueModelVersion,
    ClueRunTrigger,
    ClueSubject,
)
from core import clock
from core.db import utcnow
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.loaders import grouped
from core.pagination import Page, PageRequest, paginate
from core.permissions import require
from core.state_machine import apply_transition, record_creation
from core.text import clean_text
from enforcement import service as enforcement_service
from enforcement.models import EnforcementCase, EnforcementClueCase
from geo.models import ReferenceLayer
from notifications.escalation import Audience
from notifications.models import NotificationKind
from notifications.service import Event, Scope, notify_audience
from parties.protection import IdentityProtection
from recommendations.models import Recommendation, RectificationCheck
from referral.models import Referral, ReferralDomain

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000
MAX_NOTE_LENGTH = 2000
# Hits, runs and funnels: the procuratorate's screening work.
SCREENING_READERS = (Role.PROSECUTOR, Role.ASSESSOR, Role.ADMIN)


def _parse(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


# ---- models -----------------------------------------------------------------------------------

def _jurisdiction_and_above(agency_id: uuid.UUID) -> Select:
    """The ids of the agency's jurisdiction and every jurisdiction above it."""
    start = (select(Jurisdiction.id, Jurisdiction.parent_id)
             .join(Agency, Agency.jurisdiction_id == Jurisdiction.id).where(Agency.id == agency_id)
             .cte("jurisdiction_up", recursive=True))
    parent = aliased(Jurisdiction)
    chain = start.union_all(select(parent.id, parent.parent_id).join(start, parent.id == start.c.parent_id))
    return select(chain.c.id)


def visible_models(principal: Principal) -> ColumnElement[bool]:
    if principal.role is Role.ADMIN:
        return true()
    if principal.role is Role.AGENCY_LIAISON:
        return (ClueModel.status == ClueModelStatus.ACTIVE) & ClueModel.jurisdiction_id.in_(
            _jurisdiction_and_above(principal.agency_id))
    if principal.role in (Role.PROSECUTOR, Role.ASSESSOR) and principal.visible_jurisdiction_ids:
        return ClueModel.jurisdiction_id.in_(principal.visible_jurisdiction_ids)
    return false()


async def get_model(session: AsyncSession, *, principal: Principal, model_id: str) -> ClueModel:
    parsed = _parse(model_id)
    model = None
    if parsed is not None:
        model = await session.scalar(select(ClueModel).where(ClueModel.id == parsed, visible_models(principal)))
    if model is None:
        raise NotFound("线索模型不存在 / clue model not found")
    return model


async def list_models(session: AsyncSession, *, principal: Principal, status: ClueModelStatus | None,
                      page: PageRequest) -> Page[ClueModel]:
    query = select(ClueModel).where(visible_models(principal))
    if status is not None:
        query = query.where(ClueModel.status == status)
    return await paginate(session, query, request=page, at_column=ClueModel.created_at, id_column=ClueModel.id)


async def vocabulary(session: AsyncSession) -> Vocabulary:
    return Vocabulary(domains=frozenset(await session.scalars(select(ReferralDomain.code))),
                      layer_codes=frozenset(await session.scalars(select(ReferenceLayer.code))))


async def checked_conditions(session: AsyncSession, conditions: object) -> dict:
    """The conditions as given, once they compile (VALIDATION naming the path otherwise)."""
    compile_conditions(conditions, vocabulary=await vocabulary(session), today=clock.today())
    return conditions


async def _check_name_free(session: AsyncSession, jurisdiction_id: uuid.UUID, name: str,
                           model_id: uuid.UUID | None = None) -> None:
    query = select(ClueModel.id).where(ClueModel.jurisdiction_id == jurisdiction_id, ClueModel.name == name)
    if model_id is not None:
        query = query.where(ClueModel.id != model_id)
    if await session.scalar(query) is not None:
        raise Conflict("本院已有同名线索模型 / your procuratorate already has a clue model of this name", field="name")


@dataclass(frozen=True)
class ModelDraft:
    name: str
    conditions: object
    description: str | None = None
    subject: ClueSubject = ClueSubject.ENFORCEMENT_CASE


async def create_model(session: AsyncSession, *, principal: Principal, draft: ModelDraft) -> ClueModel:
    """A prosecutor saves a screening as a model of their procuratorate (version 1)."""
    CLUE_MODEL_MACHINE.transition(ClueModelAction.CREATE, None, principal)  # FORBIDDEN for other roles
    name = clean_text(draft.name, "name", MAX_NAME_LENGTH, required=True)
    description = clean_text(draft.description, "description", MAX_DESCRIPTION_LENGTH, required=False)
    conditions = await checked_conditions(session, draft.conditions)
    await _check_name_free(session, principal.jurisdiction_id, name)
    model = ClueModel(id=uuid.uuid4(), jurisdiction_id=principal.jurisdiction_id,
                      procuratorate_id=principal.procuratorate_id, name=name, description=description,
                      subject=ClueSubject(draft.subject), current_version=1, created_at=utcnow())
    session.add(model)
    record_creation(session, principal=principal, machine=CLUE_MODEL_MACHINE, row=model,
                    action=ClueModelAction.CREATE)
    version = ClueModelVersion(model_id=model.id, version=1, conditions=conditions, note=None)
    version.set_actor(principal)
    session.add(version)
    await session.flush()
    return model


@dataclass(frozen=True)
class ModelRevision:
    conditions: object
    note: str | None = None
    name: str | None = None
    description: str | None = None


async def revise_model(session: AsyncSession, *, principal: Principal, model_id: str,
                       revision: ModelRevision) -> ClueModel:
    """New conditions as the model's next version; runs apply it from now on, and the hits found so
    far keep the version that found them. A retired model is not revised."""
    model = await get_model(session, principal=principal, model_id=model_id)
    require(principal, Role.PROSECUTOR)
    await session.refresh(model, with_for_update=True)
    if model.status is not ClueModelStatus.ACTIVE:
        raise InvalidTransition("已停用的线索模型不能修订 / a retired clue model cannot be revised",
                                status=model.status.value, action="revise")
    conditions = await checked_conditions(session, revision.conditions)
    note = clean_text(revision.note, "note", MAX_NOTE_LENGTH, required=False)
    if revision.name is not None:
        model.name = clean_text(revision.name, "name", MAX_NAME_LENGTH, required=True)
        await _check_name_free(session, model.jurisdiction_id, model.name, model.id)
    if revision.description is not None:
        model.description = clean_text(revision.description, "description", MAX_DESCRIPTION_LENGTH, required=False)
    model.current_version += 1
    version = ClueModelVersion(model_id=model.id, version=model.current_version, conditions=conditions, note=note)
    version.set_actor(principal)
    session.add(version)
    await session.flush()
    return model


async def retire_model(session: AsyncSession, *, principal: Principal, model_id: str, reason: str) -> ClueModel:
    """A model whose hits lead nowhere is retired, with the reason: it runs no more; its hits and
    their funnel stay."""
    model = await get_model(session, principal=principal, model_id=model_id)
    await apply_transition(session, principal=principal, machine=CLUE_MODEL_MACHINE, row=model,
                           action=ClueModelAction.RETIRE, reason=reason)
    return model


async def versions_of(session: AsyncSession, model_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ClueModelVersion]]:
    rows = await session.scalars(select(ClueModelVersion).where(ClueModelVersion.model_id.in_(model_ids))
                                 .order_by(ClueModelVersion.model_id, ClueModelVersion.version))
    return grouped(rows, model_ids, key=lambda row: row.model_id)


async def version_numbers(session: AsyncSession, version_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(select(ClueModelVersion.id, ClueModelVersion.version)
                                 .where(ClueModelVersion.id.in_(version_ids)))
    return {row.id: row.version for row in rows}


async def models_by_id(session: AsyncSession, model_ids: list[uuid.UUID]) -> dict[uuid.UUID, ClueModel]:
    """Models by id, unscoped: for a hit the caller already sees, whose model it therefore sees."""
    return {row.id: row for row in await session.scalars(select(ClueModel).where(ClueModel.id.in_(model_ids)))}


async def model_history(session: AsyncSession, model_ids: list[uuid.UUID]
                        ) -> dict[uuid.UUID, list[ClueModelStatusChange]]:
    rows = await session.scalars(select(ClueModelStatusChange).where(ClueModelStatusChange.model_id.in_(model_ids))
                                 .order_by(ClueModelStatusChange.changed_at, ClueModelStatusChange.id))
    return grouped(rows, model_ids, key=lambda row: row.model_id)


# ---- runs -------------------------------------------------------------------------------------

async def _current_version(session: AsyncSession, model: ClueModel) -> ClueModelVersion:
    return await session.scalar(select(ClueModelVersion).where(
        ClueModelVersion.model_id == model.id, ClueModelVersion.version == model.current_version))


async def _model_scope(session: AsyncSession, model: ClueModel) -> list[ColumnElement[bool]]:
    """Records of the model's jurisdiction and every one below it."""
    code = await session.scalar(select(Jurisdiction.code).where(Jurisdiction.id == model.jurisdiction_id))
    return owner_filters(agency_column=EnforcementCase.agency_id, jurisdiction_column=EnforcementCase.jurisdiction_id,
                         agency_id=None, jurisdiction_code=code)


async def _matching(session: AsyncSession, model: ClueModel, version: ClueModelVersion, today: date
                    ) -> list[ColumnElement[bool]]:
    condition = compile_conditions(version.conditions, vocabulary=await vocabulary(session), today=today)
    return [condition, *await _model_scope(session, model)]


async def execute_run(session: AsyncSession, *, model: ClueModel, trigger: ClueRunTrigger, today: date,
                      started_by: uuid.UUID | None = None) -> ClueModelRun:
    """Apply the model's current version to the records in its scope, in the caller's transaction
    (the model row locked by the caller): record the run, queue the records not hit before by
    this model (one INSERT … SELECT; a record already hit is left as it is), and tell the
    procuratorate's prosecutors when there are new hits."""
    version = await _current_version(session, model)
    conditions = await _matching(session, model, version, today)
    run = ClueModelRun(id=uuid.uuid4(), model_id=model.id, version_id=version.id, version=version.version,
                       trigger=trigger, started_by_user_id=started_by, started_at=utcnow(), matched=0, hits_found=0)
    session.add(run)
    await session.flush()
    found_at = utcnow()
    new_hits = insert(ClueHit).from_select(
        ["id", "model_id", "version_id", "run_id", "enforcement_case_id", "agency_id", "jurisdiction_id", "status",
         "found_at"],
        select(func.gen_random_uuid(), literal(model.id, Uuid), literal(version.id, Uuid), literal(run.id, Uuid),
               EnforcementCase.id, EnforcementCase.agency_id, EnforcementCase.jurisdiction_id,
               literal(ClueHitStatus.NEW.value, String), literal(found_at, DateTime(timezone=True)))
        .where(*conditions)
    ).on_conflict_do_nothing(index_elements=["model_id", "enforcement_case_id"]).returning(ClueHit.id)
    run.hits_found = len((await session.scalars(new_hits)).all())
    run.matched = await session.scalar(select(func.count()).select_from(EnforcementCase).where(*conditions))
    run.finished_at = utcnow()
    await session.flush()
    if run.hits_found:
        await _announce(session, model, run)
    return run


async def _announce(session: AsyncSession, model: ClueModel, run: ClueModelRun) -> None:
    """The new hits, to the prosecutors of the model's procuratorate: the model's name and how many,
    nothing of the records (each prosecutor reads those in the queue, within their own scope)."""
    event = Event(kind=NotificationKind.CLUE_HITS_FOUND, subject_kind="CLUE_MODEL", subject_id=model.id,
                  message=f"线索模型“{model.name}”发现 {run.hits_found} 条新线索 / Clue model “{model.name}” "
                          f"found {run.hits_found} new hit{'s' if run.hits_found != 1 else ''}",
                  payload={"clueModel": {"id": str(model.id), "name": model.name, "version": run.version,
                                         "runId": str(run.id), "hitsFound": run.hits_found}})
    await notify_audience(session, event, Audience.PROCURATORATE,
                          Scope(agency_id=None, jurisdiction_id=model.jurisdiction_id))


async def run_model(session: AsyncSession, *, principal: Principal, model_id: str) -> ClueModelRun:
    """A prosecutor runs an active model now."""
    model = await get_model(session, principal=principal, model_id=model_id)
    require(principal, Role.PROSECUTOR, users_only=True)
    await session.refresh(model, with_for_update=True)
    if model.status is not ClueModelStatus.ACTIVE:
        raise InvalidTransition("已停用的线索模型不能运行 / a retired clue model does not run",
                                status=model.status.value, action="run")
    return await execute_run(session, model=model, trigger=ClueRunTrigger.ON_DEMAND, today=clock.today(),
                             started_by=principal.user_id)


async def run_scheduled(session_factory: async_sessionmaker[AsyncSession], today: date) -> int:
    """What the worker's periodic task runs: every active model once, each in its own transaction
    (a model being run on demand at the same moment is skipped: that run covers this tick). The
    number of new hits. A model whose conditions no longer compile (a layer it names was removed)
    is logged and skipped; the others run."""
    async with session_factory() as session:
        model_ids = list(await session.scalars(select(ClueModel.id).where(ClueModel.status == ClueModelStatus.ACTIVE)
                                               .order_by(ClueModel.created_at, ClueModel.id)))
    found = 0
    for model_id in model_ids:
        try:
            async with session_factory() as session, session.begin():
                model = await session.scalar(select(ClueModel).where(
                    ClueModel.id == model_id, ClueModel.status == ClueModelStatus.ACTIVE)
                    .with_for_update(skip_locked=True))
                if model is not None:
                    found += (await execute_run(session, model=model, trigger=ClueRunTrigger.SCHEDULED,
                                                today=today)).hits_found
        except ValidationFailed as error:
            logger.warning("clue model %s was not run: %s", model_id, error.message)
        except Exception:  # one model's failure must not keep the others from running
            logger.exception("clue model %s failed to run", model_id)
    if found:
        logger.info("clue models: %d new hits", found)
    return found


async def runs_of(session: AsyncSession, *, principal: Principal, model_id: uuid.UUID, limit: int
                  ) -> list[ClueModelRun]:
    require(principal, *SCREENING_READERS)
    return list(await session.scalars(select(ClueModelRun).where(ClueModelRun.model_id == model_id)
                                      .order_by(ClueModelRun.started_at.desc(), ClueModelRun.id.desc()).limit(limit)))


async def model_matches(session: AsyncSession, *, principal: Principal, model_id: str,
                        page: PageRequest) -> Page[EnforcementCase]:
    """The records the model's current version matches today among those the caller may see (a
    liaison: its own agency's): a dry run, nothing is stored."""
    model = await get_model(session, principal=principal, model_id=model_id)
    conditions = await _matching(session, model, await _current_version(session, model), clock.today())
    query = select(EnforcementCase).where(enforcement_service.visible(principal), *conditions)
    return await paginate(session, query, request=page, at_column=EnforcementCase.entered_at,
                          id_column=EnforcementCase.id)


# ---- hits -------------------------------------------------------------------------------------

def visible_hits(principal: Principal) -> ColumnElement[bool]:
    """Hits on records in the caller's scope, of models the caller sees (a city model's queue is
    the city's); FORBIDDEN to a liaison before anything is looked up."""
    require(principal, *SCREENING_READERS)
    return visible_to(principal, agency_column=ClueHit.agency_id, jurisdiction_column=ClueHit.jurisdiction_id) & \
        ClueHit.model_id.in_(select(ClueModel.id).where(visible_models(principal)))


@dataclass(frozen=True)
class HitFilter:
    model_id: str | None = None
    statuses: tuple[ClueHitStatus, ...] = ()


async def list_hits(session: AsyncSession, *, principal: Principal, filters: HitFilter,
                    page: PageRequest) -> Page[ClueHit]:
    """The queue: hits the caller may see, newest first."""
    query = select(ClueHit).where(visible_hits(principal))
    if filters.model_id is not None:
        model_id = _parse(filters.model_id)
        if model_id is None:
            raise ValidationFailed("modelId 无效 / invalid modelId", field="modelId")
        query = query.where(ClueHit.model_id == model_id)
    if filters.statuses:
        query = query.where(ClueHit.status.in_(filters.statuses))
    return await paginate(session, query, request=page, at_column=ClueHit.found_at, id_column=ClueHit.id)


async def get_hit(session: AsyncSession, *, principal: Principal, hit_id: str) -> ClueHit:
    condition = visible_hits(principal)
    parsed = _parse(hit_id)
    hit = None
    if parsed is not None:
        hit = await session.scalar(select(ClueHit).where(ClueHit.id == parsed, condition))
    if hit is None:
        raise NotFound("模型线索不存在 / clue hit not found")
    return hit


async def dismiss_hit(session: AsyncSession, *, principal: Principal, hit_id: str, reason: str) -> ClueHit:
    hit = await get_hit(session, principal=principal, hit_id=hit_id)
    await apply_transition(session, principal=principal, machine=CLUE_HIT_MACHINE, row=hit,
                           action=ClueHitAction.DISMISS, reason=reason)
    return hit


async def reopen_hit(session: AsyncSession, *, principal: Principal, hit_id: str, reason: str) -> ClueHit:
    hit = await get_hit(session, principal=principal, hit_id=hit_id)
    await apply_transition(session, principal=principal, machine=CLUE_HIT_MACHINE, row=hit,
                           action=ClueHitAction.REOPEN, reason=reason)
    return hit


async def open_case_from_hit(session: AsyncSession, *, principal: Principal, hit_id: str,
                             opening: case_service.CaseOpening, protection: IdentityProtection) -> ClueHit:
    """A prosecutor takes a hit up: a case from the procuratorate's own clue, opened from the hit's
    record by enforcement's service (linked to the record, its parties unless others are given),
    and the hit moves to CASE_OPENED naming it."""
    hit = await get_hit(session, principal=principal, hit_id=hit_id)
    await apply_transition(session, principal=principal, machine=CLUE_HIT_MACHINE, row=hit,
                           action=ClueHitAction.OPEN_CASE)
    case = await enforcement_service.open_case_from_record(
        session, principal=principal, enforcement_case_id=str(hit.enforcement_case_id), opening=opening,
        protection=protection)
    hit.case_id = case.id
    await session.flush()
    return hit


async def hit_history(session: AsyncSession, hit_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ClueHitStatusChange]]:
    rows = await session.scalars(select(ClueHitStatusChange).where(ClueHitStatusChange.hit_id.in_(hit_ids))
                                 .order_by(ClueHitStatusChange.changed_at, ClueHitStatusChange.id))
    return grouped(rows, hit_ids, key=lambda row: row.hit_id)


async def records_of(session: AsyncSession, *, principal: Principal, record_ids: list[uuid.UUID]
                     ) -> dict[uuid.UUID, EnforcementCase]:
    rows = await session.scalars(select(EnforcementCase).where(EnforcementCase.id.in_(record_ids),
                                                               enforcement_service.visible(principal)))
    return {row.id: row for row in rows}


async def cases_of(session: AsyncSession, *, principal: Principal, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, Case]:
    rows = await session.scalars(select(Case).where(Case.id.in_(case_ids), case_service.visible(principal)))
    return {row.id: row for row in rows}


# ---- funnels ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Funnel:
    hits: int = 0
    referrals: int = 0
    cases: int = 0
    recommendations: int = 0
    rectified: int = 0


def _funnel_columns() -> list[ColumnElement[int]]:
    """Each stage counted over hits (a hit counts once per stage however many referrals or cases
    came of it), following what came of the hit's record after the hit was found — what came
    before is not the model's doing: hit → referral of the record (its agency's) → case (filed
    from such a referral, or opened from the record as the procuratorate's own clue) →
    recommendation in such a case → rectification verified (the recommendation's latest check
    found it RECTIFIED)."""
    # Each level correlated to the hit explicitly: auto-correlation reaches only the nearest
    # enclosing SELECT, and a clue_hit in a subquery's own FROM would count any hit's follow-ups.
    referrals = select(Referral.id).where(Referral.enforcement_case_id == ClueHit.enforcement_case_id,
                                          Referral.submitted_at >= ClueHit.found_at).correlate(ClueHit)
    own_cases = select(EnforcementClueCase.case_id).where(
        EnforcementClueCase.enforcement_case_id == ClueHit.enforcement_case_id,
        EnforcementClueCase.created_at >= ClueHit.found_at).correlate(ClueHit)
    cases = select(Case.id).where(or_(Case.referral_id.in_(referrals), Case.id.in_(own_cases))).correlate(ClueHit)
    recommendations = select(Recommendation.id).where(Recommendation.case_id.in_(cases)).correlate(ClueHit)
    rectified = latest_check_rectified().where(
        RectificationCheck.recommendation_id.in_(recommendations)).correlate(ClueHit)
    return [func.count().label("hits"),
            func.count().filter(referrals.exists()).label("referrals"),
            func.count().filter(cases.exists()).label("cases"),
            func.count().filter(recommendations.exists()).label("recommendations"),
            func.count().filter(rectified.exists()).label("rectified")]


def _funnel(row) -> Funnel:
    return Funnel(hits=row.hits, referrals=row.referrals, cases=row.cases, recommendations=row.recommendations,
                  rectified=row.rectified)


async def funnels(session: AsyncSession, *, principal: Principal, model_ids: list[uuid.UUID]
                  ) -> dict[uuid.UUID, Funnel]:
    """The funnel of each model, over the hits the caller may see; one statement for all."""
    rows = await session.execute(select(ClueHit.model_id, *_funnel_columns())
                                 .where(ClueHit.model_id.in_(model_ids), visible_hits(principal))
                                 .group_by(ClueHit.model_id))
    found = {row.model_id: _funnel(row) for row in rows}
    return {model_id: found.get(model_id, Funnel()) for model_id in model_ids}


async def version_funnels(session: AsyncSession, *, principal: Principal, version_ids: list[uuid.UUID]
                          ) -> dict[uuid.UUID, Funnel]:
    """The funnel of the hits each version found, as `funnels`."""
    rows = await session.execute(select(ClueHit.version_id, *_funnel_columns())
                                 .where(ClueHit.version_id.in_(version_ids), visible_hits(principal))
                                 .group_by(ClueHit.version_id))
    found = {row.version_id: _funnel(row) for row in rows}
    return {version_id: found.get(version_id, Funnel()) for version_id in version_ids}

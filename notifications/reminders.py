"""Deadline reminders and escalation: which steps a deadline has reached on a day, and sending
each exactly once.

`steps_due` is plain arithmetic on the working calendar (tested without a database).
`send_due_reminders` is what the worker's periodic task runs: each deadline's steps are written
in one transaction with a `notification_sent` row per step, whose primary key (deadline, step)
lets only one transaction ever send a step. Two workers scanning at once, or a worker that dies
mid-scan and a later scan redoing its work, cannot send a reminder twice: the loser of the race
waits on the key, then finds it taken and sends nothing; a dead worker's transaction is rolled
back whole, reminder rows and notifications together."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import Case
from core.db import utcnow
from deadlines.models import Deadline
from deadlines.service import load_calendar
from deadlines.workdays import WorkingCalendar, working_days_between
from notifications.escalation import Audience, Escalation, escalation
from notifications.models import NotificationKind, NotificationSent
from notifications.service import Event, Scope, notify_audience
from recommendations.models import Recommendation, RecommendationStatusChange, RectificationStage
from referral.models import Referral

logger = logging.getLogger(__name__)

OVERDUE = "OVERDUE"
DUE_SOON = "DUE_SOON"


@dataclass(frozen=True)
class Step:
    key: str  # the notification_sent step: PROGRESS_50, DUE_SOON, OVERDUE, ESCALATION_1, ...
    kind: NotificationKind
    audience: Audience
    percent: int | None = None  # of the period's working days gone (PROGRESS)
    working_days: int | None = None  # left (DUE_SOON) or past due (OVERDUE, ESCALATION)


def steps_due(deadline: Deadline, calendar: WorkingCalendar, today: date, rules: Escalation) -> list[Step]:
    """The reminder and escalation steps `deadline` has reached on `today`.

    Before the due date, the highest progress milestone reached and, once few working days are
    left, the due-soon reminder; after it, the overdue notice and every escalation step whose
    delay (working days past due) has passed. Reminders meant to come before the due date are
    no longer sent once it has passed: an overdue notice says more."""
    chain = rules.chains[deadline.rule_code]
    if today > deadline.due_on:
        late = working_days_between(calendar, deadline.due_on, today)
        return [Step(key=OVERDUE if index == 0 else f"ESCALATION_{index}",
                     kind=NotificationKind.DEADLINE_OVERDUE if index == 0 else NotificationKind.DEADLINE_ESCALATED,
                     audience=step.notify, working_days=late)
                for index, step in enumerate(chain.steps) if late >= step.after_working_days]
    steps = []
    total = working_days_between(calendar, deadline.start_on, deadline.due_on)
    gone = working_days_between(calendar, deadline.start_on, min(today, deadline.due_on))
    reached = [percent for percent in rules.milestones if total and gone * 100 >= percent * total]
    if reached:
        steps.append(Step(key=f"PROGRESS_{reached[-1]}", kind=NotificationKind.DEADLINE_PROGRESS,
                          audience=chain.owed_by, percent=reached[-1]))
    left = total - gone
    if left <= rules.due_soon_working_days and today >= deadline.start_on:
        steps.append(Step(key=DUE_SOON, kind=NotificationKind.DEADLINE_DUE_SOON, audience=chain.owed_by,
                          working_days=left))
    return steps


@dataclass(frozen=True)
class Subject:
    label_zh: str
    label_en: str
    prosecutor_id: uuid.UUID | None  # the prosecutor in charge, when the subject names one


async def _issuer(session: AsyncSession, recommendation_id: uuid.UUID) -> uuid.UUID | None:
    """The prosecutor who issued the recommendation (its first recorded status change)."""
    return await session.scalar(
        select(RecommendationStatusChange.actor_user_id)
        .where(RecommendationStatusChange.recommendation_id == recommendation_id)
        .order_by(RecommendationStatusChange.changed_at, RecommendationStatusChange.id).limit(1))


async def describe(session: AsyncSession, deadline: Deadline) -> Subject:
    """How a reminder names the deadline's subject: its number (or a referral's title), which
    every audience of its chain may see."""
    if deadline.subject_kind == "RECOMMENDATION":
        number = await session.scalar(select(Recommendation.number).where(Recommendation.id == deadline.subject_id))
        return Subject(f"检察建议 {number}", f"recommendation {number}", await _issuer(session, deadline.subject_id))
    if deadline.subject_kind == "RECTIFICATION_STAGE":
        row = (await session.execute(
            select(RectificationStage.milestone, RectificationStage.recommendation_id, Recommendation.number)
            .join(Recommendation, Recommendation.id == RectificationStage.recommendation_id)
            .where(RectificationStage.id == deadline.subject_id))).one()
        return Subject(f"检察建议 {row.number} 整改阶段“{row.milestone}”",
                       f"stage “{row.milestone}” of recommendation {row.number}",
                       await _issuer(session, row.recommendation_id))
    if deadline.subject_kind == "CASE":
        number = await session.scalar(select(Case.number).where(Case.id == deadline.subject_id))
        return Subject(f"案件 {number}", f"case {number}", None)
    referral = (await session.execute(select(Referral.title, Referral.number)
                                      .where(Referral.id == deadline.subject_id))).one()
    name = referral.number or f"“{referral.title}”"
    return Subject(f"线索 {name}", f"referral {name}", None)


def _message(step: Step, deadline: Deadline, subject: Subject) -> str:
    rule = deadline.explanation["rule"]
    what_zh, what_en = f"{subject.label_zh}的{rule['name_zh']}", f"{rule['name_en']} of {subject.label_en}"
    due = deadline.due_on
    if step.kind is NotificationKind.DEADLINE_PROGRESS:
        return (f"期限提醒：{what_zh}已过期限的 {step.percent}%，{due} 截止 / Deadline: {step.percent}% of the time "
                f"for the {what_en} has gone, due {due}")
    if step.kind is NotificationKind.DEADLINE_DUE_SOON:
        return (f"期限提醒：{what_zh}还剩 {step.working_days} 个工作日，{due} 截止 / Deadline: {step.working_days} "
                f"working days left for the {what_en}, due {due}")
    if step.kind is NotificationKind.DEADLINE_OVERDUE:
        return f"期限已过：{what_zh}已于 {due} 到期 / Overdue: the {what_en} was due {due}"
    return (f"逾期督办：{what_zh}已逾期 {step.working_days} 个工作日（{due} 到期）/ Escalated: the {what_en} is "
            f"{step.working_days} working days overdue (due {due})")


async def _send(session: AsyncSession, deadline: Deadline, steps: list[Step]) -> int:
    """Send the steps not sent yet, in the caller's transaction; the notifications written."""
    sent = 0
    subject = None
    for step in steps:
        claimed = await session.scalar(
            insert(NotificationSent).values(deadline_id=deadline.id, step=step.key, sent_at=utcnow(), recipients=0)
            .on_conflict_do_nothing(index_elements=["deadline_id", "step"]).returning(NotificationSent.step))
        if claimed is None:  # sent before, or by a concurrent scan that committed it
            continue
        subject = subject or await describe(session, deadline)
        event = Event(kind=step.kind, subject_kind="DEADLINE", subject_id=deadline.id,
                      message=_message(step, deadline, subject),
                      payload={"deadline": {"id": str(deadline.id), "rule": deadline.rule_code,
                                            "subjectKind": deadline.subject_kind,
                                            "subjectId": str(deadline.subject_id),
                                            "dueOn": deadline.due_on.isoformat(), "step": step.key}})
        count = await notify_audience(session, event, step.audience, Scope(
            agency_id=deadline.agency_id, jurisdiction_id=deadline.jurisdiction_id,
            prosecutor_id=subject.prosecutor_id))
        await session.execute(update(NotificationSent).where(
            NotificationSent.deadline_id == deadline.id, NotificationSent.step == step.key).values(recipients=count))
        sent += count
    return sent


async def send_due_reminders(session_factory: async_sessionmaker[AsyncSession], today: date) -> int:
    """Send every reminder and escalation step the open deadlines have reached on `today` (a
    Beijing date) and not been sent; one transaction per deadline. The notifications written."""
    rules = escalation()
    async with session_factory() as session:
        deadlines = list(await session.scalars(select(Deadline).where(
            Deadline.met_on.is_(None), Deadline.cancelled_on.is_(None), Deadline.start_on < today)
            .order_by(Deadline.due_on, Deadline.id)))
        if not deadlines:
            return 0
        sent_before = {(row.deadline_id, row.step) for row in await session.execute(
            select(NotificationSent.deadline_id, NotificationSent.step)
            .where(NotificationSent.deadline_id.in_([deadline.id for deadline in deadlines])))}
        first = min(deadline.start_on for deadline in deadlines)
        last = max(max(deadline.due_on for deadline in deadlines), today)
        calendar = await load_calendar(session, range(first.year, last.year + 1))
    pending = []
    for deadline in deadlines:
        steps = [step for step in steps_due(deadline, calendar, today, rules)
                 if (deadline.id, step.key) not in sent_before]
        if steps:
            pending.append((deadline.id, steps))
    sent = 0
    for deadline_id, steps in pending:
        async with session_factory() as session, session.begin():
            # Still open now, and kept so until this commits (met in between: nothing is owed).
            deadline = await session.scalar(select(Deadline).where(
                Deadline.id == deadline_id, Deadline.met_on.is_(None), Deadline.cancelled_on.is_(None))
                .with_for_update(read=True))
            if deadline is not None:
                sent += await _send(session, deadline, steps)
    if sent:
        logger.info("reminders: %d notifications sent", sent)
    return sent

"""Notifications: who receives an event, writing them (with the agency's webhook deliveries) in
the event's own transaction, and each user's reading of their own.

The other packages call the event functions of notifications.events, one line per event; the
worker calls notifications.reminders and notifications.webhooks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import Procuratorate, Role, UserAccount
from agencies.principal import Principal
from core.db import utcnow
from core.errors import NotFound
from core.pagination import Page, PageRequest, paginate
from core.permissions import require
from notifications.escalation import Audience
from notifications.models import DeliveryStatus, Notification, NotificationKind, Webhook, WebhookDelivery


@dataclass(frozen=True)
class Scope:
    """What an audience is found from: the agency and the jurisdiction an event or deadline
    belongs to, and the prosecutor in charge when one is known."""

    agency_id: uuid.UUID | None
    jurisdiction_id: uuid.UUID
    prosecutor_id: uuid.UUID | None = None


def _active(role: Role) -> Select:
    return select(UserAccount.id).where(UserAccount.role == role, UserAccount.is_active)


# Built once with parameters: every submission and transition asks, and building a statement
# costs more CPU than PostgreSQL spends running it.
_AGENCY_LIAISONS = (_active(Role.AGENCY_LIAISON).where(UserAccount.agency_id == bindparam("agency_id"))
                    .order_by(UserAccount.username))
_ASSESSORS = (_active(Role.ASSESSOR).where(UserAccount.jurisdiction_id == bindparam("jurisdiction_id"))
              .order_by(UserAccount.username))
_PROSECUTOR = _active(Role.PROSECUTOR).where(UserAccount.id == bindparam("prosecutor_id"))
_PROSECUTORS = (_active(Role.PROSECUTOR).where(UserAccount.procuratorate_id.in_(
    select(Procuratorate.id).where(Procuratorate.jurisdiction_id == bindparam("jurisdiction_id"))))
    .order_by(UserAccount.username))


async def recipients(session: AsyncSession, audience: Audience, scope: Scope) -> list[uuid.UUID]:
    """The active users of `audience` for `scope`, in a stable order."""
    if audience is Audience.AGENCY_LIAISONS:
        if scope.agency_id is None:  # a procuratorate's own clue: no agency to tell
            return []
        return list(await session.scalars(_AGENCY_LIAISONS, {"agency_id": scope.agency_id}))
    if audience is Audience.ASSESSMENT_OFFICE:
        return list(await session.scalars(_ASSESSORS, {"jurisdiction_id": scope.jurisdiction_id}))
    if audience is Audience.PROSECUTOR_IN_CHARGE and scope.prosecutor_id is not None:
        found = list(await session.scalars(_PROSECUTOR, {"prosecutor_id": scope.prosecutor_id}))
        if found:
            return found
    return list(await session.scalars(_PROSECUTORS, {"jurisdiction_id": scope.jurisdiction_id}))


@dataclass(frozen=True)
class Event:
    kind: NotificationKind
    subject_kind: str
    subject_id: uuid.UUID
    message: str  # bilingual, from what every recipient may see
    # For the agency's webhooks: the same facts as the message, as data.
    payload: dict


async def notify(session: AsyncSession, event: Event, user_ids: list[uuid.UUID],
                 webhook_agency_id: uuid.UUID | None = None) -> int:
    """Write `event` for each of `user_ids` and, with `webhook_agency_id`, a delivery for each
    active webhook of that agency, in the caller's transaction. The number of notifications."""
    now = utcnow()
    if user_ids:
        await session.execute(insert(Notification), [
            {"id": uuid.uuid4(), "user_id": user_id, "kind": event.kind, "subject_kind": event.subject_kind,
             "subject_id": event.subject_id, "message": event.message, "created_at": now}
            for user_id in dict.fromkeys(user_ids)])
    if webhook_agency_id is not None:
        hooks = (await session.execute(select(Webhook.id, Webhook.jurisdiction_id).where(
            Webhook.agency_id == webhook_agency_id, Webhook.revoked_at.is_(None)))).all()
        if hooks:
            body = {"event": event.kind.value, "occurredAt": now.isoformat(), "subjectKind": event.subject_kind,
                    "subjectId": str(event.subject_id), "message": event.message, **event.payload}
            await session.execute(insert(WebhookDelivery), [
                {"id": uuid.uuid4(), "webhook_id": hook_id, "agency_id": webhook_agency_id,
                 "jurisdiction_id": jurisdiction_id, "event": event.kind, "payload": body,
                 "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
                for hook_id, jurisdiction_id in hooks])
    return len(set(user_ids))


async def notify_audience(session: AsyncSession, event: Event, audience: Audience, scope: Scope) -> int:
    """Notify `audience`; an event for an agency's liaisons goes to its webhooks too."""
    webhook_agency = scope.agency_id if audience is Audience.AGENCY_LIAISONS else None
    return await notify(session, event, await recipients(session, audience, scope), webhook_agency)


def _own(principal: Principal) -> Select:
    # Notifications are a person's: an API key (an agency's system) has none, and uses webhooks.
    require(principal, users_only=True)
    return select(Notification).where(Notification.user_id == principal.user_id)


async def list_notifications(session: AsyncSession, *, principal: Principal, unread_only: bool,
                             page: PageRequest) -> Page[Notification]:
    query = _own(principal)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return await paginate(session, query, request=page, at_column=Notification.created_at,
                          id_column=Notification.id)


async def unread_count(session: AsyncSession, *, principal: Principal) -> int:
    return await session.scalar(_own(principal).where(Notification.read_at.is_(None))
                                .with_only_columns(func.count()))


async def mark_read(session: AsyncSession, *, principal: Principal, notification_id: str) -> Notification:
    """Mark one of the caller's notifications read (kept at its first reading); another user's
    is NOT_FOUND, as one that does not exist."""
    try:
        parsed = uuid.UUID(str(notification_id))
    except ValueError:
        parsed = None
    found = None
    if parsed is not None:
        found = await session.scalar(_own(principal).where(Notification.id == parsed).with_for_update())
    if found is None:
        raise NotFound("通知不存在 / notification not found")
    if found.read_at is None:
        found.read_at = utcnow()
        await session.flush()
    return found


async def mark_all_read(session: AsyncSession, *, principal: Principal) -> int:
    require(principal, users_only=True)
    result = await session.execute(update(Notification).where(
        Notification.user_id == principal.user_id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount

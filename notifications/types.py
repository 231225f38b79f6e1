"""GraphQL types of notifications and webhooks."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.connection import Connection
from notifications import models, service

NotificationKind = strawberry.enum(models.NotificationKind, description="What a notification is about.")
DeliveryStatus = strawberry.enum(models.DeliveryStatus, description="Where a webhook delivery stands.")


@strawberry.type(description="A message to the signed-in user.")
class Notification:
    id: strawberry.ID
    kind: NotificationKind
    subject_kind: str = strawberry.field(description="REFERRAL, RECOMMENDATION or DEADLINE: what subjectId names.")
    subject_id: strawberry.ID
    message: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_model(cls, row: models.Notification) -> Notification:
        return cls(id=strawberry.ID(str(row.id)), kind=row.kind, subject_kind=row.subject_kind,
                   subject_id=strawberry.ID(str(row.subject_id)), message=row.message, created_at=row.created_at,
                   read_at=row.read_at)


@strawberry.type
class NotificationConnection(Connection[Notification]):
    @strawberry.field(description="The caller's unread notifications, whatever the page and filter.")
    async def unread_count(self, info: Info) -> int:
        return await service.unread_count(info.context.session, principal=info.context.principal)


@strawberry.type(description="An agency's endpoint for the events its liaisons are notified of.")
class Webhook:
    id: strawberry.ID
    agency_id: strawberry.ID
    url: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, row: models.Webhook) -> Webhook:
        return cls(id=strawberry.ID(str(row.id)), agency_id=strawberry.ID(str(row.agency_id)), url=row.url,
                   created_at=row.created_at, created_by=row.actor_name, revoked_at=row.revoked_at)


@strawberry.type
class RegisteredWebhook:
    webhook: Webhook
    secret: str = strawberry.field(
        description="The HMAC-SHA256 key of X-PIL-Signature (sha256=hex of HMAC(secret, timestamp + '.' + body)). "
                    "Shown only now: keep it.")


@strawberry.type(description="One event sent (or being sent) to a webhook, and how its attempts went.")
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: strawberry.ID
    event: NotificationKind
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: strawberry.scalars.JSON

    @classmethod
    def from_model(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        return cls(id=strawberry.ID(str(row.id)), webhook_id=strawberry.ID(str(row.webhook_id)), event=row.event,
                   status=row.status, attempts=row.attempts, last_status_code=row.last_status_code,
                   last_error=row.last_error, next_attempt_at=row.next_attempt_at, delivered_at=row.delivered_at,
                   created_at=row.created_at, payload=row.payload)

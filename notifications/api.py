"""Queries and mutations of notifications and webhooks."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.connection import Connection, selects
from core.pagination import page_request
from notifications import service, webhooks
from notifications.types import Notification, NotificationConnection, RegisteredWebhook, Webhook, WebhookDelivery


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The signed-in user's notifications, newest first.")
    async def notifications(self, info: Info, unread_only: bool = False, first: int | None = None,
                            after: str | None = None) -> NotificationConnection | None:
        request = page_request(info.context.settings.api, first, after, with_total_count=selects(info, "totalCount"))
        page = await service.list_notifications(info.context.session, principal=info.context.principal,
                                                unread_only=unread_only, page=request)
        return NotificationConnection.from_page(page, Notification.from_model)

    @strawberry.field(description="An agency's webhooks: a liaison's own agency's, or (administrators) any agency's.")
    async def webhooks(self, info: Info, agency_id: strawberry.ID | None = None) -> list[Webhook] | None:
        rows = await webhooks.list_webhooks(info.context.session, principal=info.context.principal,
                                            agency_id=agency_id)
        return [Webhook.from_model(row) for row in rows]

    @strawberry.field(description="The delivery log of an agency's webhooks, newest first.")
    async def webhook_deliveries(self, info: Info, agency_id: strawberry.ID | None = None,
                                 webhook_id: strawberry.ID | None = None, first: int | None = None,
                                 after: str | None = None) -> Connection[WebhookDelivery] | None:
        request = page_request(info.context.settings.api, first, after, with_total_count=selects(info, "totalCount"))
        page = await webhooks.list_deliveries(info.context.session, principal=info.context.principal,
                                              agency_id=agency_id, webhook_id=webhook_id, page=request)
        return Connection.from_page(page, WebhookDelivery.from_model)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark one of the caller's notifications read.")
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> Notification:
        return Notification.from_model(await service.mark_read(
            info.context.session, principal=info.context.principal, notification_id=id))

    @strawberry.mutation(description="Mark all the caller's notifications read; how many were unread.")
    async def mark_all_notifications_read(self, info: Info) -> int:
        return await service.mark_all_read(info.context.session, principal=info.context.principal)

    @strawberry.mutation(description="Register a URL that receives the agency's events, signed with the secret "
                                     "returned (once). A liaison registers for its own agency; an administrator "
                                     "names the agency.")
    async def register_webhook(self, info: Info, url: str, agency_id: strawberry.ID | None = None
                               ) -> RegisteredWebhook:
        registered = await webhooks.register_webhook(info.context.session, principal=info.context.principal,
                                                     agency_id=agency_id, url=url)
        return RegisteredWebhook(webhook=Webhook.from_model(registered.webhook), secret=registered.secret)

    @strawberry.mutation(description="Stop a webhook: nothing more is sent to it, pending deliveries included.")
    async def revoke_webhook(self, info: Info, id: strawberry.ID) -> Webhook:
        return Webhook.from_model(await webhooks.revoke_webhook(info.context.session, principal=info.context.principal,
                                                                webhook_id=id))

"""Agencies' outbound webhooks: registration (the secret shown once), signed delivery with
retries and exponential backoff, and the delivery log the agency reads.

A delivery row is written in the event's own transaction (an outbox), so an event that is rolled
back is never sent and one that is committed is sent at least once. The worker claims due rows
with SKIP LOCKED and a lease (no transaction stays open while a slow endpoint answers); a worker
that dies while sending leaves the lease to expire and the row is sent again. Receivers tell
repeats apart by the `X-PIL-Delivery` header.

Each request carries `X-PIL-Timestamp` (Unix seconds) and `X-PIL-Signature: sha256=<hex>`, the
HMAC-SHA256 under the webhook's secret of `<timestamp>.<body>`: a receiver recomputes it and
refuses a stale timestamp, so a captured request cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agencies.models import Agency, Role
from agencies.principal import Principal
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.pagination import Page, PageRequest, paginate
from core.permissions import require
from notifications.models import DeliveryStatus, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 2000
MAX_ERROR_LENGTH = 500


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_WEBHOOK_")

    connect_timeout_seconds: float = 3
    read_timeout_seconds: float = 10
    max_attempts: int = 8
    # Attempt n waits first_retry * 2**(n-1) after attempt n-1 failed: 30 s, 1 min, 2 min, … ~1 h.
    first_retry_seconds: float = 30
    batch_size: int = 20


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed("回调地址须为 http(s) 网址 / the webhook URL must be an http(s) URL", field="url")
    return url


def _agency_of(principal: Principal, agency_id: str | None) -> uuid.UUID | None:
    """The agency a liaison or an administrator acts on: a liaison only its own (another agency
    is NOT_FOUND to it, as one that does not exist); an administrator names one."""
    require(principal, Role.ADMIN, Role.AGENCY_LIAISON)
    try:
        parsed = uuid.UUID(agency_id) if agency_id else None
    except ValueError:
        raise NotFound("机关不存在 / agency not found") from None
    if principal.role is Role.AGENCY_LIAISON:
        if parsed is not None and parsed != principal.agency_id:
            raise NotFound("机关不存在 / agency not found")
        return principal.agency_id
    return parsed


@dataclass(frozen=True)
class Registered:
    webhook: Webhook
    secret: str  # shown this once


async def register_webhook(session: AsyncSession, *, principal: Principal, agency_id: str | None,
                           url: str) -> Registered:
    agency_uuid = _agency_of(principal, agency_id)
    if agency_uuid is None:
        raise ValidationFailed("请指定机关 / agencyId is required", field="agencyId")
    agency = await session.get(Agency, agency_uuid)
    if agency is None:
        raise NotFound("机关不存在 / agency not found")
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(id=uuid.uuid4(), agency_id=agency.id, jurisdiction_id=agency.jurisdiction_id,
                      url=_check_url(url), secret=secret, created_at=utcnow())
    webhook.set_actor(principal)
    session.add(webhook)
    await session.flush()
    return Registered(webhook=webhook, secret=secret)


def _visible_hooks(principal: Principal, agency_id: str | None) -> Select:
    query = select(Webhook)
    agency_uuid = _agency_of(principal, agency_id)
    if agency_uuid is not None:
        query = query.where(Webhook.agency_id == agency_uuid)
    return query


async def list_webhooks(session: AsyncSession, *, principal: Principal, agency_id: str | None) -> list[Webhook]:
    return list(await session.scalars(_visible_hooks(principal, agency_id)
                                      .order_by(Webhook.created_at, Webhook.id)))


async def revoke_webhook(session: AsyncSession, *, principal: Principal, webhook_id: str) -> Webhook:
    """No more deliveries, from now on (those pending are not sent either)."""
    try:
        parsed = uuid.UUID(webhook_id)
    except ValueError:
        parsed = None
    webhook = parsed and await session.scalar(_visible_hooks(principal, None).where(Webhook.id == parsed)
                                              .with_for_update())
    if not webhook:
        raise NotFound("回调不存在 / webhook not found")
    if webhook.revoked_at is None:
        webhook.revoked_at = utcnow()
        await session.execute(update(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error="webhook revoked"))
        await session.flush()
    return webhook


async def list_deliveries(session: AsyncSession, *, principal: Principal, agency_id: str | None,
                          webhook_id: str | None, page: PageRequest) -> Page[WebhookDelivery]:
    """The delivery log, newest first: a liaison's agency's, or (an administrator) any agency's."""
    query = select(WebhookDelivery)
    agency_uuid = _agency_of(principal, agency_id)
    if agency_uuid is not None:
        query = query.where(WebhookDelivery.agency_id == agency_uuid)
    if webhook_id:
        try:
            query = query.where(WebhookDelivery.webhook_id == uuid.UUID(webhook_id))
        except ValueError:
            raise ValidationFailed("webhookId 无效 / invalid webhookId", field="webhookId") from None
    return await paginate(session, query, request=page, at_column=WebhookDelivery.created_at,
                          id_column=WebhookDelivery.id)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _lease(settings: WebhookSettings) -> timedelta:
    # Longer than one attempt can take, so a live sender never loses its claim.
    return timedelta(seconds=settings.connect_timeout_seconds + settings.read_timeout_seconds + 30)


async def _claim(session_factory: async_sessionmaker[AsyncSession], settings: WebhookSettings
                 ) -> list[tuple[uuid.UUID, str, str, dict, int]]:
    """Due deliveries of live webhooks, leased to this sender (committed at once)."""
    async with session_factory() as session, session.begin():
        now = utcnow()
        rows = (await session.execute(
            select(WebhookDelivery.id, Webhook.url, Webhook.secret, WebhookDelivery.payload, WebhookDelivery.attempts)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now,
                   Webhook.revoked_at.is_(None))
            .order_by(WebhookDelivery.next_attempt_at).limit(settings.batch_size)
            .with_for_update(of=WebhookDelivery, skip_locked=True))).all()
        if rows:
            await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([row.id for row in rows]))
                                  .values(next_attempt_at=now + _lease(settings),
                                          attempts=WebhookDelivery.attempts + 1))
    return [(row.id, row.url, row.secret, row.payload, row.attempts + 1) for row in rows]


async def _attempt(client: httpx.AsyncClient, delivery_id: uuid.UUID, url: str, secret: str, payload: dict,
                   event: str) -> tuple[int | None, str | None]:
    body = orjson.dumps(payload)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "pil-referral-webhooks",
               "X-PIL-Event": event, "X-PIL-Delivery": str(delivery_id), "X-PIL-Timestamp": timestamp,
               "X-PIL-Signature": signature(secret, timestamp, body)}
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH] or type(error).__name__
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


async def deliver_due(session_factory: async_sessionmaker[AsyncSession], settings: WebhookSettings) -> int:
    """Send the deliveries that are due, once each; record each attempt's outcome and, on a
    failure, when to try again (or that no attempt is left). The number attempted."""
    claimed = await _claim(session_factory, settings)
    if not claimed:
        return 0
    timeout = httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        for delivery_id, url, secret, payload, attempt in claimed:
            status_code, error = await _attempt(client, delivery_id, url, secret, payload, payload["event"])
            values: dict = {"last_status_code": status_code, "last_error": error}
            if error is None:
                values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": utcnow(), "next_attempt_at": None}
            elif attempt >= settings.max_attempts:
                values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
            else:
                wait = settings.first_retry_seconds * 2 ** (attempt - 1)
                values |= {"next_attempt_at": utcnow() + timedelta(seconds=wait)}
            async with session_factory() as session, session.begin():
                await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))
            if error is not None:
                logger.warning("webhook delivery %s attempt %d failed: %s", delivery_id, attempt, error)
    return len(claimed)

"""In-app notifications, the once-only record of deadline reminders, and agencies' webhooks."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, created_at_column, string_enum, uuid_pk
from core.state_machine import ActorMixin


class NotificationKind(str, enum.Enum):
    REFERRAL_SUBMITTED = "REFERRAL_SUBMITTED"
    REFERRAL_REGISTERED = "REFERRAL_REGISTERED"
    REFERRAL_RETURNED = "REFERRAL_RETURNED"
    REFERRAL_DECLINED = "REFERRAL_DECLINED"
    CASE_FILED = "CASE_FILED"
    RECOMMENDATION_RECEIVED = "RECOMMENDATION_RECEIVED"
    RECTIFICATION_CHECKED = "RECTIFICATION_CHECKED"
    DEADLINE_PROGRESS = "DEADLINE_PROGRESS"  # a milestone of its time gone (50 %, 75 %)
    DEADLINE_DUE_SOON = "DEADLINE_DUE_SOON"
    DEADLINE_OVERDUE = "DEADLINE_OVERDUE"
    DEADLINE_ESCALATED = "DEADLINE_ESCALATED"
    CLUE_HITS_FOUND = "CLUE_HITS_FOUND"  # a clue model's run queued new hits (clues.service)


class Notification(Base):
    """One message to one user. Its text is written when the event happens, from what the
    recipient may see (a number, a title, a date), never from the subject's internal fields."""

    __tablename__ = "notification"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(string_enum(NotificationKind, "notification_kind"))
    # What it is about, for a client to open it: "REFERRAL", "RECOMMENDATION", "DEADLINE", ...
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_notification_user_id_created_at", "user_id", "created_at", "id"),
        Index("ix_notification_unread", "user_id", postgresql_where=text("read_at IS NULL")),
    )


class NotificationSent(Base):
    """A reminder or escalation step of a deadline that has been sent. Inserted in the
    transaction that writes its notifications: the primary key makes a second sender (another
    worker, a retried job) find it sent and send nothing."""

    __tablename__ = "notification_sent"

    deadline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deadline.id", ondelete="CASCADE"))
    # "PROGRESS_50", "PROGRESS_75", "DUE_SOON", "OVERDUE", "ESCALATION_1", ...
    step: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = created_at_column()
    recipients: Mapped[int] = mapped_column(Integer)

    __table_args__ = (PrimaryKeyConstraint("deadline_id", "step"),)


class Webhook(ActorMixin, Base):
    """An agency's endpoint for the events its liaisons are notified of, signed with its secret."""

    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = uuid_pk()
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), index=True)
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    url: Mapped[str] = mapped_column(String(2000))
    # Shown once, when registered; kept to sign every payload (HMAC needs the key itself).
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryStatus(str, enum.Enum):
    PENDING = "PENDING"  # waiting for its next attempt
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # every attempt failed; no more are made


class WebhookDelivery(Base):
    """One event for one webhook: written in the event's own transaction (the outbox), sent by
    the worker, retried with exponential backoff until delivered or out of attempts."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = uuid_pk()
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"))
    jurisdiction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jurisdiction.id"))
    event: Mapped[NotificationKind] = mapped_column(string_enum(NotificationKind, "webhook_delivery_event"))
    payload: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[DeliveryStatus] = mapped_column(string_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        Index("ix_webhook_delivery_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
    )

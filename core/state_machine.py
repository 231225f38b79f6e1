"""State machines declared as data, and the one engine that moves every aggregate through its own.

A package declares its machine once (`StateMachine`: its status enum, its action enum, a table of
transitions) and gives the aggregate a history table built on `StatusChangeMixin`. Every status
change then goes through `apply_transition` (and a new row's first status through
`record_creation`): the actor's role and the current status are checked against the table —
FORBIDDEN when no transition of the action is open to the role at all, INVALID_TRANSITION when
none leaves the current status — and each change that passes writes a history row saying who,
when, from what, to what and why. Dispatch logs an unexpected status change; we refuse it."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.db import created_at_column, string_enum
from core.errors import InvalidTransition, ValidationFailed
from core.permissions import Actor, require

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=enum.Enum)

MAX_REASON_LENGTH = 2000


class ActorMixin:
    """Who did something: a person (user id) or an agency's system (API key id), and the name
    shown for them, kept as it was at the time (accounts are renamed; history is not)."""

    @declared_attr
    def actor_user_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, ForeignKey("user_account.id"), nullable=True)

    @declared_attr
    def actor_api_key_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, ForeignKey("api_key.id"), nullable=True)

    actor_name: Mapped[str] = mapped_column(String(100))

    def set_actor(self, principal: Actor) -> None:
        self.actor_user_id = principal.user_id
        self.actor_api_key_id = principal.api_key_id
        self.actor_name = principal.username


class StatusChangeMixin(ActorMixin):
    """The columns of an aggregate's history table. A subclass names its status enum and the
    column that points at the aggregate; the rest is here:

        class CaseStatusChange(StatusChangeMixin, Base):
            __tablename__ = "case_status_change"
            status_enum = CaseStatus
            subject_key = "case_id"
            id: Mapped[uuid.UUID] = uuid_pk()
            case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pil_case.id"), index=True)
    """

    status_enum: ClassVar[type[enum.Enum]]
    subject_key: ClassVar[str]

    # The action's value ("register"): a plain string, so adding an action needs no migration.
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = created_at_column()

    @declared_attr
    def from_status(cls) -> Mapped[Any]:
        return mapped_column(string_enum(cls.status_enum, "from_status"), nullable=True)

    @declared_attr
    def to_status(cls) -> Mapped[Any]:
        return mapped_column(string_enum(cls.status_enum, "to_status"), nullable=False)


@dataclass(frozen=True)
class Transition(Generic[S, A]):
    action: A
    source: S | None  # None: the row is being created
    target: S
    roles: frozenset[enum.Enum]
    reason_required: bool = False


@dataclass(frozen=True)
class StateMachine(Generic[S, A]):
    name_zh: str  # what moves through it, for messages: "线索"
    name_en: str  # "referral"
    states: type[S]
    actions: type[A]
    transitions: tuple[Transition[S, A], ...]
    history: type[StatusChangeMixin]
    status_attribute: str = "status"

    def __post_init__(self) -> None:
        # A mistake in a table is a programming error: fail at import, not at the first request.
        seen: set[tuple[object, object, object]] = set()
        for transition in self.transitions:
            if not isinstance(transition.action, self.actions):
                raise TypeError(f"{transition.action!r} is not a {self.actions.__name__}")
            for state in (transition.source, transition.target):
                if state is not None and not isinstance(state, self.states):
                    raise TypeError(f"{state!r} is not a {self.states.__name__}")
            if not transition.roles:
                raise ValueError(f"{transition.action!r} from {transition.source!r} is open to no role")
            for role in transition.roles:
                key = (transition.action, transition.source, role)
                if key in seen:
                    raise ValueError(f"two transitions for {key!r}")
                seen.add(key)
        if missing := set(self.actions) - {transition.action for transition in self.transitions}:
            raise ValueError(f"actions without a transition: {sorted(action.name for action in missing)}")
        if self.history.status_enum is not self.states:
            raise TypeError(f"{self.history.__name__} records {self.history.status_enum.__name__}, "
                            f"not {self.states.__name__}")

    def roles_for(self, action: A) -> frozenset[enum.Enum]:
        return frozenset().union(*(t.roles for t in self.transitions if t.action is action))

    def transition(self, action: A | str, source: S | None, principal: Actor) -> Transition[S, A]:
        """The transition `principal` makes with `action` from `source`, or the refusal: FORBIDDEN
        when the action is not open to the principal's role from any status (checked first: it
        does not depend on the row), INVALID_TRANSITION when it does not leave `source`."""
        action = self.actions(action)
        require(principal, *self.roles_for(action))
        for transition in self.transitions:
            if transition.action is action and transition.source == source and principal.role in transition.roles:
                return transition
        current = source.value if source is not None else "NEW"
        raise InvalidTransition(
            f"{self.name_zh}当前状态为 {current}，不能执行 {action.value} / {action.value!r} is not allowed "
            f"on a {self.name_en} in status {current}",
            status=current, action=action.value)

    def history_row(self, row: Any, transition: Transition[S, A], principal: Actor,
                    source: S | None, reason: str | None) -> StatusChangeMixin:
        history = self.history(**{self.history.subject_key: row.id}, action=transition.action.value,
                               from_status=source, to_status=transition.target, reason=reason)
        history.set_actor(principal)
        return history


def _checked_reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip()
    if not reason:
        if required:
            raise ValidationFailed("reason 不能为空 / reason is required", field="reason")
        return None
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(f"reason 过长 / reason is longer than {MAX_REASON_LENGTH} characters",
                               field="reason")
    return reason


async def apply_transition(session: AsyncSession, *, principal: Actor, machine: StateMachine[S, A], row: Any,
                           action: A | str, reason: str | None = None) -> StatusChangeMixin:
    """Move `row` (already found through the caller's scoping) by `action`, and return the history
    row written for it. The row is locked first and re-read, so two concurrent transitions cannot
    both start from the same status: the second waits and then sees where the first left it."""
    action = machine.actions(action)
    require(principal, *machine.roles_for(action))  # before taking the lock: it needs no row
    await session.refresh(row, with_for_update=True)
    source = getattr(row, machine.status_attribute)
    transition = machine.transition(action, source, principal)
    reason = _checked_reason(reason, required=transition.reason_required)
    setattr(row, machine.status_attribute, transition.target)
    history = machine.history_row(row, transition, principal, source, reason)
    session.add(history)
    await session.flush()
    return history


def creation_history(*, principal: Actor, machine: StateMachine[S, A], row: Any, action: A | str,
                     reason: str | None = None) -> StatusChangeMixin:
    """The creation transition of a new `row` (source None): checks it, gives the row its first
    status and returns the history row, for the caller to write with the row itself."""
    transition = machine.transition(action, None, principal)
    if getattr(row, machine.status_attribute, None) is not transition.target:
        setattr(row, machine.status_attribute, transition.target)
    return machine.history_row(row, transition, principal, None,
                               _checked_reason(reason, required=transition.reason_required))


def record_creation(session: AsyncSession, *, principal: Actor, machine: StateMachine[S, A], row: Any,
                    action: A | str, reason: str | None = None) -> StatusChangeMixin:
    """`creation_history`, added to the session. The caller flushes, with the row itself."""
    history = creation_history(principal=principal, machine=machine, row=row, action=action, reason=reason)
    session.add(history)
    return history

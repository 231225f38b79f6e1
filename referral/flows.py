"""The referral state machine, declared once as data.

Every status change goes through `find_transition`: an action not allowed from the current status
is INVALID_TRANSITION, an actor of the wrong role is FORBIDDEN; the service writes a history row
for each one that passes."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from agencies.models import Role
from app.errors import Forbidden, InvalidTransition


class ReferralStatus(str, enum.Enum):
    SUBMITTED = "SUBMITTED"  # 已移送，待登记
    WITHDRAWN = "WITHDRAWN"  # 已撤回
    REGISTERED = "REGISTERED"  # 已登记受理


@dataclass(frozen=True)
class Transition:
    action: str
    source: ReferralStatus | None  # None: the referral is being created
    target: ReferralStatus
    roles: frozenset[Role]
    reason_required: bool = False


REFERRAL_TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", None, ReferralStatus.SUBMITTED, frozenset({Role.AGENCY_LIAISON})),
    Transition("withdraw", ReferralStatus.SUBMITTED, ReferralStatus.WITHDRAWN,
               frozenset({Role.AGENCY_LIAISON}), reason_required=True),
    Transition("register", ReferralStatus.SUBMITTED, ReferralStatus.REGISTERED,
               frozenset({Role.PROSECUTOR})),
)


def find_transition(action: str, source: ReferralStatus | None, role: Role) -> Transition:
    candidates = [t for t in REFERRAL_TRANSITIONS if t.action == action]
    if not candidates:
        raise ValueError(f"unknown referral action {action!r}")
    if not any(role in t.roles for t in candidates):
        raise Forbidden()
    for transition in candidates:
        if transition.source == source and role in transition.roles:
            return transition
    current = source.value if source else "NEW"
    raise InvalidTransition(
        f"线索当前状态为 {current}，不能执行 {action} / {action!r} is not allowed on a referral "
        f"in status {current}",
        status=current, action=action)

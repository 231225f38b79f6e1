"""The referral state machine, declared once as data on core.state_machine.

Every status change goes through the engine with this table: an action not allowed from the
current status is INVALID_TRANSITION, an actor of the wrong role is FORBIDDEN, and each change
that passes writes a history row. What a transition triggers besides (registration allocates
the referral's document number) is in referral.service."""

from __future__ import annotations

from agencies.models import Role
from core.state_machine import StateMachine, Transition
from referral.enums import ReferralAction, ReferralStatus
from referral.models import ReferralStatusChange

__all__ = ["REFERRAL_MACHINE", "REFERRAL_TRANSITIONS", "ReferralAction", "ReferralStatus"]

REFERRAL_TRANSITIONS: tuple[Transition[ReferralStatus, ReferralAction], ...] = (
    Transition(ReferralAction.SUBMIT, None, ReferralStatus.SUBMITTED, frozenset({Role.AGENCY_LIAISON})),
    Transition(ReferralAction.WITHDRAW, ReferralStatus.SUBMITTED, ReferralStatus.WITHDRAWN,
               frozenset({Role.AGENCY_LIAISON}), reason_required=True),
    Transition(ReferralAction.REGISTER, ReferralStatus.SUBMITTED, ReferralStatus.REGISTERED,
               frozenset({Role.PROSECUTOR})),
)

REFERRAL_MACHINE = StateMachine(
    name_zh="线索", name_en="referral", states=ReferralStatus, actions=ReferralAction,
    transitions=REFERRAL_TRANSITIONS, history=ReferralStatusChange)

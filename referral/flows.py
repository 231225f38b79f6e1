"""The referral state machine, declared once as data on core.state_machine.

Every status change goes through the engine with this table: an action not allowed from the
current status is INVALID_TRANSITION, an actor of the wrong role is FORBIDDEN, and each change
that passes writes a history row. What a transition triggers besides (registration allocates
the referral's document number, an edit comes with resubmission) is in referral.service.

The life of a referral: the agency submits it; the procuratorate registers it, or returns it for
more material (before or after registering), and the agency edits and resubmits it, or withdraws
it; a registered clue is declined (不予立案) or becomes a case (立案)."""

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
    # Returning asks for more material: possible on receipt and after registration (evaluation
    # may show what is missing); the agency must be told what, so a reason is required.
    Transition(ReferralAction.RETURN, ReferralStatus.SUBMITTED, ReferralStatus.RETURNED,
               frozenset({Role.PROSECUTOR}), reason_required=True),
    Transition(ReferralAction.RETURN, ReferralStatus.REGISTERED, ReferralStatus.RETURNED,
               frozenset({Role.PROSECUTOR}), reason_required=True),
    Transition(ReferralAction.RESUBMIT, ReferralStatus.RETURNED, ReferralStatus.SUBMITTED,
               frozenset({Role.AGENCY_LIAISON})),
    Transition(ReferralAction.WITHDRAW, ReferralStatus.RETURNED, ReferralStatus.WITHDRAWN,
               frozenset({Role.AGENCY_LIAISON}), reason_required=True),
    # Only a registered clue is declined: a decision not to open a case comes after the clue has
    # been accepted (and numbered) and evaluated, so every decision has a registration number to
    # cite. A clue that is merely incomplete on receipt is returned instead.
    Transition(ReferralAction.DECLINE, ReferralStatus.REGISTERED, ReferralStatus.DECLINED,
               frozenset({Role.PROSECUTOR}), reason_required=True),
    # Filing a case (立案) is the other outcome of evaluating a registered clue; the case itself is
    # created with it, in the same transaction, by cases.service.file_case.
    Transition(ReferralAction.FILE_CASE, ReferralStatus.REGISTERED, ReferralStatus.CASE_FILED,
               frozenset({Role.PROSECUTOR})),
)

REFERRAL_MACHINE = StateMachine(
    name_zh="线索", name_en="referral", states=ReferralStatus, actions=ReferralAction,
    transitions=REFERRAL_TRANSITIONS, history=ReferralStatusChange)

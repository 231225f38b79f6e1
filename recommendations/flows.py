"""The recommendation state machine, declared once as data on core.state_machine.

A recommendation is issued (制发, numbered 公益建) in an administrative case; its service on the
agency (宣告送达) is recorded with the date it was received, which starts the reply period; the
agency replies once in writing; the procuratorate checks the rectification, as often as it needs
(a follow-up check months later, 回头看, included). The agency may reply late, after a check: the
reply is recorded and the recommendation stays CHECKED. Whether the harm was put right is not a
status but each check's result (recommendations.models.RectificationResult): replied and
rectified are separate facts.

What a transition triggers besides (the number, the reply deadline, the case's own transitions)
is in recommendations.service."""

from __future__ import annotations

from agencies.models import Role
from core.state_machine import StateMachine, Transition
from recommendations.models import RecommendationAction, RecommendationStatus, RecommendationStatusChange

__all__ = ["RECOMMENDATION_MACHINE", "RECOMMENDATION_TRANSITIONS", "RecommendationAction", "RecommendationStatus"]

_PROSECUTOR = frozenset({Role.PROSECUTOR})
_AGENCY = frozenset({Role.AGENCY_LIAISON})
Status, Action = RecommendationStatus, RecommendationAction

RECOMMENDATION_TRANSITIONS: tuple[Transition[RecommendationStatus, RecommendationAction], ...] = (
    Transition(Action.ISSUE, None, Status.ISSUED, _PROSECUTOR),
    Transition(Action.SERVE, Status.ISSUED, Status.SERVED, _PROSECUTOR),
    # Only once its service is recorded: the reply's timeliness is measured from the served date.
    Transition(Action.REPLY, Status.SERVED, Status.REPLIED, _AGENCY),
    Transition(Action.REPLY, Status.CHECKED, Status.CHECKED, _AGENCY),
    # A check needs no reply: when the reply is late the prosecutor goes to look.
    Transition(Action.CHECK, Status.SERVED, Status.CHECKED, _PROSECUTOR),
    Transition(Action.CHECK, Status.REPLIED, Status.CHECKED, _PROSECUTOR),
    Transition(Action.CHECK, Status.CHECKED, Status.CHECKED, _PROSECUTOR),
)

RECOMMENDATION_MACHINE = StateMachine(
    name_zh="检察建议", name_en="recommendation", states=RecommendationStatus, actions=RecommendationAction,
    transitions=RECOMMENDATION_TRANSITIONS, history=RecommendationStatusChange)

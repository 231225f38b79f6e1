"""The case state machine, declared once as data on core.state_machine. So far a case is only
filed; the stages after filing add their statuses and transitions here."""

from __future__ import annotations

from agencies.models import Role
from cases.models import CaseAction, CaseStatus, CaseStatusChange
from core.state_machine import StateMachine, Transition

__all__ = ["CASE_MACHINE", "CASE_TRANSITIONS", "CaseAction", "CaseStatus"]

CASE_TRANSITIONS: tuple[Transition[CaseStatus, CaseAction], ...] = (
    Transition(CaseAction.FILE, None, CaseStatus.FILED, frozenset({Role.PROSECUTOR})),
)

CASE_MACHINE = StateMachine(
    name_zh="案件", name_en="case", states=CaseStatus, actions=CaseAction,
    transitions=CASE_TRANSITIONS, history=CaseStatusChange)

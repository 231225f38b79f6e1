"""The case state machine, declared once as data on core.state_machine.

The life of a case (../shared/DOMAIN.md, "The procedure the platform tracks"): it is filed (立案);
an administrative case may go to pre-litigation consultation with the agency (诉前磋商, 办案规则
art. 70) and end there once the agency has fully performed its duty (art. 74), or get a
pre-litigation recommendation (诉前检察建议) whose reply and rectification are followed up; if the
agency neither performs nor rectifies, the procuratorate sues (行政诉讼法 art. 25(4): only after a
recommendation). A civil claim (and the civil claim of a criminal case) is announced for 30 days
first (法释〔2018〕6号 art. 13), and sued after. Every case is closed with an outcome; a follow-up
check months later (回头看) may reopen follow-up.

Which transitions a case's kind allows (a recommendation only in an administrative case, the
announcement only with a civil claim) is checked by the services that make them (cases.procedure,
the recommendations package): the table says which status moves to which, and who may move it;
OUTCOME_SOURCES below says which outcome a case may close with from which status."""

from __future__ import annotations

from agencies.models import Role
from cases.models import CaseAction, CaseKind, CaseOutcome, CaseStatus, CaseStatusChange
from core.state_machine import StateMachine, Transition

__all__ = ["CASE_MACHINE", "CASE_TRANSITIONS", "CIVIL_CLAIM_KINDS", "CaseAction", "CaseStatus", "OUTCOME_SOURCES",
           "OUTCOMES_FROM_COURT"]

_PROSECUTOR = frozenset({Role.PROSECUTOR})

CASE_TRANSITIONS: tuple[Transition[CaseStatus, CaseAction], ...] = (
    Transition(CaseAction.FILE, None, CaseStatus.FILED, _PROSECUTOR),
    Transition(CaseAction.CONSULT, CaseStatus.FILED, CaseStatus.CONSULTATION, _PROSECUTOR),
    Transition(CaseAction.ISSUE_RECOMMENDATION, CaseStatus.FILED, CaseStatus.RECOMMENDATION_ISSUED, _PROSECUTOR),
    Transition(CaseAction.ISSUE_RECOMMENDATION, CaseStatus.CONSULTATION, CaseStatus.RECOMMENDATION_ISSUED,
               _PROSECUTOR),
    # Follow-up starts with the agency's reply, or when the reply is late and the prosecutor goes
    # to look; either way a prosecutor's act (the agency's reply does not move the case).
    Transition(CaseAction.BEGIN_FOLLOW_UP, CaseStatus.RECOMMENDATION_ISSUED, CaseStatus.FOLLOW_UP, _PROSECUTOR),
    Transition(CaseAction.ANNOUNCE, CaseStatus.FILED, CaseStatus.ANNOUNCED, _PROSECUTOR),
    # An administrative suit follows a recommendation that was not complied with; a civil one
    # follows the announcement period.
    Transition(CaseAction.FILE_LITIGATION, CaseStatus.FOLLOW_UP, CaseStatus.LITIGATION, _PROSECUTOR),
    Transition(CaseAction.FILE_LITIGATION, CaseStatus.ANNOUNCED, CaseStatus.LITIGATION, _PROSECUTOR),
    # Closing always says why (the outcome's summary): duty performed after consultation,
    # rectified after the recommendation, judgment or mediation, an organisation sued itself
    # after the announcement, or the case was terminated.
    Transition(CaseAction.CLOSE, CaseStatus.FILED, CaseStatus.CLOSED, _PROSECUTOR, reason_required=True),
    Transition(CaseAction.CLOSE, CaseStatus.CONSULTATION, CaseStatus.CLOSED, _PROSECUTOR, reason_required=True),
    Transition(CaseAction.CLOSE, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED, _PROSECUTOR, reason_required=True),
    Transition(CaseAction.CLOSE, CaseStatus.ANNOUNCED, CaseStatus.CLOSED, _PROSECUTOR, reason_required=True),
    Transition(CaseAction.CLOSE, CaseStatus.LITIGATION, CaseStatus.CLOSED, _PROSECUTOR, reason_required=True),
    # 回头看: a check months after closing finds the harm back or the rectification undone.
    Transition(CaseAction.REOPEN_FOLLOW_UP, CaseStatus.CLOSED, CaseStatus.FOLLOW_UP, _PROSECUTOR,
               reason_required=True),
)

CASE_MACHINE = StateMachine(
    name_zh="案件", name_en="case", states=CaseStatus, actions=CaseAction,
    transitions=CASE_TRANSITIONS, history=CaseStatusChange)

# Kinds with a civil claim: announced for 30 days before suit (法释〔2018〕6号 arts. 13, 20).
CIVIL_CLAIM_KINDS = frozenset({CaseKind.CIVIL, CaseKind.CRIMINAL_INCIDENTAL_CIVIL})

# Which outcome a case may be closed with from which status (and, where it matters, of which
# kind): the closing transition's table says a case may close, this one says how.
OUTCOME_SOURCES: dict[CaseOutcome, dict[CaseStatus, frozenset[CaseKind]]] = {
    # 办案规则 art. 74: the agency has fully performed its duty, before or in consultation.
    CaseOutcome.DUTY_PERFORMED: {CaseStatus.FILED: frozenset({CaseKind.ADMINISTRATIVE}),
                                 CaseStatus.CONSULTATION: frozenset({CaseKind.ADMINISTRATIVE})},
    CaseOutcome.RECTIFIED: {CaseStatus.FOLLOW_UP: frozenset(CaseKind)},
    CaseOutcome.JUDGMENT: {CaseStatus.LITIGATION: frozenset(CaseKind)},
    CaseOutcome.MEDIATION: {CaseStatus.LITIGATION: frozenset(CaseKind)},
    CaseOutcome.SUIT_WITHDRAWN: {CaseStatus.LITIGATION: frozenset(CaseKind)},
    # An organisation that came forward within the announcement sued instead.
    CaseOutcome.SUED_BY_ORGANISATION: {CaseStatus.ANNOUNCED: CIVIL_CLAIM_KINDS},
    CaseOutcome.TERMINATED: {status: frozenset(CaseKind) for status in (
        CaseStatus.FILED, CaseStatus.CONSULTATION, CaseStatus.FOLLOW_UP, CaseStatus.ANNOUNCED)},
}

# Outcomes decided by a court: closing with one records the court's document.
OUTCOMES_FROM_COURT = frozenset({CaseOutcome.JUDGMENT, CaseOutcome.MEDIATION, CaseOutcome.SUIT_WITHDRAWN})

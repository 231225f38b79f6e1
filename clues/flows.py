"""The state machines of clue models and their hits, declared as data on core.state_machine.

A model is created ACTIVE by a prosecutor and retired (with the reason) when its funnel shows it
finds nothing worth the time; revising its conditions is not a status change but a new version
(clues.service). A hit is queued NEW by a run (the run row records that) and a prosecutor of the
jurisdiction dismisses it with the reason, or opens a case from it as the procuratorate's own
clue; a dismissal may be reconsidered."""

from __future__ import annotations

from agencies.models import Role
from clues.models import (
    ClueHitAction,
    ClueHitStatus,
    ClueHitStatusChange,
    ClueModelAction,
    ClueModelStatus,
    ClueModelStatusChange,
)
from core.state_machine import StateMachine, Transition

PROSECUTORS = frozenset({Role.PROSECUTOR})

CLUE_MODEL_MACHINE = StateMachine(
    name_zh="线索模型", name_en="clue model", states=ClueModelStatus, actions=ClueModelAction,
    history=ClueModelStatusChange, transitions=(
        Transition(ClueModelAction.CREATE, None, ClueModelStatus.ACTIVE, PROSECUTORS),
        Transition(ClueModelAction.RETIRE, ClueModelStatus.ACTIVE, ClueModelStatus.RETIRED, PROSECUTORS,
                   reason_required=True),
    ))

CLUE_HIT_MACHINE = StateMachine(
    name_zh="模型线索", name_en="clue hit", states=ClueHitStatus, actions=ClueHitAction,
    history=ClueHitStatusChange, transitions=(
        Transition(ClueHitAction.DISMISS, ClueHitStatus.NEW, ClueHitStatus.DISMISSED, PROSECUTORS,
                   reason_required=True),
        Transition(ClueHitAction.REOPEN, ClueHitStatus.DISMISSED, ClueHitStatus.NEW, PROSECUTORS,
                   reason_required=True),
        Transition(ClueHitAction.OPEN_CASE, ClueHitStatus.NEW, ClueHitStatus.CASE_OPENED, PROSECUTORS),
    ))

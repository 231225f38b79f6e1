"""The recommendation machine as a table, without a database."""

from __future__ import annotations

import pytest

from agencies.models import Role
from agencies.principal import Principal
from core.errors import Forbidden, InvalidTransition
from recommendations.flows import RECOMMENDATION_MACHINE, RecommendationAction, RecommendationStatus

Status, Action = RecommendationStatus, RecommendationAction
PROSECUTOR = Principal(role=Role.PROSECUTOR, username="p")
LIAISON = Principal(role=Role.AGENCY_LIAISON, username="l")
OPEN = {
    (Action.ISSUE, None): (Status.ISSUED, PROSECUTOR),
    (Action.SERVE, Status.ISSUED): (Status.SERVED, PROSECUTOR),
    (Action.REPLY, Status.SERVED): (Status.REPLIED, LIAISON),
    (Action.REPLY, Status.CHECKED): (Status.CHECKED, LIAISON),
    (Action.CHECK, Status.SERVED): (Status.CHECKED, PROSECUTOR),
    (Action.CHECK, Status.REPLIED): (Status.CHECKED, PROSECUTOR),
    (Action.CHECK, Status.CHECKED): (Status.CHECKED, PROSECUTOR),
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("source", [None, *Status])
def test_every_action_from_every_status(action, source):
    if (action, source) in OPEN:
        target, principal = OPEN[action, source]
        assert RECOMMENDATION_MACHINE.transition(action, source, principal).target is target
        other = LIAISON if principal is PROSECUTOR else PROSECUTOR
        with pytest.raises(Forbidden):
            RECOMMENDATION_MACHINE.transition(action, source, other)
    else:
        principal = LIAISON if action is Action.REPLY else PROSECUTOR
        with pytest.raises(InvalidTransition):
            RECOMMENDATION_MACHINE.transition(action, source, principal)


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.ADMIN])
def test_assessors_and_administrators_move_nothing(role):
    for action, source in OPEN:
        with pytest.raises(Forbidden):
            RECOMMENDATION_MACHINE.transition(action, source, Principal(role=role, username="x"))

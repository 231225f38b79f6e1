"""The state-machine engine's checks, table-driven and without a database: every (action, source,
role) of the referral table, and the mistakes a table is refused for at import."""

from __future__ import annotations

import enum
import itertools

import pytest

from agencies.models import Role
from agencies.principal import Principal
from cases.flows import CASE_MACHINE, CaseAction, CaseStatus
from core.errors import Forbidden, InvalidTransition
from core.permissions import require
from core.state_machine import StateMachine, Transition
from referral.flows import REFERRAL_MACHINE, ReferralAction, ReferralStatus
from referral.models import ReferralStatusChange

S, W, R = ReferralStatus.SUBMITTED, ReferralStatus.WITHDRAWN, ReferralStatus.REGISTERED
B, D = ReferralStatus.RETURNED, ReferralStatus.DECLINED  # sent Back, Declined
C = ReferralStatus.CASE_FILED
# Written out by hand, not derived from REFERRAL_TRANSITIONS: the moves that succeed, and who may
# make each action at all. Every other combination is INVALID_TRANSITION for those roles and
# FORBIDDEN for the rest.
ALLOWED = {
    (ReferralAction.SUBMIT, None, Role.AGENCY_LIAISON): S,
    (ReferralAction.WITHDRAW, S, Role.AGENCY_LIAISON): W,
    (ReferralAction.REGISTER, S, Role.PROSECUTOR): R,
    (ReferralAction.RETURN, S, Role.PROSECUTOR): B,
    (ReferralAction.RETURN, R, Role.PROSECUTOR): B,
    (ReferralAction.RESUBMIT, B, Role.AGENCY_LIAISON): S,
    (ReferralAction.WITHDRAW, B, Role.AGENCY_LIAISON): W,
    (ReferralAction.DECLINE, R, Role.PROSECUTOR): D,
    (ReferralAction.FILE_CASE, R, Role.PROSECUTOR): C,
}
NEEDS_A_REASON = {ReferralAction.WITHDRAW, ReferralAction.RETURN, ReferralAction.DECLINE}
ACTORS = {
    ReferralAction.SUBMIT: {Role.AGENCY_LIAISON},
    ReferralAction.WITHDRAW: {Role.AGENCY_LIAISON},
    ReferralAction.REGISTER: {Role.PROSECUTOR},
    ReferralAction.RETURN: {Role.PROSECUTOR},
    ReferralAction.RESUBMIT: {Role.AGENCY_LIAISON},
    ReferralAction.DECLINE: {Role.PROSECUTOR},
    ReferralAction.FILE_CASE: {Role.PROSECUTOR},
}
CASES = list(itertools.product(ReferralAction, [None, *ReferralStatus], Role))


def principal(role: Role) -> Principal:
    return Principal(role=role, username=f"someone-{role.value.lower()}")


@pytest.mark.parametrize("action, source, role", CASES)
def test_every_combination_of_the_referral_table(action, source, role):
    if role not in ACTORS[action]:
        with pytest.raises(Forbidden):
            REFERRAL_MACHINE.transition(action, source, principal(role))
    elif (action, source, role) in ALLOWED:
        transition = REFERRAL_MACHINE.transition(action, source, principal(role))
        assert transition.target is ALLOWED[(action, source, role)]
        assert transition.reason_required is (action in NEEDS_A_REASON)
    else:
        with pytest.raises(InvalidTransition) as refused:
            REFERRAL_MACHINE.transition(action, source, principal(role))
        current = source.value if source else "NEW"
        assert refused.value.extensions == {"status": current, "action": action.value}
        assert f"{action.value!r} is not allowed on a referral in status {current}" in refused.value.message


def test_the_table_covers_every_combination():
    assert len(CASES) == 7 * 7 * 4


def test_actions_keep_the_strings_the_history_has_always_recorded():
    assert [action.value for action in ReferralAction] == ["submit", "withdraw", "register", "return", "resubmit",
                                                           "decline", "file_case"]
    assert REFERRAL_MACHINE.transition("register", S, principal(Role.PROSECUTOR)).action is ReferralAction.REGISTER


def test_an_api_key_acts_with_its_agencys_role():
    key = Principal(role=Role.AGENCY_LIAISON, username="system", api_key_id=object())
    assert REFERRAL_MACHINE.transition(ReferralAction.WITHDRAW, S, key).target is W


def test_history_rows_record_the_actor_and_the_action_value():
    liaison = Principal(role=Role.AGENCY_LIAISON, username="liaison-a", user_id=None, api_key_id=None)

    class Row:
        id = "referral-id"

    transition = REFERRAL_MACHINE.transition(ReferralAction.WITHDRAW, S, liaison)
    row = REFERRAL_MACHINE.history_row(Row(), transition, liaison, S, "误报")
    assert isinstance(row, ReferralStatusChange)
    assert (row.referral_id, row.action, row.from_status, row.to_status, row.actor_name, row.reason) == \
        ("referral-id", "withdraw", S, W, "liaison-a", "误报")


class Light(str, enum.Enum):
    OFF = "OFF"
    ON = "ON"


class Switch(str, enum.Enum):
    FLIP = "flip"
    INSTALL = "install"


def machine(*transitions: Transition) -> StateMachine:
    return StateMachine(name_zh="灯", name_en="light", states=Light, actions=Switch, transitions=transitions,
                        history=_LightHistory)


class _LightHistory:
    status_enum = Light
    subject_key = "light_id"


INSTALL = Transition(Switch.INSTALL, None, Light.OFF, frozenset({Role.ADMIN}))


@pytest.mark.parametrize("transitions, problem", [
    ((INSTALL,), "actions without a transition"),
    ((INSTALL, Transition(Switch.FLIP, Light.OFF, Light.ON, frozenset())), "open to no role"),
    ((INSTALL, Transition(Switch.FLIP, Light.OFF, Light.ON, frozenset({Role.ADMIN})),
      Transition(Switch.FLIP, Light.OFF, Light.OFF, frozenset({Role.ADMIN, Role.PROSECUTOR}))), "two transitions"),
    ((INSTALL, Transition(Switch.FLIP, ReferralStatus.SUBMITTED, Light.ON, frozenset({Role.ADMIN}))),
     "is not a Light"),
    ((INSTALL, Transition(ReferralAction.REGISTER, Light.OFF, Light.ON, frozenset({Role.ADMIN}))),
     "is not a Switch"),
])
def test_a_faulty_table_is_refused_when_declared(transitions, problem):
    with pytest.raises((TypeError, ValueError), match=problem):
        machine(*transitions)


def test_the_history_table_must_record_the_machines_states():
    class WrongHistory:
        status_enum = ReferralStatus
        subject_key = "light_id"

    with pytest.raises(TypeError, match="records ReferralStatus"):
        StateMachine(name_zh="灯", name_en="light", states=Light, actions=Switch, history=WrongHistory,
                     transitions=(INSTALL, Transition(Switch.FLIP, Light.OFF, Light.ON, frozenset({Role.ADMIN}))))


def test_one_action_may_lead_to_different_targets_for_different_roles():
    lights = machine(INSTALL, Transition(Switch.FLIP, Light.OFF, Light.ON, frozenset({Role.ADMIN})),
                     Transition(Switch.FLIP, Light.OFF, Light.OFF, frozenset({Role.PROSECUTOR})))
    assert lights.transition(Switch.FLIP, Light.OFF, principal(Role.ADMIN)).target is Light.ON
    assert lights.transition(Switch.FLIP, Light.OFF, principal(Role.PROSECUTOR)).target is Light.OFF
    with pytest.raises(InvalidTransition):
        lights.transition(Switch.FLIP, Light.ON, principal(Role.PROSECUTOR))
    with pytest.raises(Forbidden):
        lights.transition(Switch.FLIP, Light.OFF, principal(Role.ASSESSOR))


@pytest.mark.parametrize("role, api_key, roles, users_only, allowed", [
    (Role.ADMIN, False, (Role.ADMIN,), False, True),
    (Role.ADMIN, False, (Role.ADMIN, Role.PROSECUTOR), True, True),
    (Role.PROSECUTOR, False, (Role.ADMIN,), False, False),
    (Role.AGENCY_LIAISON, True, (Role.AGENCY_LIAISON,), False, True),
    (Role.AGENCY_LIAISON, True, (Role.AGENCY_LIAISON,), True, False),
    (Role.AGENCY_LIAISON, True, (), True, False),
    (Role.ASSESSOR, False, (), False, True),
])
def test_require(role, api_key, roles, users_only, allowed):
    who = Principal(role=role, username="x", api_key_id=object() if api_key else None)
    if allowed:
        require(who, *roles, users_only=users_only)
    else:
        with pytest.raises(Forbidden):
            require(who, *roles, users_only=users_only)


@pytest.mark.parametrize("role", list(Role))
def test_a_case_is_created_filed_by_prosecutors_only(role):
    if role is Role.PROSECUTOR:
        assert CASE_MACHINE.transition(CaseAction.FILE, None, principal(role)).target is CaseStatus.FILED
    else:
        with pytest.raises(Forbidden):
            CASE_MACHINE.transition(CaseAction.FILE, None, principal(role))
    with pytest.raises(InvalidTransition if role is Role.PROSECUTOR else Forbidden):
        CASE_MACHINE.transition(CaseAction.FILE, CaseStatus.FILED, principal(role))

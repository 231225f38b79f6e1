"""What the case tests share: a case brought to a status by the usual path, who may act on a
case and what everyone else is told."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from agencies.auth import principal_from_bearer
from cases import service as case_service
from cases.flows import CASE_MACHINE, CaseAction
from core import clock, unit_of_work
from core.state_machine import apply_transition
from tests.conftest import error_codes, graphql
from tests.referral.test_return_and_decline import in_status

FILE_CASE = "mutation($referralId: ID!, $input: FileCaseInput!) { fileCase(referralId: $referralId, input: $input) { id } }"
STATE = """query($id: ID!) { case(id: $id) { status outcome history { action fromStatus toStatus actorName reason } } }"""

# Who may act on a case of district 1 filed from agency A's referral, and what the others get:
# NOT_FOUND for whoever cannot see the case at all, FORBIDDEN for whoever sees it in another role.
ACTORS = ("prosecutor-1", "prosecutor-city")
REFUSALS = {"prosecutor-2": "NOT_FOUND", "liaison-b": "NOT_FOUND", "liaison-c": "NOT_FOUND",
            "liaison-a": "FORBIDDEN", "assessor-1": "FORBIDDEN", "admin": "FORBIDDEN"}


async def new_case(client, world, kind: str = "ADMINISTRATIVE", **fields) -> str:
    """A case of district 1 filed from a referral of liaison-a's agency."""
    referral_id = await in_status(client, world, "REGISTERED")
    body = await graphql(client, FILE_CASE, {"referralId": referral_id, "input": {"kind": kind, **fields}},
                         world.tokens["prosecutor-1"])
    assert "errors" not in body, body
    return body["data"]["fileCase"]["id"]


async def case_state(client, world, case_id: str, user: str = "prosecutor-1") -> dict:
    body = await graphql(client, STATE, {"id": case_id}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["case"]


async def refused_to_everyone_else(client, world, query: str, variables: dict, case_id: str) -> None:
    """Every role but the case's prosecutors is refused `query`, with its code, and the case is
    left as it was."""
    before = await case_state(client, world, case_id)
    for user, code in REFUSALS.items():
        body = await graphql(client, query, variables, world.tokens[user])
        assert error_codes(body) == [code], (user, body)
        assert body["data"] is None
    assert await case_state(client, world, case_id) == before


async def move_by_engine(resources, world, case_id: str, *actions: CaseAction, user: str = "prosecutor-1",
                         reason: str | None = None) -> None:
    """Move a case through transitions this package does not expose (the recommendation and its
    follow-up belong to the recommendations package), through the same engine and checks."""
    async with resources.session_factory() as session:
        principal = await principal_from_bearer(session, resources.settings.auth, world.tokens[user])
        case = await case_service.get_case(session, principal=principal, case_id=case_id)
        for action in actions:
            await apply_transition(session, principal=principal, machine=CASE_MACHINE, row=case, action=action,
                                   reason=reason)
        await unit_of_work.commit(session)


@contextmanager
def today_is(monkeypatch, day: date):
    with monkeypatch.context() as patch:
        patch.setattr(clock, "today", lambda: day)
        yield

"""Agencies' webhooks against a real HTTP receiver on the loopback (uvicorn, in the test's event
loop): signed deliveries, a failure retried after its backoff, a hanging endpoint cut off by the
read timeout, the delivery log, and who may do what."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import pytest

from notifications.webhooks import WebhookSettings, deliver_due
from tests.conftest import error_codes, graphql
from tests.notifications.receiver import Receiver, running_receiver
from tests.recommendations.steps import ok
from tests.referral.test_return_and_decline import REGISTER, submitted

REGISTER_HOOK = """mutation($url: String!, $agencyId: ID) { registerWebhook(url: $url, agencyId: $agencyId) {
  secret webhook { id agencyId url createdBy revokedAt } } }"""
HOOKS = "query($agencyId: ID) { webhooks(agencyId: $agencyId) { id url } }"
REVOKE = "mutation($id: ID!) { revokeWebhook(id: $id) { id revokedAt } }"
DELIVERIES = """query($agencyId: ID) { webhookDeliveries(agencyId: $agencyId, first: 50) { totalCount edges { node {
  id webhookId event status attempts lastStatusCode lastError deliveredAt nextAttemptAt payload } } } }"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as state:
        yield state


FAST = WebhookSettings(connect_timeout_seconds=1, read_timeout_seconds=0.5, first_retry_seconds=0.3, max_attempts=3)


async def register(client, world, user: str, url: str, agency: str | None = None) -> dict:
    return await graphql(client, REGISTER_HOOK, {"url": url, "agencyId": agency and world.ids[f"agency:{agency}"]},
                         world.tokens[user])


async def deliveries(client, world, user: str = "liaison-a") -> list[dict]:
    body = ok(await graphql(client, DELIVERIES, {}, world.tokens[user]), "webhookDeliveries")
    return [edge["node"] for edge in body["edges"]]


def signed_by(secret: str, request: dict) -> bool:
    expected = hmac.new(secret.encode(), request["headers"]["x-pil-timestamp"].encode() + b"." + request["body"],
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["x-pil-signature"], f"sha256={expected}")


async def test_a_failed_delivery_is_retried_after_its_backoff_and_signed_each_time(client, world, resources,
                                                                                     receiver):
    registered = ok(await register(client, world, "liaison-a", receiver.base + "/flaky"), "registerWebhook")
    assert registered["secret"].startswith("whsec_")
    assert registered["webhook"]["agencyId"] == world.ids["agency:A"]
    referral_id = await submitted(client, world)
    number = ok(await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"]),
                "registerReferral")["number"]

    assert await deliver_due(resources.session_factory, FAST) == 1
    [failed] = await deliveries(client, world)
    assert (failed["status"], failed["attempts"], failed["lastStatusCode"], failed["lastError"]) == (
        "PENDING", 1, 503, "HTTP 503")
    assert await deliver_due(resources.session_factory, FAST) == 0  # not before its backoff
    await asyncio.sleep(FAST.first_retry_seconds + 0.1)
    assert await deliver_due(resources.session_factory, FAST) == 1
    [delivered] = await deliveries(client, world)
    assert (delivered["status"], delivered["attempts"], delivered["lastStatusCode"]) == ("DELIVERED", 2, 200)
    assert delivered["deliveredAt"] is not None and delivered["nextAttemptAt"] is None

    first, second = receiver.requests
    assert first["headers"]["x-pil-delivery"] == second["headers"]["x-pil-delivery"] == delivered["id"]
    for request in (first, second):
        assert signed_by(registered["secret"], request)
        assert request["headers"]["x-pil-event"] == "REFERRAL_REGISTERED"
        assert not signed_by("whsec_another-secret", request)
    payload = json.loads(second["body"])
    assert payload["event"] == "REFERRAL_REGISTERED" and payload["referral"]["number"] == number
    assert payload == delivered["payload"]
    assert await deliver_due(resources.session_factory, FAST) == 0  # delivered: never again


async def test_a_hanging_endpoint_is_cut_off_and_given_up_after_the_last_attempt(client, world, resources, receiver):
    ok(await register(client, world, "liaison-a", receiver.base + "/hang"), "registerWebhook")
    await submitted(client, world)  # the prosecutors hear of it; the agency's webhook does not
    assert await deliver_due(resources.session_factory, FAST) == 0
    referral_id = await submitted(client, world)
    ok(await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"]), "registerReferral")

    settings = FAST.model_copy(update={"max_attempts": 2, "first_retry_seconds": 0.1})
    started = asyncio.get_running_loop().time()
    assert await deliver_due(resources.session_factory, settings) == 1
    assert asyncio.get_running_loop().time() - started < 3  # the read timeout, not the receiver, ended it
    [pending] = await deliveries(client, world)
    assert pending["status"] == "PENDING" and pending["lastStatusCode"] is None
    assert "ReadTimeout" in pending["lastError"]
    await asyncio.sleep(0.15)
    assert await deliver_due(resources.session_factory, settings) == 1
    [failed] = await deliveries(client, world)
    assert (failed["status"], failed["attempts"], failed["nextAttemptAt"]) == ("FAILED", 2, None)
    assert await deliver_due(resources.session_factory, settings) == 0


async def test_a_revoked_webhook_gets_nothing_more(client, world, resources, receiver):
    hook = ok(await register(client, world, "liaison-a", receiver.base + "/ok"), "registerWebhook")["webhook"]
    referral_id = await submitted(client, world)
    ok(await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"]), "registerReferral")
    assert error_codes(await graphql(client, REVOKE, {"id": hook["id"]}, world.tokens["liaison-b"])) == ["NOT_FOUND"]
    revoked = ok(await graphql(client, REVOKE, {"id": hook["id"]}, world.tokens["liaison-a"]), "revokeWebhook")
    assert revoked["revokedAt"] is not None
    assert await deliver_due(resources.session_factory, FAST) == 0
    [cancelled] = await deliveries(client, world)
    assert (cancelled["status"], cancelled["lastError"]) == ("FAILED", "webhook revoked")
    assert receiver.requests == []


async def test_who_registers_and_reads_webhooks(client, world, receiver):
    url = receiver.base + "/ok"
    assert error_codes(await register(client, world, "liaison-a", url, agency="B")) == ["NOT_FOUND"]
    for user in ("prosecutor-1", "assessor-1"):
        assert error_codes(await register(client, world, user, url, agency="A")) == ["FORBIDDEN"], user
        assert error_codes(await graphql(client, DELIVERIES, {}, world.tokens[user])) == ["FORBIDDEN"], user
    body = await register(client, world, "admin", url)
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "agencyId"
    for bad in ("ftp://example.org/hook", "not a url", "https://"):
        body = await register(client, world, "liaison-a", bad)
        assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "url", bad

    ok(await register(client, world, "admin", url, agency="B"), "registerWebhook")
    ok(await register(client, world, "liaison-a", url), "registerWebhook")
    assert len(ok(await graphql(client, HOOKS, {}, world.tokens["liaison-a"]), "webhooks")) == 1
    assert len(ok(await graphql(client, HOOKS, {}, world.tokens["liaison-b"]), "webhooks")) == 1
    assert ok(await graphql(client, HOOKS, {}, world.tokens["liaison-c"]), "webhooks") == []
    assert len(ok(await graphql(client, HOOKS, {}, world.tokens["admin"]), "webhooks")) == 2
    body = await graphql(client, HOOKS, {"agencyId": world.ids["agency:B"]}, world.tokens["liaison-a"])
    assert error_codes(body) == ["NOT_FOUND"]
    body = await graphql(client, DELIVERIES, {"agencyId": world.ids["agency:B"]}, world.tokens["liaison-a"])
    assert error_codes(body) == ["NOT_FOUND"]

    # B's referral events reach B's webhook only; A's liaison never sees B's deliveries.
    referral_id = await submitted(client, world, user="liaison-b")
    ok(await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"]), "registerReferral")
    assert await deliveries(client, world, "liaison-a") == []
    assert [node["event"] for node in await deliveries(client, world, "liaison-b")] == ["REFERRAL_REGISTERED"]

"""Password guessing is slowed per client address: a guesser locks out only itself, and the
count is shared by every worker process (it lives in the database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text

import agencies.auth
from app.main import create_app
from tests.conftest import LOGIN, PASSWORD, error_codes, graphql

ATTACKER = "203.0.113.7"
USER = "198.51.100.20"


@asynccontextmanager
async def client_from(app, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http_client:
        yield http_client


@asynccontextmanager
async def another_worker(settings) -> AsyncIterator:
    """A second application on the same database, as a second uvicorn worker would be."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def login(client, username: str, password: str) -> dict:
    return await graphql(client, LOGIN, {"username": username, "password": password})


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """The usernames whose password was actually checked (argon2 run), in order."""
    checked: list[str] = []
    real_verify = agencies.auth.verify_password

    async def counting_verify(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return await real_verify(password_hash, password)

    monkeypatch.setattr(agencies.auth, "verify_password", counting_verify)
    return checked


async def test_a_guesser_locks_out_only_itself(app, world, settings, verifications):
    async with client_from(app, ATTACKER) as attacker, client_from(app, USER) as user:
        for _ in range(settings.auth.max_failed_logins):
            assert error_codes(await login(attacker, "liaison-c", "guess-guess-guess")) == ["UNAUTHENTICATED"]
        checked = len(verifications)
        refused = await login(attacker, "liaison-c", PASSWORD)
        assert error_codes(refused) == ["RATE_LIMITED"]
        window = settings.auth.failed_login_window_seconds
        assert 0 < refused["errors"][0]["extensions"]["retryAfterSeconds"] <= window + 1
        assert len(verifications) == checked, "a refused login must not cost a password hash"
        # The real user, from elsewhere, is not affected; nor are the attacker's other usernames.
        assert "token" in (await login(user, "liaison-c", PASSWORD))["data"]["login"]
        assert "token" in (await login(attacker, "liaison-a", PASSWORD))["data"]["login"]


async def test_the_lockout_holds_in_another_worker_process(app, world, settings):
    async with client_from(app, ATTACKER) as attacker:
        for _ in range(settings.auth.max_failed_logins):
            assert error_codes(await login(attacker, "liaison-c", "guess-guess-guess")) == ["UNAUTHENTICATED"]
    async with another_worker(settings) as second, client_from(second, ATTACKER) as attacker_elsewhere:
        assert error_codes(await login(attacker_elsewhere, "liaison-c", PASSWORD)) == ["RATE_LIMITED"]
        async with client_from(second, USER) as user:
            assert "token" in (await login(user, "liaison-c", PASSWORD))["data"]["login"]


async def test_one_source_spraying_many_usernames_is_stopped(world, settings):
    spraying = settings.model_copy(update={"auth": settings.auth.model_copy(
        update={"max_failed_logins_per_source": 3})})
    async with another_worker(spraying) as app, client_from(app, ATTACKER) as attacker:
        for username in ("liaison-a", "liaison-b", "nobody-here"):
            assert error_codes(await login(attacker, username, "summer-2026!")) == ["UNAUTHENTICATED"]
        assert error_codes(await login(attacker, "prosecutor-1", PASSWORD)) == ["RATE_LIMITED"]
        async with client_from(app, USER) as user:
            assert "token" in (await login(user, "prosecutor-1", PASSWORD))["data"]["login"]


async def test_a_success_clears_the_failures_and_old_failures_age_out(app, world, settings, resources):
    limit = settings.auth.max_failed_logins
    async with client_from(app, USER) as user:
        for _ in range(limit - 1):
            assert error_codes(await login(user, "liaison-c", "typo-typo-typo")) == ["UNAUTHENTICATED"]
        assert "token" in (await login(user, "liaison-c", PASSWORD))["data"]["login"]
        for _ in range(limit - 1):  # counted afresh: still one short of the lock
            assert error_codes(await login(user, "liaison-c", "typo-typo-typo")) == ["UNAUTHENTICATED"]
        assert "token" in (await login(user, "liaison-c", PASSWORD))["data"]["login"]

    async with client_from(app, ATTACKER) as attacker:
        for _ in range(limit):
            await login(attacker, "liaison-c", "guess-guess-guess")
        assert error_codes(await login(attacker, "liaison-c", PASSWORD)) == ["RATE_LIMITED"]
        async with resources.session_factory() as session:
            await session.execute(text("UPDATE failed_login SET at = at - make_interval(secs => :s)"),
                                  {"s": settings.auth.failed_login_window_seconds})
            await session.commit()
        assert error_codes(await login(attacker, "liaison-b", "guess-guess-guess")) == ["UNAUTHENTICATED"]
        assert "token" in (await login(attacker, "liaison-c", PASSWORD))["data"]["login"]
    async with resources.session_factory() as session:
        # The expired attempts were swept out when the next one was counted.
        assert (await session.execute(text("SELECT count(*) FROM failed_login"))).scalar_one() == 1


async def test_a_burst_of_guesses_sent_at_once_gets_no_more_than_the_limit(app, world, settings):
    """Counted only after the password check, all twenty would pass the throttle together."""
    async with client_from(app, ATTACKER) as attacker:
        answers = await asyncio.gather(*(login(attacker, "liaison-c", f"guess-{n}-guess") for n in range(20)))
    codes = [error_codes(answer) for answer in answers]
    assert codes.count(["UNAUTHENTICATED"]) == settings.auth.max_failed_logins
    assert codes.count(["RATE_LIMITED"]) == 20 - settings.auth.max_failed_logins

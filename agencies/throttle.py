"""Slows down password guessing without letting a guesser lock the real user out.

Attempts are counted per client address: after `max_failed_logins` wrong passwords from one
address for one username within the window, that address is refused for that username (before any
password is hashed) until the oldest of them ages out; the same user from another address still
signs in. An address is also refused for every username after `max_failed_logins_per_source`
failures over all usernames, against spraying one password over many accounts.

The attempts live in PostgreSQL, so every worker process counts the same ones. Each attempt is
written before its password is checked, as a failure until it succeeds (then its address's
failures for that username are cleared): counted only after the check, twenty guesses sent at once
would all pass the test before the first was counted. Attempts are written on a connection of
their own, committed at once, since the request's own transaction is rolled back precisely when
the login fails."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Integer, Interval, String, bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncEngine

from agencies.models import FailedLogin
from app.settings import AuthSettings
from core.errors import RateLimited

_KEY_LENGTH = 64  # the columns' width; no real username is longer
# The first key of the throttle's advisory locks, apart from any other use of them.
_LOCK_NAMESPACE = 0x706C74  # "plt"

# Refuses, or counts the attempt: one statement over the address's recent attempts (which the
# limits keep to a few dozen rows, found through ix_failed_login_source_at). A lock lifts when the
# max-th most recent attempt leaves the window. It also sweeps out a batch of expired attempts of
# any address, skipping rows another sweep holds, so the table keeps one window's worth.
_CHECK_AND_COUNT = text("""
WITH expired AS (
    DELETE FROM failed_login WHERE id IN (
        SELECT id FROM failed_login WHERE at <= now() - :window LIMIT 100 FOR UPDATE SKIP LOCKED)
), verdict AS (
    SELECT (array_agg(at ORDER BY at DESC) FILTER (WHERE username = :username))[:max_failures] AS by_account,
           (array_agg(at ORDER BY at DESC))[:max_failures_per_source] AS by_source
    FROM failed_login
    WHERE source = :source AND at > now() - :window
), attempt AS (
    INSERT INTO failed_login (source, username)
    SELECT :source, :username FROM verdict WHERE by_account IS NULL AND by_source IS NULL
)
SELECT ceil(extract(epoch FROM greatest(by_account, by_source) + :window - now()))::int FROM verdict
""").bindparams(bindparam("window", type_=Interval), bindparam("source", type_=String),
                bindparam("username", type_=String), bindparam("max_failures", type_=Integer),
                bindparam("max_failures_per_source", type_=Integer))


class LoginThrottle:
    def __init__(self, engine: AsyncEngine, settings: AuthSettings):
        self.engine = engine
        self.max_failures = settings.max_failed_logins
        self.max_failures_per_source = settings.max_failed_logins_per_source
        self.window = timedelta(seconds=settings.failed_login_window_seconds)

    async def count_attempt(self, source: str, username: str) -> None:
        """RateLimited if `source` may not try `username` now; otherwise the attempt is counted
        as a failure until `record_success` clears it. Attempts from one address are taken one
        at a time (a transaction-scoped advisory lock), so a burst cannot slip through together."""
        parameters = {"source": source[:_KEY_LENGTH], "username": username[:_KEY_LENGTH], "window": self.window,
                      "max_failures": self.max_failures, "max_failures_per_source": self.max_failures_per_source}
        async with self.engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:source))"),
                                     {"namespace": _LOCK_NAMESPACE, "source": parameters["source"]})
            retry_after = (await connection.execute(_CHECK_AND_COUNT, parameters)).scalar_one()
        if retry_after is not None:
            retry_after = max(retry_after, 1)
            raise RateLimited(f"登录失败次数过多，请 {retry_after} 秒后再试 / too many failed logins, "
                              f"try again in {retry_after} s", retryAfterSeconds=retry_after)

    async def record_success(self, source: str, username: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(FailedLogin).where(FailedLogin.source == source[:_KEY_LENGTH],
                                                               FailedLogin.username == username[:_KEY_LENGTH]))

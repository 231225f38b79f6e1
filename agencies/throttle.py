"""Slows down password guessing: after a few failed logins for a username, that username is
refused for a while, right password or not.

Kept in process memory: enough for the single app process a district runs; several processes
behind a balancer would each count on their own (then move this to the database or Redis)."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

from app.errors import RateLimited


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, username: str) -> deque[float]:
        failures = self._failures[username]
        horizon = self._clock() - self.window_seconds
        while failures and failures[0] < horizon:
            failures.popleft()
        if not failures:
            del self._failures[username]  # keep the map small: only names being guessed at
            return deque()
        return failures

    def check(self, username: str) -> None:
        failures = self._recent(username)
        if len(failures) >= self.max_failures:
            retry_after = int(failures[0] + self.window_seconds - self._clock()) + 1
            raise RateLimited(f"登录失败次数过多，请 {retry_after} 秒后再试 / too many failed logins, "
                              f"try again in {retry_after} s", retryAfterSeconds=retry_after)

    def record_failure(self, username: str) -> None:
        self._recent(username)
        self._failures[username].append(self._clock())

    def record_success(self, username: str) -> None:
        self._failures.pop(username, None)

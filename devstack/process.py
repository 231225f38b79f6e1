"""What the service classes share: context-manager start/stop and reading their logs."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from devstack.ports import DevstackError


def poll_until(ready: Callable[[], bool], *, timeout: float, failure: Callable[[], str]) -> None:
    """Call `ready` every 0.1 s until it returns True; DevstackError(failure()) after `timeout`."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise DevstackError(failure())
        time.sleep(0.1)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


class ManagedService(ABC):
    """A child-process service: `with Service(...) as service:` starts it and always stops it."""

    @abstractmethod
    def start(self) -> None:
        """Start the process and return once it serves requests."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the process; safe to call when it is not running."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

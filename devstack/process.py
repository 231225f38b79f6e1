"""What the service classes share: context-manager start/stop and reading their logs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Self


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

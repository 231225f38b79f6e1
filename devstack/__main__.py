"""`python -m devstack run` and `python -m devstack services --var DIR`.

run       PostGIS + SeaweedFS with persistent data under ./var, then `python -m app.manage
          prepare` (migrations, bucket, demo data), the janitor, the job worker (`app.manage
          worker`: reminders, webhooks) and uvicorn on 127.0.0.1 with one web worker process per
          CPU (PIL_WEB_WORKERS sets another number).
services  both services on free ports (fast, fsync off), prints `export PIL_...=...` lines and
          waits: for running the app or tools by hand against them.

Ctrl-C or SIGTERM stops the app, then SeaweedFS, then PostGIS, and exits 0. Children run in
their own sessions so the terminal's Ctrl-C reaches only this process, which stops them in
that order (otherwise SeaweedFS would start shutting down while the app still uses it).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from devstack.objectstore import SeaweedS3
from devstack.ports import LOOPBACK, DevstackError, free_port, require_free_port
from devstack.postgis import PostgisCluster, server_can_reach

DEV_DATABASE = "pil"
APP_STOP_TIMEOUT = 15.0
APP_START_TIMEOUT = 120.0


class _Interrupted(Exception):
    """Raised in the main thread by the first SIGINT/SIGTERM."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # Further signals are ignored so a second Ctrl-C cannot break the orderly shutdown;
    # every stop step has its own timeout and kill fallback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted(signal.Signals(signum).name)


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DevstackError(f"{name}={raw!r} is not a port number")
    return int(raw)


def web_workers() -> int:
    """Web worker processes: PIL_WEB_WORKERS, else one per CPU (one process runs Python on one core)."""
    raw = os.environ.get("PIL_WEB_WORKERS", "")
    if not raw:
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise DevstackError(f"PIL_WEB_WORKERS={raw!r} is not a number of processes")
    return int(raw)


def _stack_env(pg: PostgisCluster, s3: SeaweedS3, database: str) -> dict[str, str]:
    return {
        "PIL_ENV": "development",
        "PIL_DB_URL": pg.url(database),
        "PIL_S3_ENDPOINT": s3.endpoint,
        "PIL_S3_SECURE": "false",
        "PIL_S3_ACCESS_KEY": s3.access_key,
        "PIL_S3_SECRET_KEY": s3.secret_key,
    }


def _start_child(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)


def _stop_child(process: subprocess.Popen[bytes] | None) -> None:
    """SIGINT (uvicorn's and Python's graceful path), then SIGKILL after a timeout."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(APP_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_listener(process: subprocess.Popen[bytes], port: int) -> bool:
    """True once the app answers /healthz; False if the process exited first.

    With several workers the supervisor accepts connections before any worker has started the
    app, so an open port is not enough: an answer is.
    """
    deadline = time.monotonic() + APP_START_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/healthz", timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


SHARED_DATA_ROOT = Path("/var/lib/pil-referral")


def dev_database_dir(var: Path) -> Path:
    """`var/postgis`, unless the checkout lies where the postgres OS user cannot enter (a
    checkout under /root, run as root): then a directory of this checkout's own under
    /var/lib/pil-referral, so the run still works and still keeps its data."""
    preferred = var / "postgis"
    if server_can_reach(var):
        return preferred
    digest = hashlib.sha256(str(var).encode()).hexdigest()[:10]
    fallback = SHARED_DATA_ROOT / f"{var.parent.name}-{digest}" / "postgis"
    SHARED_DATA_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    print(f"devstack: the postgres OS user cannot enter {var}; keeping the database in {fallback}")
    return fallback


def run() -> int:
    from app.settings import DEMO_DB_PASSWORD, DEMO_S3_ACCESS_KEY, DEMO_S3_SECRET_KEY

    pg_port = _env_port("PIL_DEV_PG_PORT", 55432)
    s3_port = _env_port("PIL_DEV_S3_PORT", 58333)
    http_port = _env_port("PIL_DEV_HTTP_PORT", 8000)
    workers = web_workers()
    # Checked before anything starts: failing after 5 s of service start-up is annoying.
    require_free_port(http_port, "the web app", "PIL_DEV_HTTP_PORT")
    require_free_port(pg_port, "PostgreSQL", "PIL_DEV_PG_PORT")
    require_free_port(s3_port, "the SeaweedFS S3 endpoint", "PIL_DEV_S3_PORT")

    var = Path("var").absolute()
    pg = PostgisCluster(dev_database_dir(var), pg_port, DEMO_DB_PASSWORD)
    s3 = SeaweedS3(var / "seaweedfs", s3_port, DEMO_S3_ACCESS_KEY, DEMO_S3_SECRET_KEY)
    app: subprocess.Popen[bytes] | None = None
    janitor: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        print(f"devstack: starting PostGIS on {LOOPBACK}:{pg_port} (data in {pg.data_dir})")
        pg.start()
        pg.ensure_database(DEV_DATABASE)
        print(f"devstack: starting SeaweedFS S3 on {s3.endpoint} (data in {s3.data_dir})")
        s3.start()
        env = os.environ | _stack_env(pg, s3, DEV_DATABASE)

        print("devstack: python -m app.manage prepare")
        prepare = _start_child([sys.executable, "-m", "app.manage", "prepare"], env)
        try:
            returncode = prepare.wait()
        finally:
            _stop_child(prepare)
        if returncode != 0:
            print(f"devstack: app.manage prepare failed (exit {returncode})", file=sys.stderr)
            return returncode

        # The janitor: in production a service of its own with store credentials the app lacks;
        # here the one SeaweedFS identity serves both.
        janitor = _start_child([sys.executable, "-m", "app.manage", "sweep", "--every", "300"], env)
        worker = _start_child([sys.executable, "-m", "app.manage", "worker"], env)  # reminders, webhooks
        app = _start_child(
            [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
             "--host", LOOPBACK, "--port", str(http_port), "--workers", str(workers)],
            env,
        )  # fmt: skip
        if _wait_for_listener(app, http_port):
            base = f"http://{LOOPBACK}:{http_port}"
            print(
                "\nPIL referral platform is running; Ctrl-C stops everything.\n"
                f"  portal      {base}/\n"
                f"  GraphQL     {base}/graphql\n"
                f"  health      {base}/healthz   {base}/readyz\n"
                f"  database    postgresql://postgres@{LOOPBACK}:{pg_port}/{DEV_DATABASE}"
                " (password: the demo one in app/settings.py)\n"
                f"  S3          {s3.url}\n",
                flush=True,
            )
        returncode = app.wait()
        print(f"devstack: the app exited on its own (exit {returncode})", file=sys.stderr)
        return returncode
    except _Interrupted as stop:
        print(f"\ndevstack: {stop.args[0]}: stopping app, SeaweedFS, PostGIS", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            _stop_child(app)
            _stop_child(janitor)
            _stop_child(worker)
        finally:
            try:
                s3.stop()
            finally:
                pg.stop()


def services(var: Path) -> int:
    from app.settings import DEMO_DB_PASSWORD, DEMO_S3_ACCESS_KEY, DEMO_S3_SECRET_KEY

    pg = PostgisCluster(var / "postgis", free_port(), DEMO_DB_PASSWORD, fast=True)
    s3 = SeaweedS3(var / "seaweedfs", free_port(), DEMO_S3_ACCESS_KEY, DEMO_S3_SECRET_KEY)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        pg.start()
        pg.ensure_database(DEV_DATABASE)
        s3.start()
        for key, value in _stack_env(pg, s3, DEV_DATABASE).items():
            print(f"export {key}={shlex.quote(value)}")
        print("# services are up; Ctrl-C stops them", flush=True)
        while s3.is_running():
            time.sleep(1)
        print(f"devstack: SeaweedFS died; see {s3.log_file}", file=sys.stderr)
        return 1
    except _Interrupted:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            s3.stop()
        finally:
            pg.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="services + migrations + demo data + the app (./var)")
    services_parser = commands.add_parser("services", help="only the services, on free ports")
    services_parser.add_argument("--var", type=Path, required=True, help="data directory")
    args = parser.parse_args(argv)
    # Our lines must not sit in a buffer while the children's output (same terminal) goes by.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    try:
        if args.command == "run":
            return run()
        return services(args.var)
    except DevstackError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

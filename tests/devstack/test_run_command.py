"""`python -m devstack run` — what the README's run command does — as a newcomer meets it:
services up, migrated, demo data loaded, GraphQL answering; Ctrl-C stops everything; a second
run keeps the data; a taken port is reported clearly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

import devstack
from devstack.ports import free_port

DEMO_LOGIN = ('mutation { login(username: "weidong.prosecutor", password: "demo-password-2026") '
              '{ token } }')


def start_run(cwd, ports: dict[str, int]) -> subprocess.Popen:
    env = os.environ | {f"PIL_DEV_{name}_PORT": str(port) for name, port in ports.items()}
    for key in [key for key in env if key.startswith("PIL_") and not key.startswith("PIL_DEV_")]:
        del env[key]  # the run command must work from its own defaults, not the test stack's
    return subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_ready(process: subprocess.Popen, timeout: float = 120) -> str:
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if line.lstrip().startswith("S3"):  # the last line of the banner
            return "".join(seen)
    process.kill()
    raise AssertionError("devstack run did not come up:\n" + "".join(seen))


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def graphql(port: int, query: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers=headers,
                      timeout=30).json()


def worker_running(pg_port: int, timeout: float = 30) -> bool:
    """A procrastinate worker has registered itself (it does on start, with a heartbeat)."""
    import psycopg

    from app.settings import DEMO_DB_PASSWORD

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(host="127.0.0.1", port=pg_port, dbname="pil", user="postgres",
                             password=DEMO_DB_PASSWORD) as connection:
            if connection.execute("SELECT count(*) FROM procrastinate.procrastinate_workers").fetchone()[0]:
                return True
        time.sleep(0.5)
    return False


def test_run_serves_the_demo_and_stops_cleanly_and_keeps_its_data(tmp_path):
    tmp_path.chmod(0o755)  # PostgreSQL runs as the postgres user when the tests run as root
    ports = {"PG": free_port(), "S3": free_port(), "HTTP": free_port()}
    process = start_run(tmp_path, ports)
    try:
        banner = wait_for_ready(process)
        assert f"http://127.0.0.1:{ports['HTTP']}/graphql" in banner
        assert httpx.get(f"http://127.0.0.1:{ports['HTTP']}/readyz").status_code == 200
        graphiql = httpx.get(f"http://127.0.0.1:{ports['HTTP']}/graphql", headers={"Accept": "text/html"})
        assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()
        token = graphql(ports["HTTP"], DEMO_LOGIN)["data"]["login"]["token"]
        body = graphql(ports["HTTP"], "{ referrals { totalCount edges { node { title areaMu } } } }", token)
        mining = [edge["node"] for edge in body["data"]["referrals"]["edges"] if "页岩" in edge["node"]["title"]]
        assert mining and mining[0]["areaMu"] == pytest.approx(1578, abs=0.5)
        assert worker_running(ports["PG"]), "the job worker did not start beside the app"
    finally:
        if process.poll() is None:
            stop(process)
    assert not any(str(tmp_path) in line for line in
                   subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines())

    again = start_run(tmp_path, ports)
    try:
        banner = wait_for_ready(again)
        assert "demo data already present" in banner
    finally:
        stop(again)


def test_a_taken_port_is_reported_with_the_variable_to_change(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_run(tmp_path, {"PG": port, "S3": free_port(), "HTTP": free_port()})
        output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert str(port) in output and "PIL_DEV_PG_PORT" in output


def test_services_refuse_a_taken_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        store = devstack.SeaweedS3(tmp_path, taken.getsockname()[1], "key", "secret-secret")
        with pytest.raises(devstack.DevstackError, match=str(taken.getsockname()[1])):
            store.start()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the database to the postgres OS user")
def test_a_checkout_the_postgres_user_cannot_enter_gets_a_reachable_database_dir():
    import shutil
    import tempfile
    from pathlib import Path

    from devstack.__main__ import SHARED_DATA_ROOT, dev_database_dir

    private = Path(tempfile.mkdtemp(dir="/var/tmp"))  # mode 0700, like /root
    try:
        chosen = dev_database_dir(private / "checkout" / "var")
        assert chosen.is_relative_to(SHARED_DATA_ROOT)
        private.chmod(0o755)
        assert dev_database_dir(private / "checkout" / "var") == private / "checkout" / "var" / "postgis"
    finally:
        shutil.rmtree(private)

"""Several web worker processes, sized to the CPUs unless PIL_WEB_WORKERS says otherwise: in the
container's entry script (with compose's argument) and in `python -m devstack run`."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

import devstack.__main__ as devstack_main
from devstack.ports import DevstackError
from tests.conftest import ROOT

ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint"


@pytest.fixture
def fake_python(tmp_path):
    """A `python` on PATH that records its arguments instead of running anything."""
    log = tmp_path / "calls"
    script = tmp_path / "python"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    script.chmod(0o755)
    return tmp_path, log


def run_entrypoint(fake_python, *args: str, workers: str | None = None) -> tuple[int, list[str]]:
    directory, log = fake_python
    log.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "PIL_WEB_WORKERS"}
    env["PATH"] = f"{directory}:{env['PATH']}"
    if workers is not None:
        env["PIL_WEB_WORKERS"] = workers
    result = subprocess.run([str(ENTRYPOINT), *args], env=env, capture_output=True, text=True)
    return result.returncode, log.read_text().splitlines() if log.exists() else []


def uvicorn_workers(calls: list[str]) -> str:
    serve = [call for call in calls if "uvicorn" in call]
    assert len(serve) == 1, calls
    return serve[0].split("--workers ", 1)[1].split()[0]


def test_the_entrypoint_starts_one_worker_per_cpu_by_default(fake_python):
    cpus = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    returncode, calls = run_entrypoint(fake_python)
    assert returncode == 0 and calls[0] == "-m app.manage prepare --no-demo"
    assert uvicorn_workers(calls) == cpus
    # What compose passes when the host sets nothing.
    assert uvicorn_workers(run_entrypoint(fake_python, "--workers", "auto")[1]) == cpus


def test_pil_web_workers_sets_the_number(fake_python):
    assert uvicorn_workers(run_entrypoint(fake_python, workers="3")[1]) == "3"
    assert uvicorn_workers(run_entrypoint(fake_python, "--workers", "5")[1]) == "5"


@pytest.mark.parametrize("workers", ["0", "two", "-1"])
def test_a_wrong_number_of_workers_stops_before_anything_runs(fake_python, workers):
    returncode, calls = run_entrypoint(fake_python, workers=workers)
    assert returncode == 2 and calls == []


def test_compose_passes_the_host_setting_or_auto():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["app"]["command"] == ["scripts/docker-entrypoint", "--workers",
                                                     "${PIL_WEB_WORKERS:-auto}", "--trusted-proxies",
                                                     "${PIL_TRUSTED_PROXIES:-127.0.0.1}"]


def test_client_addresses_come_from_the_trusted_proxy_only(fake_python):
    # The login throttle counts by client address: behind the TLS proxy it must be the client's.
    _, calls = run_entrypoint(fake_python)
    assert calls[-1].endswith("--proxy-headers --forwarded-allow-ips 127.0.0.1")
    _, calls = run_entrypoint(fake_python, "--trusted-proxies", "10.0.0.5")
    assert calls[-1].endswith("--forwarded-allow-ips 10.0.0.5")


def test_devstack_runs_one_worker_per_cpu_unless_told(monkeypatch):
    monkeypatch.delenv("PIL_WEB_WORKERS", raising=False)
    assert devstack_main.web_workers() == (os.cpu_count() or 1)
    monkeypatch.setenv("PIL_WEB_WORKERS", "3")
    assert devstack_main.web_workers() == 3
    monkeypatch.setenv("PIL_WEB_WORKERS", "0")
    with pytest.raises(DevstackError, match="PIL_WEB_WORKERS"):
        devstack_main.web_workers()

"""The worker as it runs in production (`python -m app.manage worker`) runs the clue models on its
schedule: each tick records a SCHEDULED run per active model, the first finds the hits, the later
ones nothing new."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text

from tests.clues.helpers import LARGE, create, hits, records
from tests.conftest import ROOT
from tests.worker.test_worker import scalar, wait_for

EVERY_SECOND = {"PIL_WORKER_CLUE_MODELS_CRON": "* * * * * *", "PIL_WORKER_CONCURRENCY": "1",
                "PIL_LOG_LEVEL": "WARNING"}


@pytest.fixture
def worker(settings, tmp_path) -> Iterator[None]:
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen([sys.executable, "-m", "app.manage", "worker"], cwd=ROOT,
                               env=os.environ | EVERY_SECOND, stdout=log, stderr=subprocess.STDOUT)
    yield
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.fixture
async def queue_emptied(resources) -> AsyncIterator[None]:
    """The jobs the worker deferred and did not run (a tick every second) are not left for the
    next test's workers: the queue is not among the tables emptied after each test."""
    yield
    async with resources.session_factory() as session:
        # procrastinate's triggers name its tables without their schema.
        await session.execute(text("SET LOCAL search_path TO procrastinate, public"))
        await session.execute(text("DELETE FROM procrastinate_jobs WHERE status = 'todo'"))
        await session.commit()


async def test_the_worker_runs_the_models_on_its_schedule(client, world, monkeypatch, resources, queue_emptied,
                                                           worker):
    await records(client, world, monkeypatch)
    model = await create(client, world, LARGE)

    async def runs() -> int:
        return await scalar(resources, "SELECT count(*) FROM clue_model_run WHERE model_id = :m AND trigger = "
                                       "'SCHEDULED' AND finished_at IS NOT NULL", m=model["id"])

    async def at_least_two_runs() -> bool:
        return await runs() >= 2

    # A worker takes a while to start on a busy machine.
    await wait_for(at_least_two_runs, timeout=60)
    found = await scalar(resources, "SELECT sum(hits_found) FROM clue_model_run WHERE model_id = :m", m=model["id"])
    assert found == 3
    assert (await hits(client, world))["totalCount"] == 3

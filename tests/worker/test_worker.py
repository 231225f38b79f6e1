"""The worker as it runs in production: `python -m app.manage worker` processes against the test
database, scanning every second. Reminders and escalations are sent exactly once with two
workers racing for them, and when a worker is killed in the middle of a job; webhook deliveries
made by the workers reach a real receiver once each."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from sqlalchemy import text

from tests.conftest import ROOT, graphql
from tests.geo.test_tiles import point, submit
from tests.notifications.receiver import running_receiver
from tests.notifications.steps import messages, recommendation_served_on
from tests.recommendations.steps import ok
from worker.jobs import psycopg_conninfo

FAST_WORKER = {"PIL_WORKER_REMINDERS_CRON": "* * * * * *", "PIL_WORKER_WEBHOOKS_CRON": "* * * * * *",
               "PIL_WORKER_STALLED_JOBS_CRON": "* * * * * *", "PIL_WORKER_STALLED_AFTER_SECONDS": "3",
               "PIL_WORKER_CONCURRENCY": "1", "PIL_LOG_LEVEL": "WARNING"}
ESCALATION = ("DEADLINE_OVERDUE", "DEADLINE_ESCALATED")
# Served on 5 February 2026 (urgent: due 24 February) and 2 March 2026 (due 17 March): long
# overdue today, so each reaches all three steps of its chain at once.
SERVED = (date(2026, 2, 5), date(2026, 3, 2))


@pytest.fixture
def workers(settings, tmp_path) -> Iterator:
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen([sys.executable, "-m", "app.manage", "worker"], cwd=ROOT,
                                   env=os.environ | FAST_WORKER, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def scalar(resources, sql: str, **params):
    async with resources.session_factory() as session:
        return await session.scalar(text(sql), params)


async def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def steps_sent(resources, deadline_id=None) -> int:
    if deadline_id is None:
        return await scalar(resources, "SELECT count(*) FROM notification_sent")
    return await scalar(resources, "SELECT count(*) FROM notification_sent WHERE deadline_id = :d", d=deadline_id)


async def scans_waiting(resources) -> int:
    """Statements waiting for a lock: on the table the test locked, or on a key another
    transaction has inserted and not yet committed."""
    return await scalar(resources, "SELECT count(*) FROM pg_locks WHERE NOT granted")


async def reply_deadline(resources, recommendation_id: str):
    return await scalar(resources, "SELECT id FROM deadline WHERE subject_id = :s", s=recommendation_id)


async def assert_each_step_once(client, world, recommendation_ids: list[str]) -> None:
    expected = Counter({("liaison-b", "DEADLINE_OVERDUE"): len(recommendation_ids),
                        ("prosecutor-1", "DEADLINE_ESCALATED"): len(recommendation_ids),
                        ("assessor-1", "DEADLINE_ESCALATED"): len(recommendation_ids)})
    received = Counter()
    per_deadline = Counter()
    for user in ("liaison-a", "liaison-b", "prosecutor-1", "prosecutor-city", "assessor-1"):
        for node in await messages(client, world, user, *ESCALATION):
            received[(user, node["kind"])] += 1
            per_deadline[(user, node["kind"], node["subjectId"])] += 1
    assert received == expected
    assert set(per_deadline.values()) == {1}


async def test_the_worker_connects_with_the_apps_limits(settings):
    async with await psycopg.AsyncConnection.connect(**psycopg_conninfo(settings.db)) as connection:
        shown = [(await (await connection.execute(f"SHOW {name}")).fetchone())[0]
                 for name in ("statement_timeout", "idle_in_transaction_session_timeout", "search_path")]
    assert shown == [f"{settings.db.statement_timeout_ms}ms".replace("10000ms", "10s"),
                     f"{settings.db.idle_in_transaction_timeout_ms}ms".replace("60000ms", "1min"), "procrastinate"]


async def test_two_workers_racing_send_each_reminder_and_webhook_once(client, world, resources, workers):
    async with running_receiver() as receiver:
        ok(await graphql(client, "mutation($u: String!) { registerWebhook(url: $u) { secret } }",
                         {"u": receiver.base + "/ok"}, world.tokens["liaison-b"]), "registerWebhook")
        recommendations = [await recommendation_served_on(client, world, resources, day) for day in SERVED]
        async with resources.session_factory() as blocker:
            # Hold back every scan at its first reminder until both workers are waiting there.
            await blocker.execute(text("LOCK TABLE notification_sent IN SHARE ROW EXCLUSIVE MODE"))
            workers("first")
            workers("second")
            await wait_for(lambda: _at_least(scans_waiting(resources), 2))
            await blocker.rollback()
        await wait_for(lambda: _at_least(steps_sent(resources), 6))
        await wait_for(lambda: _at_least(scalar(resources, "SELECT count(*) FROM webhook_delivery "
                                                           "WHERE status = 'DELIVERED'"), 4))
        await asyncio.sleep(1.5)  # more scans and delivery rounds: nothing more comes
        assert await steps_sent(resources) == 6
        await assert_each_step_once(client, world, recommendations)
        # Two RECOMMENDATION_RECEIVED and two DEADLINE_OVERDUE events to agency B's webhook.
        delivered = Counter(request["headers"]["x-pil-delivery"] for request in receiver.requests)
        assert len(delivered) == 4 and set(delivered.values()) == {1}
        assert sorted(request["headers"]["x-pil-event"] for request in receiver.requests) == [
            "DEADLINE_OVERDUE", "DEADLINE_OVERDUE", "RECOMMENDATION_RECEIVED", "RECOMMENDATION_RECEIVED"]


async def _at_least(count, minimum: int) -> bool:
    return await count >= minimum


async def test_a_worker_killed_mid_job_leaves_nothing_half_sent(client, world, resources, workers):
    recommendations = [await recommendation_served_on(client, world, resources, day) for day in SERVED]
    first, second = [await reply_deadline(resources, recommendation_id) for recommendation_id in recommendations]
    async with resources.session_factory() as blocker:
        # The second deadline's overdue notice is claimed by a transaction that has not ended: the
        # worker sends the first deadline's steps, then waits on this one, mid-job.
        await blocker.execute(text("INSERT INTO notification_sent (deadline_id, step, sent_at, recipients) "
                                   "VALUES (:d, 'OVERDUE', now(), 0)"), {"d": second})
        doomed = workers("doomed")
        await wait_for(lambda: _at_least(steps_sent(resources, first), 3))
        await wait_for(lambda: _at_least(scans_waiting(resources), 1))
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        await blocker.rollback()
    assert await steps_sent(resources, second) == 0
    workers("survivor")
    await wait_for(lambda: _at_least(steps_sent(resources, second), 3))
    # The dead worker's job is found stalled and run again, sending nothing twice.
    await wait_for(lambda: _none(scalar(resources, "SELECT count(*) FROM procrastinate.procrastinate_jobs "
                                                   "WHERE status = 'doing' AND task_name = 'send_due_reminders'")))
    await asyncio.sleep(1.5)
    assert await steps_sent(resources) == 6
    await assert_each_step_once(client, world, recommendations)


async def _none(count) -> bool:
    return await count == 0


async def test_the_worker_compacts_the_tile_data_nightly(client, world, resources, settings):
    from worker.jobs import WorkerSettings, make_app

    await submit(client, world, "liaison-a", "compacted", point(113.33, 34.52))
    async with resources.engine.connect() as connection:
        logged = await connection.scalar(text("SELECT count(*) FROM tile_change WHERE bbox IS NOT NULL"))
    assert logged > 0
    app = make_app(settings.db, WorkerSettings())
    task = app.tasks["compact_tile_data"]
    assert "compact_tiles" in {periodic.periodic_id for periodic in app.periodic_registry.periodic_tasks.values()}
    await task.func(timestamp=0)
    async with resources.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM tile_change WHERE bbox IS NOT NULL")) == 0
        # what replaced them: one "changed anywhere" row per source, so cached tiles redraw once
        assert await connection.scalar(text("SELECT count(*) FROM tile_change WHERE bbox IS NULL")) > 0

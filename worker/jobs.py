"""The worker's procrastinate app and its periodic tasks.

procrastinate keeps its jobs in the application's database (schema `procrastinate`, created by
migration 0017 from the installed version's schema.sql) and defers each periodic task once per
tick however many workers run (its periodic-defer table has a unique key per task and tick). The
tasks themselves are safe to run twice anyway: reminders are claimed by a unique key
(notifications.reminders), webhook deliveries with SKIP LOCKED and a lease
(notifications.webhooks), and a clue model's hits are unique per model and record
(clues.service.run_scheduled).

Every database call is bounded like the app's (core.db.make_engine, from the same PIL_DB_
settings): procrastinate's own psycopg connections get the same connect timeout, pool wait,
statement timeout and idle-in-transaction timeout."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

import procrastinate
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.settings import DatabaseSettings, EvidenceSettings, StorageSettings
from core import clock
from core.db import make_engine, make_session_factory
from evidence.metadata import read_pending
from evidence.storage import EvidenceStore
from notifications.reminders import send_due_reminders
from notifications.webhooks import WebhookSettings, deliver_due

logger = logging.getLogger(__name__)

QUEUE_SCHEMA = "procrastinate"  # as migration 0017 created it


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIL_WORKER_")

    # cron with an optional sixth field for seconds (croniter's).
    reminders_cron: str = "*/5 * * * *"
    webhooks_cron: str = "* * * * * */10"
    stalled_jobs_cron: str = "* * * * *"
    # Every active clue model, nightly (18:00 UTC is 02:00 in Beijing, after the day's entries).
    clue_models_cron: str = "0 18 * * *"
    # Photos read for their EXIF and preview (evidence.metadata): the pending rows are the queue.
    evidence_metadata_cron: str = "* * * * * */10"
    # The tile change log and the referral grid folded (geo.tiles.compact_tile_data), nightly at 03:00
    # Beijing: both only grow between compactions.
    compact_tiles_cron: str = "0 19 * * *"
    # Jobs run at once by one worker: a slow webhook endpoint does not hold up the reminders.
    concurrency: int = 2
    # A job whose worker sent no heartbeat for this long is taken for dead and retried.
    stalled_after_seconds: float = 60


def psycopg_conninfo(db: DatabaseSettings) -> dict:
    """procrastinate's connection (psycopg 3) to the app's database, with the app's limits."""
    url = make_url(db.url)
    options = (f"-c search_path={QUEUE_SCHEMA} -c statement_timeout={db.statement_timeout_ms} "
               f"-c idle_in_transaction_session_timeout={db.idle_in_transaction_timeout_ms}")
    return {"host": url.host, "port": url.port or 5432, "dbname": url.database, "user": url.username,
            "password": url.password, "connect_timeout": max(1, round(db.connect_timeout_seconds)),
            # psycopg has no client-side statement timeout (asyncpg's command_timeout): the kernel
            # gives up on a peer that stops acknowledging within it, and keepalives find a silent
            # drop of the (long idle) LISTEN connection.
            "tcp_user_timeout": round(db.command_timeout_seconds * 1000), "keepalives": 1,
            "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3, "options": options}


def make_connector(db: DatabaseSettings) -> procrastinate.PsycopgConnector:
    return procrastinate.PsycopgConnector(kwargs=psycopg_conninfo(db), timeout=db.pool_timeout_seconds,
                                          min_size=1, max_size=4)


@dataclass
class Resources:
    session_factory: async_sessionmaker[AsyncSession]
    webhooks: WebhookSettings
    store: EvidenceStore
    evidence: EvidenceSettings


def make_app(db: DatabaseSettings, settings: WorkerSettings) -> procrastinate.App:
    app = procrastinate.App(connector=make_connector(db))

    @app.periodic(cron=settings.reminders_cron, periodic_id="reminders")
    @app.task(name="send_due_reminders", pass_context=True)
    async def reminders(context: procrastinate.JobContext, timestamp: int) -> None:
        resources: Resources = context.additional_context["resources"]
        await send_due_reminders(resources.session_factory, clock.today())

    @app.periodic(cron=settings.webhooks_cron, periodic_id="webhooks")
    @app.task(name="deliver_webhooks", pass_context=True)
    async def webhooks(context: procrastinate.JobContext, timestamp: int) -> None:
        resources: Resources = context.additional_context["resources"]
        await deliver_due(resources.session_factory, resources.webhooks)

    @app.periodic(cron=settings.clue_models_cron, periodic_id="clue_models")
    @app.task(name="run_clue_models", pass_context=True)
    async def clue_models(context: procrastinate.JobContext, timestamp: int) -> None:
        # Imported here: the clue models reach much of the domain (cases, enforcement, geo), and a
        # worker's start (and the reminders it owes) should not wait for those imports.
        from clues.service import run_scheduled

        resources: Resources = context.additional_context["resources"]
        await run_scheduled(resources.session_factory, clock.today())
    @app.periodic(cron=settings.evidence_metadata_cron, periodic_id="evidence_metadata")
    @app.task(name="read_evidence_metadata", pass_context=True)
    async def evidence_metadata(context: procrastinate.JobContext, timestamp: int) -> None:
        resources: Resources = context.additional_context["resources"]
        report = await read_pending(resources.session_factory, store=resources.store, settings=resources.evidence,
                                    limit=resources.evidence.metadata_batch)
        if report.done or report.failed:
            logger.info("worker: read the metadata of %d evidence files (%d failed)",
                        len(report.done) + len(report.failed), len(report.failed))

    @app.periodic(cron=settings.compact_tiles_cron, periodic_id="compact_tiles")
    @app.task(name="compact_tile_data")
    async def compact_tiles(timestamp: int) -> None:
        from geo.tiles import compact_tile_data  # imported when due, like the clue models: a quick start

        done = await compact_tile_data(db)
        logger.info("worker: tile change log compacted (%d rows); referral grid %d → %d rows",
                    done.change_rows_removed, done.grid_rows_before, done.grid_rows_after)

    @app.periodic(cron=settings.stalled_jobs_cron, periodic_id="stalled")
    @app.task(name="retry_stalled_jobs", pass_context=True)
    async def stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        # A worker killed mid-job leaves its job "doing"; run it again (the tasks are idempotent).
        for job in await context.app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=settings.stalled_after_seconds):
            logger.warning("worker: retrying job %s of a worker that stopped answering", job.id)
            await context.app.job_manager.retry_job(job)

    return app


async def run_worker(db: DatabaseSettings, storage: StorageSettings, evidence: EvidenceSettings) -> None:
    """Run a worker until SIGINT or SIGTERM (procrastinate finishes the jobs in hand first)."""
    settings = WorkerSettings()
    engine = make_engine(db)
    app = make_app(db, settings)
    store = EvidenceStore(storage)
    resources = Resources(session_factory=make_session_factory(engine), webhooks=WebhookSettings(), store=store,
                          evidence=evidence)
    try:
        async with app.open_async():
            await app.run_worker_async(concurrency=settings.concurrency, name=f"{socket.gethostname()}-{os.getpid()}",
                                       additional_context={"resources": resources}, delete_jobs="successful")
    finally:
        store.close()
        await engine.dispose()

"""Operator commands: `python -m app.manage prepare|migrate|ensure-bucket|load-demo|create-admin|import-layer|load-calendar|load-rubric|worker|verify-custody|evidence-metadata|backfill-geography|compact-tile-data|bundle-public-key`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.settings import Settings, get_settings
from core import unit_of_work
from core.db import make_engine, make_session_factory
from evidence.storage import EvidenceStore

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("app.manage")


def migrate(settings: Settings, revision: str = "head") -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = settings.db.url
    config.attributes["configure_logger"] = False  # keep this command's logging as it is
    command.upgrade(config, revision)


async def ensure_bucket(settings: Settings) -> None:
    store = EvidenceStore(settings.storage)
    try:
        await store.ensure_bucket()
    finally:
        store.close()


async def load_demo(settings: Settings) -> bool:
    from app.demo import load_demo as load
    from parties.protection import protection_for

    engine = make_engine(settings.db)
    store = EvidenceStore(settings.storage)
    try:
        async with make_session_factory(engine)() as session:
            try:
                loaded = await load(session, store, protection_for(settings.protection))
                await unit_of_work.commit(session)
            except BaseException:
                await unit_of_work.rollback(session)
                raise
        return loaded
    finally:
        store.close()
        await engine.dispose()


async def create_admin(settings: Settings, username: str, password: str) -> None:
    from agencies import service
    from agencies.models import Role
    from agencies.principal import Principal

    engine = make_engine(settings.db)
    try:
        async with make_session_factory(engine)() as session:
            await service.create_user(session, principal=Principal(role=Role.ADMIN, username="manage"),
                                      data=service.NewUser(username=username, display_name=username,
                                                           password=password, role=Role.ADMIN))
            await unit_of_work.commit(session)
    finally:
        await engine.dispose()


async def import_layer(settings: Settings, data, path: Path) -> int:
    from agencies.models import Role
    from agencies.principal import Principal
    from geo.reference import import_layer as run_import

    engine = make_engine(settings.db)
    try:
        async with make_session_factory(engine)() as session:
            try:
                imported = await run_import(session, principal=Principal(role=Role.ADMIN, username="manage"),
                                            data=data, document=path.read_bytes())
                await unit_of_work.commit(session)
            except BaseException:
                await unit_of_work.rollback(session)
                raise
        return imported.feature_count
    finally:
        await engine.dispose()


async def with_store(settings: Settings, work):
    """Run `work(session, store)` against the configured database and object store."""
    engine = make_engine(settings.db)
    store = EvidenceStore(settings.storage)
    try:
        async with make_session_factory(engine)() as session:
            return await work(session, store)
    finally:
        store.close()
        await engine.dispose()


def run_janitor(settings: Settings, grace: timedelta, every_seconds: int, integrity_batch: int = 100) -> int:
    from evidence.service import sweep

    async def once(session, store) -> int:
        report = await sweep(session, store=store, grace=grace, integrity_batch=integrity_batch)
        integrity = report.integrity
        logger.info("janitor: removed %d abandoned objects, aborted %d multipart uploads, held %d versions, "
                    "re-hashed %d evidence objects", len(report.removed), len(report.aborted), len(report.held),
                    len(integrity.checked))
        if report.retained:
            logger.warning("janitor: %d objects of abandoned uploads are under COMPLIANCE retention and stay until "
                           "it ends: %s", len(report.retained), ", ".join(report.retained))
        missing = sorted(set(report.missing) | set(integrity.missing))
        if missing:
            logger.error("janitor: %d evidence objects are missing from the store: %s", len(missing),
                         ", ".join(missing))
        if integrity.altered:
            logger.error("janitor: %d evidence objects no longer match their recorded SHA-256: %s",
                         len(integrity.altered), ", ".join(integrity.altered))
        if integrity.superseded:
            logger.warning("janitor: a newer version was written over %d evidence keys (the evidence versions "
                           "are intact): %s", len(integrity.superseded), ", ".join(integrity.superseded))
        return 1 if missing or integrity.altered else 0

    if not every_seconds:
        return asyncio.run(with_store(settings, once))
    try:
        while True:  # a service of its own in compose, a child of `devstack run` locally
            try:
                asyncio.run(with_store(settings, once))
            except Exception:  # a store or database that is down now may be back next round
                logger.exception("janitor: this round failed")
            time.sleep(every_seconds)
    except KeyboardInterrupt:  # Ctrl-C / SIGINT from devstack: a normal stop
        return 0


def run_import_layer(settings: Settings, args: argparse.Namespace) -> int:
    from agencies.models import AgencyKind
    from core.errors import AppError
    from geo.models import ReferenceLayerKind
    from geo.reference import LayerImport, coordinate_system

    try:
        data = LayerImport(code=args.code, name=args.name, kind=ReferenceLayerKind(args.kind),
                           responsible_agency_kind=args.responsible_agency_kind and AgencyKind(
                               args.responsible_agency_kind),
                           crs=coordinate_system(args.crs) if args.crs else None, name_property=args.name_property)
        count = asyncio.run(import_layer(settings, data, args.file))
    except AppError as error:  # the operator sees what is wrong and where, as an API client would
        logger.error("layer %s not imported: %s%s", args.code, error.message,
                     f" ({error.field})" if error.field else "")
        return 1
    except OSError as error:
        logger.error("layer %s not imported: %s", args.code, error)
        return 1
    logger.info("layer %s imported with %d features", args.code, count)
    return 0


async def load_calendar(settings: Settings, years: list[int] | None) -> int:
    """Copy years of the working calendar from chinese-calendar (see deadlines.schedule)."""
    from agencies.models import Role
    from agencies.principal import Principal
    from deadlines.schedule import load_from_package

    engine = make_engine(settings.db)
    try:
        async with make_session_factory(engine)() as session:
            results = await load_from_package(session, principal=Principal(role=Role.ADMIN, username="manage"),
                                              years=years)
            await unit_of_work.commit(session)
    finally:
        await engine.dispose()
    for year, result in results.items():
        if result is None:
            logger.error("calendar: chinese-calendar has no schedule for %d (set it with setCalendarDays)", year)
        else:
            logger.info("calendar: %d %s (%s), %d open deadlines changed", year,
                        "loaded" if result.changed else "unchanged", result.year.version, result.changed_deadlines)
    return 1 if None in results.values() else 0


async def backfill_geography(settings: Settings, batch: int, everything: bool) -> int:
    """Placement and overlaps for the referrals that lack them (or all), one transaction per batch."""
    from geo.backfill import BackfillReport, backfill_batch

    engine = make_engine(settings.db)
    report, after = BackfillReport(), None
    try:
        while True:
            async with make_session_factory(engine)() as session:
                after = await backfill_batch(session, after=after, size=batch, everything=everything, report=report)
                await unit_of_work.commit(session)
            if after is None:
                break
            logger.info("backfill-geography: %d referrals done", report.referrals)
    finally:
        await engine.dispose()
    logger.info("backfill-geography: %d referrals, %d placed, %d overlaps", report.referrals, report.placed,
                report.overlaps)
    if report.held_elsewhere:
        logger.warning("backfill-geography: %d referrals lie mostly in another district than the one holding them "
                       "(left where they are): %s", len(report.held_elsewhere),
                       ", ".join(map(str, report.held_elsewhere)))
    if report.in_no_district:
        logger.warning("backfill-geography: %d referrals lie in no district on the platform (no placement): %s",
                       len(report.in_no_district), ", ".join(map(str, report.in_no_district)))
    return 0


async def compact_tile_data(settings: Settings) -> None:
    from geo.tiles import compact_tile_data as compact

    done = await compact(settings.db)
    logger.info("compact-tile-data: %d change log rows removed (cached tiles redraw once); referral grid folded "
                "from %d rows to %d", done.change_rows_removed, done.grid_rows_before, done.grid_rows_after)


async def load_rubric(settings: Settings, path: Path | None, only_if_none: bool = False) -> int:
    """Load the assessment rubric file as a version (assessment.service.load_rubric_file)."""
    from agencies.models import Role
    from agencies.principal import Principal
    from assessment.rubric import RUBRIC_FILE
    from assessment.service import load_rubric_file
    from core.errors import AppError

    engine = make_engine(settings.db)
    try:
        async with make_session_factory(engine)() as session:
            try:
                row, added = await load_rubric_file(session, principal=Principal(role=Role.ADMIN, username="manage"),
                                                    path=path or RUBRIC_FILE, only_if_none=only_if_none)
            except AppError as error:
                logger.error("rubric not loaded: %s%s", error.message, f" ({error.field})" if error.field else "")
                return 1
            except (OSError, ValueError) as error:  # no such file, or not TOML
                logger.error("rubric not loaded: %s", error)
                return 1
            await unit_of_work.commit(session)
    finally:
        await engine.dispose()
    if row is None:
        logger.info("rubric: a version is loaded already")
    else:
        logger.info("rubric: version %s %s", row.version, "loaded" if added else "already loaded")
    return 0


def verify_custody(settings: Settings, with_objects: bool) -> int:
    from evidence.custody import verify_log

    result = asyncio.run(with_store(settings, lambda session, store: verify_log(
        session, store=store if with_objects else None)))
    if result.problem:
        logger.error("custody log BROKEN after %d sound entries: %s", result.entries, result.problem)
        return 1
    logger.info("custody log intact: %d entries chained, %d evidence rows match their upload entries%s",
                result.entries, result.evidence_checked,
                f", {result.objects_checked} stored objects re-hashed" if with_objects else "")
    return 0


def evidence_metadata(settings: Settings, again: str | None) -> int:
    from evidence.metadata import mark_for_rereading, read_pending

    async def run(session, store) -> int:
        if again:
            marked = await mark_for_rereading(session, failed_only=again == "failed")
            logger.info("evidence metadata: %d files put back in the queue", marked)
        report = await read_pending(make_session_factory(session.bind), store=store, settings=settings.evidence)
        logger.info("evidence metadata: %d files read, %d could not be (see the warnings above)",
                    len(report.done), len(report.failed))
        return 1 if report.failed else 0

    return asyncio.run(with_store(settings, run))


def bundle_public_key(settings: Settings) -> None:
    from evidence.bundle import public_key_text, signing_key

    print(public_key_text(signing_key(settings.bundle.signing_key)))


def export_schema(path: Path = ROOT / "schema.graphql") -> None:
    from app.graphql import schema_sdl

    path.write_text(schema_sdl(), encoding="utf-8")


STORE_AND_DATABASE_COMMANDS = frozenset({"migrate", "ensure-bucket", "sweep", "sweep-orphans", "hold-evidence",
                                         "import-layer", "load-calendar", "load-rubric", "verify-custody",
                                         "backfill-geography", "compact-tile-data",
                                         "evidence-metadata"})


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m app.manage")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="migrate, create the bucket, load demo data")
    prepare.add_argument("--no-demo", action="store_true")
    commands.add_parser("migrate")
    commands.add_parser("ensure-bucket")
    commands.add_parser("load-demo")
    commands.add_parser("export-schema", help="write schema.graphql from the code")
    janitor = commands.add_parser(
        "sweep", help="the janitor: remove objects of abandoned uploads, abort stale multipart uploads, "
                      "finish missing legal holds (needs store credentials that may delete)")
    janitor.add_argument("--grace-minutes", type=int, default=60,
                         help="leave pending uploads and multipart uploads younger than this alone")
    janitor.add_argument("--every", type=int, default=0, metavar="SECONDS",
                         help="run again every SECONDS until stopped (0: once)")
    janitor.add_argument("--integrity-batch", type=int, default=100, metavar="ROWS",
                         help="re-hash this many evidence objects per run, least recently checked first")
    verify = commands.add_parser(
        "verify-custody", help="check the whole custody hash chain and every evidence row against its upload "
                               "entry; name the first broken link (exit 1)")
    verify.add_argument("--objects", action="store_true", help="also re-hash every stored evidence object")
    metadata = commands.add_parser(
        "evidence-metadata", help="read what evidence files still lacking it know (a photo's EXIF position and "
                                  "time, its preview, the distance to the referral): what the worker does")
    metadata.add_argument("--again", choices=["failed", "all"],
                          help="first put back in the queue the files that failed, or all read ones")
    commands.add_parser("bundle-public-key", help="print the public key that verifies evidence bundles")
    orphans = commands.add_parser("sweep-orphans", help="remove stored objects that no evidence row or "
                                                        "pending upload accounts for (reads every key)")
    orphans.add_argument("--older-than-minutes", type=int, default=60)
    commands.add_parser("hold-evidence", help="(re)apply the legal hold to every evidence object")
    calendar = commands.add_parser(
        "load-calendar", help="copy working-calendar years from chinese-calendar: the years given (replacing "
                              "them, and recomputing the open deadlines they affect), else those the table lacks")
    calendar.add_argument("--year", type=int, action="append", dest="years", metavar="YEAR")
    rubric = commands.add_parser("load-rubric", help="load the assessment rubric (assessment/rubric.toml, or the "
                                                     "file given) as a new version; the same version twice changes "
                                                     "nothing")
    rubric.add_argument("file", type=Path, nargs="?")
    commands.add_parser("worker", help="the job worker: deadline reminders and escalation, webhook deliveries "
                                       "(procrastinate; run as many as you like)")
    admin = commands.add_parser("create-admin", help="the first administrator of a new installation")
    admin.add_argument("--username", required=True)
    from agencies.models import AgencyKind
    from geo.models import ReferenceLayerKind

    layer = commands.add_parser("import-layer", help="import (or replace) a reference layer from GeoJSON, a zipped "
                                                           "Shapefile or KML/KMZ")
    layer.add_argument("--code", required=True, help="stable code of the layer, e.g. 410403-farmland")
    layer.add_argument("--name", required=True)
    layer.add_argument("--kind", required=True, choices=[kind.value for kind in ReferenceLayerKind])
    layer.add_argument("--responsible-agency-kind", choices=[kind.value for kind in AgencyKind])
    layer.add_argument("--crs", help="WGS84, CGCS2000 (EPSG:4490), GCJ02 or BD09; default: what the file "
                                     "says (a Shapefile's .prj, projected ones included), else WGS84")
    layer.add_argument("--name-property", default="name", help="the feature property holding its name")
    layer.add_argument("file", type=Path)
    commands.add_parser("compact-tile-data", help="fold the tile change log and the referral grid's rows together "
                                                  "(run now and then, e.g. nightly; cached tiles redraw once)")
    backfill = commands.add_parser(
        "backfill-geography", help="compute the placement among the districts and the overlaps with the reference "
                                   "layers of referrals that predate them, in batches (existing referrals stay "
                                   "with the procuratorate holding them)")
    backfill.add_argument("--batch", type=int, default=500, metavar="REFERRALS", help="referrals per transaction")
    backfill.add_argument("--all", action="store_true", dest="everything",
                          help="recompute every referral's, e.g. after boundaries or layers changed outside the app")
    args = parser.parse_args(argv)
    if args.command == "export-schema":
        export_schema()
        return 0
    settings = get_settings()
    if args.command == "worker":  # the database and the store (photos' metadata): no token or data key
        settings.check_production(serving=False)  # the database password and the store user's keys
        from worker.jobs import run_worker

        asyncio.run(run_worker(settings.db, settings.storage, settings.evidence))
        return 0
    # The store-and-database commands (the janitor's among them) run without the app's token and
    # data keys, which they have no use for.
    settings.check_production(serving=args.command not in STORE_AND_DATABASE_COMMANDS)

    if args.command in ("prepare", "migrate"):
        migrate(settings)
    if args.command == "prepare":  # a newer chinese-calendar may have brought a year the table lacks
        asyncio.run(load_calendar(settings, None))
    if args.command == "load-calendar":
        return asyncio.run(load_calendar(settings, args.years))
    if args.command == "prepare":  # a new installation gets the default rubric; an existing one keeps its own
        asyncio.run(load_rubric(settings, None, only_if_none=True))
    if args.command == "load-rubric":
        return asyncio.run(load_rubric(settings, args.file))
    if args.command in ("prepare", "ensure-bucket"):
        asyncio.run(ensure_bucket(settings))
    wants_demo = args.command == "load-demo" or (args.command == "prepare" and not args.no_demo)
    if wants_demo:
        if settings.is_production:
            logger.error("demo data is never loaded in production")
            return 2
        loaded = asyncio.run(load_demo(settings))
        logger.info("demo data %s", "loaded" if loaded else "already present")
    if args.command == "sweep":
        return run_janitor(settings, timedelta(minutes=args.grace_minutes), args.every, args.integrity_batch)
    if args.command == "verify-custody":
        return verify_custody(settings, args.objects)
    if args.command == "evidence-metadata":
        return evidence_metadata(settings, args.again)
    if args.command == "bundle-public-key":
        bundle_public_key(settings)
    if args.command == "sweep-orphans":
        from evidence.service import sweep_orphans

        older_than = timedelta(minutes=args.older_than_minutes)
        removed = asyncio.run(with_store(settings, lambda session, store: sweep_orphans(
            session, store=store, older_than=older_than)))
        logger.info("removed %d orphaned object versions%s", len(removed),
                    (": " + ", ".join(removed)) if removed else "")
    if args.command == "hold-evidence":
        from evidence.service import hold_evidence

        held, missing = asyncio.run(with_store(settings, lambda session, store: hold_evidence(session, store=store)))
        logger.info("legal hold set on %d evidence objects", len(held))
        if missing:
            logger.error("%d evidence objects are missing from the store: %s", len(missing), ", ".join(missing))
            return 1
    if args.command == "import-layer":
        return run_import_layer(settings, args)
    if args.command == "compact-tile-data":
        asyncio.run(compact_tile_data(settings))
    if args.command == "backfill-geography":
        return asyncio.run(backfill_geography(settings, args.batch, args.everything))
    if args.command == "create-admin":
        password = os.environ.get("PIL_ADMIN_PASSWORD") or getpass.getpass("password: ")
        asyncio.run(create_admin(settings, args.username, password))
        logger.info("administrator %s created", args.username)
    return 0


if __name__ == "__main__":
    sys.exit(main())

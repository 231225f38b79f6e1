"""The issue-9 evidence benchmark: `.venv/bin/python -m bench.evidence` (`--help` for the knobs).

Starts its own PostGIS and SeaweedFS (devstack), migrates, builds the bench world through the API,
starts our app (one uvicorn process), then in one run:

- a 1 GiB file sent through the presigned path (requestEvidenceUpload, parts PUT straight to the
  store by httpx, confirmEvidenceUpload): the server's RSS is sampled every 50 ms while the parts
  go up (the server sees none of the bytes) and while confirm streams the object back to check its
  size and SHA-256; the raw baselines in the same run are the minio SDK's own put of the file and
  its own read-back and hash of the stored object;
- verify-custody (evidence.custody.verify_log) over 1,000,000 custody entries generated in SQL
  (through the chaining trigger, as the app writes them), against the raw cost of reading the same
  rows with asyncpg.

Results go to stdout and are appended to bench/RESULTS.md (`--no-write` to leave it alone)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

from bench import report, world
from bench.__main__ import Results, _server_version, app_env, log, manage, run_benchmark
from bench.servers import Server, Servers

MiB = 1024 * 1024
STEP_TIMEOUT = 1800.0
REQUEST = """mutation($input: RequestEvidenceUploadInput!) { requestEvidenceUpload(input: $input) {
  id partSizeBytes partCount partUrls { number url } } }"""
CONFIRM = "mutation($id: ID!) { confirmEvidenceUpload(id: $id) { id sizeBytes sha256 } }"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--upload-mib", type=int, default=1024, help="size of the presigned upload")
    parser.add_argument("--custody-entries", type=int, default=1_000_000)
    parser.add_argument("--evidence-items", type=int, default=10_000, help="items the entries are spread over")
    parser.add_argument("--app-env", default="production", choices=("production", "test", "development"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    return parser.parse_args(argv)


def write_video(path: Path, size: int) -> str:
    """An MP4 (its ftyp box, then random bytes) of `size` bytes; returns its SHA-256."""
    ftyp = b"ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    header = (len(ftyp) + 4).to_bytes(4, "big") + ftyp
    digest = hashlib.sha256(header)
    with path.open("wb") as out:
        out.write(header)
        left = size - len(header)
        while left > 0:
            chunk = os.urandom(min(left, 16 * MiB))
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


class RssSampler:
    """Peak resident memory of the server (all its processes) while a block runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: list[int] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.samples.append(self.server.rss_bytes())
            time.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self.before = max(self.server.rss_bytes() for _ in range(3))
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (max(self.samples, default=self.before) - self.before) / MiB


async def graphql(client: httpx.AsyncClient, query: str, variables: dict, token: str) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise world.BenchError(f"{query.split('(')[0]} failed: {response.text[:800]}")
    return body["data"]


async def put_parts(upload: dict, path: Path) -> None:
    """The client's side: each part read from the file and PUT to its presigned URL, two at a time."""
    size = int(upload["partSizeBytes"])
    semaphore = asyncio.Semaphore(2)

    async with httpx.AsyncClient(timeout=300) as store:
        async def put(part: dict) -> None:
            async with semaphore:
                with path.open("rb") as source:
                    source.seek((part["number"] - 1) * size)
                    data = source.read(size)
                response = await store.put(part["url"], content=data)
                if response.status_code != 200:
                    raise world.BenchError(f"part {part['number']}: {response.status_code} {response.text[:300]}")

        await asyncio.gather(*(put(part) for part in upload["partUrls"]))


async def bench_presigned(args, results: Results, ours: Server, w: world.World, stack, work_dir: Path) -> None:
    from minio import Minio

    size = args.upload_mib * MiB
    path = work_dir / "drone.mp4"
    log(f"writing a {args.upload_mib} MiB video")
    sha256 = write_video(path, size)
    sdk = Minio(stack.env["PIL_S3_ENDPOINT"], access_key=stack.env["PIL_S3_ACCESS_KEY"],
                secret_key=stack.env["PIL_S3_SECRET_KEY"], secure=False)
    bucket, key = stack.env["PIL_S3_BUCKET"], f"bench-sdk/{secrets.token_hex(8)}.mp4"
    started = time.perf_counter()
    await asyncio.to_thread(sdk.fput_object, bucket, key, str(path), content_type="video/mp4")
    sdk_put = time.perf_counter() - started

    def sdk_read_back() -> str:
        digest = hashlib.sha256()
        response = sdk.get_object(bucket, key)
        try:
            for chunk in response.stream(1024 * 1024):
                digest.update(chunk)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    started = time.perf_counter()
    assert await asyncio.to_thread(sdk_read_back) == sha256
    sdk_read = time.perf_counter() - started
    log(f"minio SDK: put {size / MiB / sdk_put:.0f} MiB/s, read back and hash {size / MiB / sdk_read:.0f} MiB/s")

    agency_id = w.districts[0].agency_ids[0]
    token = w.liaison_tokens[agency_id]
    async with httpx.AsyncClient(base_url=ours.url, timeout=STEP_TIMEOUT) as client:
        submission = world.point_submission(w.domain, w.districts[0].centre, f"presigned-{secrets.token_hex(6)}")
        referral = (await graphql(client, world.SUBMIT, {"input": submission}, token))["submitReferral"]
        upload_input = {"owner": referral["id"], "filename": "drone.mp4", "sizeBytes": size, "sha256": sha256,
                        "kind": "VIDEO"}
        upload = (await graphql(client, REQUEST, {"input": upload_input}, token))["requestEvidenceUpload"]
        with RssSampler(ours) as parts_rss:
            started = time.perf_counter()
            await put_parts(upload, path)
            parts_time = time.perf_counter() - started
        with RssSampler(ours) as confirm_rss:
            started = time.perf_counter()
            evidence = (await graphql(client, CONFIRM, {"id": upload["id"]}, token))["confirmEvidenceUpload"]
            confirm_time = time.perf_counter() - started
    ok = evidence["sha256"] == sha256 and int(evidence["sizeBytes"]) == size
    rate = size / MiB
    results.rows += [
        [f"presigned {args.upload_mib} MiB", "minio SDK fput_object (baseline)", f"{rate / sdk_put:.0f} MiB/s", "", ""],
        [f"presigned {args.upload_mib} MiB", f"parts PUT to presigned URLs ({upload['partCount']} parts, 2 at a time)",
         f"{rate / parts_time:.0f} MiB/s", f"{parts_rss.growth_mib:.1f}", f"{sdk_put / parts_time:.2f}×"],
        [f"presigned {args.upload_mib} MiB", "minio SDK read back + SHA-256 (baseline)", f"{rate / sdk_read:.0f} MiB/s",
         "", ""],
        [f"presigned {args.upload_mib} MiB", "confirmEvidenceUpload (complete, stream back, hash, sniff)",
         f"{rate / confirm_time:.0f} MiB/s", f"{confirm_rss.growth_mib:.1f}", f"{sdk_read / confirm_time:.2f}×"],
    ]
    log(f"presigned: parts {rate / parts_time:.0f} MiB/s (RSS +{parts_rss.growth_mib:.1f} MiB), confirm "
        f"{confirm_time:.1f} s (RSS +{confirm_rss.growth_mib:.1f} MiB, from {confirm_rss.before / MiB:.0f} MiB)")
    growth = max(parts_rss.growth_mib, confirm_rss.growth_mib)
    results.target("server RSS grows < 32 MiB during a presigned 1 GiB upload and its confirmation",
                   f"{growth:.1f} MiB (parts {parts_rss.growth_mib:.1f}, confirm {confirm_rss.growth_mib:.1f}; "
                   f"from {confirm_rss.before / MiB:.0f} MiB)", growth < 32 and ok)
    if not ok:
        results.notes.append(f"the presigned upload did not come back as sent: {evidence}")
    path.unlink()


GENERATE_ITEMS = """
INSERT INTO evidence (id, owner_kind, referral_id, agency_id, jurisdiction_id, object_key, version_id, filename,
                      media_type, kind, size_bytes, sha256, uploaded_at, position_source, captured_at_source,
                      metadata_status)
SELECT gen_random_uuid(), 'REFERRAL', r.id, r.agency_id, r.jurisdiction_id, 'bench-custody/' || n, NULL,
       'item-' || n || '.pdf', 'application/pdf', 'DOCUMENT', 1000 + n,
       encode(sha256(convert_to('item-' || n, 'UTF8')), 'hex'), now(), 'NONE', 'NONE', 'NONE'
FROM generate_series(1, $1) AS n, (SELECT id, agency_id, jurisdiction_id FROM referral WHERE id = $2) AS r"""
# Each item's first entry is its upload, attesting what the row says (verify_log checks it); the
# rest are downloads spread over the items. The trigger numbers and chains them in this order, in
# transactions of GENERATE_BATCH entries: every entry updates the one chain-head row, and within
# one transaction each update leaves a row version the next must step over (quadratic).
GENERATE_UPLOADS = """
INSERT INTO custody_event (id, evidence_id, action, actor_name, occurred_at, detail)
SELECT gen_random_uuid(), e.id, 'UPLOADED', 'bench', now(),
       json_build_object('objectKey', e.object_key, 'versionId', e.version_id, 'sha256', e.sha256,
                         'sizeBytes', e.size_bytes)::text
FROM evidence e WHERE e.object_key LIKE 'bench-custody/%' AND e.size_bytes BETWEEN $1 AND $2
ORDER BY e.object_key"""
GENERATE_DOWNLOADS = """
INSERT INTO custody_event (id, evidence_id, action, actor_name, occurred_at, detail)
SELECT gen_random_uuid(), ($3::uuid[])[1 + n % array_length($3::uuid[], 1)], 'DOWNLOADED', 'bench', now(),
       '{"servedBy":"app"}'
FROM generate_series($1::int, $2::int) AS n ORDER BY n"""
GENERATE_BATCH = 1000


async def bench_custody(args, results: Results, stack, referral_id: str) -> None:
    import asyncpg

    from app.settings import DatabaseSettings
    from core.db import make_engine, make_session_factory
    from evidence.custody import verify_log

    dsn = stack.env["PIL_DB_URL"].replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET statement_timeout = 0")
        started = time.perf_counter()
        await connection.execute(GENERATE_ITEMS, args.evidence_items, referral_id)
        for first in range(1, args.evidence_items + 1, GENERATE_BATCH):
            await connection.execute(GENERATE_UPLOADS, 1000 + first, 1000 + first + GENERATE_BATCH - 1)
        items = [row["id"] for row in await connection.fetch(
            "SELECT id FROM evidence WHERE object_key LIKE 'bench-custody/%' ORDER BY object_key")]
        downloads = args.custody_entries - args.evidence_items
        for first in range(1, downloads + 1, GENERATE_BATCH):
            await connection.execute(GENERATE_DOWNLOADS, first, min(first + GENERATE_BATCH - 1, downloads), items)
            if first % 100_000 < GENERATE_BATCH:
                log(f"  {first + GENERATE_BATCH - 1:,} downloads entered")
        await connection.execute("VACUUM ANALYZE custody_event")
        await connection.execute("VACUUM ANALYZE evidence")
        entries = await connection.fetchval("SELECT count(*) FROM custody_event")
        log(f"generated {entries:,} custody entries in {time.perf_counter() - started:.0f} s")
        # The raw baseline: the same rows read in seq order, no checking.
        started = time.perf_counter()
        async with connection.transaction():
            rows = 0
            async for _ in connection.cursor("SELECT * FROM custody_event ORDER BY seq", prefetch=20_000):
                rows += 1
        raw = time.perf_counter() - started
    finally:
        await connection.close()

    engine = make_engine(DatabaseSettings(url=stack.env["PIL_DB_URL"], statement_timeout_ms=600_000,
                                          command_timeout_seconds=600))
    try:
        async with make_session_factory(engine)() as session:
            started = time.perf_counter()
            verification = await verify_log(session)
            elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    log(f"verify-custody: {verification.entries:,} entries in {elapsed:.1f} s (raw read {raw:.1f} s); "
        f"problem: {verification.problem}")
    results.rows += [
        [f"custody log {entries:,} entries", "asyncpg cursor, read in seq order (baseline)", f"{raw:.1f} s", "", ""],
        [f"custody log {entries:,} entries", f"verify-custody ({verification.evidence_checked:,} items)",
         f"{elapsed:.1f} s", "", f"{elapsed / raw:.2f}× the read"],
    ]
    results.target("verify 1M custody entries < 10 s", f"{elapsed:.1f} s for {verification.entries:,} entries",
                   elapsed < 10 and verification.problem is None and verification.entries == entries)


async def run(args, stack, servers: Servers, work_dir: Path, results: Results) -> dict:
    env = app_env(stack, 0, args.app_env)
    log("migrating, creating the bucket")
    manage(env, "prepare", "--no-demo")
    admin = "bench.admin"
    manage({**env, "PIL_ADMIN_PASSWORD": world.PASSWORD}, "create-admin", "--username", admin)
    ours = servers.uvicorn("ours", "app.main:create_app", env, 1)
    async with httpx.AsyncClient(base_url=ours.url, timeout=60) as client:
        w = await asyncio.wait_for(world.build(client, admin), STEP_TIMEOUT)
    log("presigned upload")
    await asyncio.wait_for(bench_presigned(args, results, ours, w, stack, work_dir), STEP_TIMEOUT)
    servers.stop(ours)
    log("custody log")
    await asyncio.wait_for(bench_custody(args, results, stack, w.template_referral_ids[0]), STEP_TIMEOUT)
    dsn = stack.env["PIL_DB_URL"].replace("postgresql+asyncpg://", "postgresql://")
    return {"PostgreSQL": await _server_version(dsn)}


def render(args, results: Results, versions: dict[str, str], started: datetime) -> list[str]:
    return [f"## Issue #9: presigned upload memory and custody verification, {started:%Y-%m-%d}", "",
            f"`.venv/bin/python -m bench.evidence --upload-mib {args.upload_mib} --custody-entries "
            f"{args.custody_entries} --evidence-items {args.evidence_items}` started {started:%Y-%m-%d %H:%M} UTC; "
            f"one server process, PIL_ENV={args.app_env}. RSS is the server's (all its processes), sampled every "
            "50 ms, as growth over its level before the step. Ratios are against the baselines of the same run.", "",
            *report.machine(versions), "",
            *report.table(["scenario", "what", "rate / time", "server RSS growth MiB", "× baseline"], results.rows),
            "", *report.table(["target", "measured", "met"], results.targets),
            *([""] + [f"- {note}" for note in results.notes] if results.notes else [])]


def main(argv: list[str] | None = None) -> int:
    results = run_benchmark(parse_args(argv), run, render, prefix="pil-bench-evidence-")
    if results is None:
        return 130
    print(json.dumps({"targets": results.targets}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

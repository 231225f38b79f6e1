"""The issue-5 benchmark, one command: `bench/run` (or `.venv/bin/python -m bench`).

Starts its own PostGIS and SeaweedFS (devstack), migrates, builds a world through the GraphQL
API, bulk-loads N referrals (default 1,000,000), then measures side by side in one run:

- the referral list (50, newest first, agency name and evidence) with and without totalCount:
  our app vs PostGraphile 5 vs one raw asyncpg statement behind Starlette, same rows (the city
  prosecutor's scope; PostGraphile sees it through row-level security), same worker count;
- submitReferral of a point vs a raw INSERT over HTTP;
- referralsNear p95 at 500 m and 5 km around random points;
- a 1 GiB upload through submitReferral vs the minio SDK's put of the same file, with the app's RSS;
- the p95 of a small request with and without a login flood.

Load: wrk at concurrency 8 (2 s warm-up, then 10 s), except the login scenario (fixed rates,
httpx). Results go to stdout and are appended to bench/RESULTS.md. Everything it starts is
stopped on exit, including Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

import devstack
from bench import load, report, world
from bench.servers import NODE, ROOT, Server, Servers

MiB = 1024 * 1024
STEP_TIMEOUT = 600.0  # any one step but the bulk load
BULK_LOAD_TIMEOUT = 3600.0
LIST_QUERY_OURS = """query($first: Int!) { referrals(first: $first) { %s edges { node {
  id title status submittedAt agency { name } evidence { id filename mediaType sizeBytes sha256 } } }
  pageInfo { hasNextPage endCursor } } }"""
LIST_QUERY_POSTGRAPHILE = """query($first: Int!) { allReferrals(first: $first, orderBy: [SUBMITTED_AT_DESC, PRIMARY_KEY_DESC]) {
  %s nodes { id: rowId title status submittedAt agencyByAgencyId { name }
  evidencesByReferralId { nodes { id: rowId filename mediaType sizeBytes sha256 } } }
  pageInfo { hasNextPage endCursor } } }"""
SUBMIT_POINT = "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"
NEAR = ("query($g: GeoJSON!, $m: Float!) { referralsNear(geometry: $g, meters: $m) "
        "{ distanceMeters referral { id title } } }")
ME = "{ me { username role } }"


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Results:
    rows: list[list[str]] = field(default_factory=list)  # measurements
    targets: list[list[str]] = field(default_factory=list)  # target, measured, met
    notes: list[str] = field(default_factory=list)

    def add(self, scenario: str, server: str, m: load.Measurement) -> None:
        self.rows.append([scenario, server, f"{m.rate:,.1f}", f"{m.p50_ms:.1f}", f"{m.p95_ms:.1f}",
                          f"{m.p99_ms:.1f}", str(m.failed)])
        log(f"{scenario} · {server}: {m.rate:,.1f} req/s, p50 {m.p50_ms:.1f} ms, p95 {m.p95_ms:.1f} ms, "
            f"failed {m.failed}")

    def target(self, name: str, measured: str, met: bool) -> None:
        self.targets.append([name, measured, "yes" if met else "**no**"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--upload-mib", type=int, default=1024, help="size of the uploaded file")
    parser.add_argument("--workers", type=int, default=1, help="server processes for each server under test")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="measured time per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--flood-rate", type=float, default=20.0, help="wrong-password logins per second")
    parser.add_argument("--login-rate", type=float, default=4.0,
                        help="right-password logins per second of the flooded account's owner, from another address")
    parser.add_argument("--probe-rate", type=float, default=25.0, help="requests per second measured in the flood")
    parser.add_argument("--app-env", default="production", choices=("production", "test", "development"),
                        help="PIL_ENV of our app (production: as deployed, no introspection)")
    parser.add_argument("--heading", default=None, help="heading of the section appended to RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    return parser.parse_args(argv)


def app_env(stack: devstack.TestStack, upload_bytes: int, environment: str) -> dict[str, str]:
    return {**os.environ, **stack.env,
            # Production by default: no GraphiQL or introspection, demo secrets refused, as deployed.
            "PIL_ENV": environment, "PIL_AUTH_TOKEN_SECRET": secrets.token_urlsafe(48), "PIL_LOG_LEVEL": "WARNING",
            # Fresh keys for parties' identity numbers (production refuses the demo ones).
            "PIL_PROTECT_DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "PIL_PROTECT_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "PIL_BUNDLE_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "PIL_API_MAX_UPLOAD_BYTES": str(upload_bytes + 16 * MiB),
            "PIL_API_MAX_REQUEST_BYTES": str(upload_bytes + 32 * MiB)}


def manage(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "app.manage", *args], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if completed.returncode != 0:
        raise RuntimeError(f"app.manage {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")


def graphql_body(query: str, variables: dict | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}}, ensure_ascii=False)


def split_on(text: str, *markers: str) -> list[str]:
    parts, rest = [], text
    for marker in markers:
        before, found, rest = rest.partition(marker)
        if not found:
            raise ValueError(f"{marker} not in {text[:100]}")
        parts.append(before)
    return [*parts, rest]


async def preflight(client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]) -> dict:
    """One request before the load: a scenario whose requests fail measures nothing."""
    response = await client.post(url, content=body.encode(), headers={"Content-Type": "application/json", **headers})
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or data.get("errors") or not data.get("data"):
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:800]}")
    return data


async def first_page_ids(client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]) -> tuple[list, int]:
    data = await preflight(client, url, body, headers)
    page = next(iter(data["data"].values()))
    nodes = page["nodes"] if "nodes" in page else [edge["node"] for edge in page["edges"]]
    return [node["id"] for node in nodes], page.get("totalCount", -1)


async def bench_lists(args, results: Results, ours: Server, postgraphile: Server, raw: Server, w: world.World,
                      work_dir: Path) -> None:
    auth = {"Authorization": f"Bearer {w.prosecutor_token}"}
    json_headers = {"Content-Type": "application/json"}
    ratios = {}
    for with_count in (True, False):
        count = "totalCount" if with_count else ""
        targets = {
            "ours": (f"{ours.url}/graphql", graphql_body(LIST_QUERY_OURS % count, {"first": 50}), auth),
            "PostGraphile 5": (f"{postgraphile.url}/graphql",
                               graphql_body(LIST_QUERY_POSTGRAPHILE % count, {"first": 50}), {}),
            "raw asyncpg": (f"{raw.url}/list?count={int(with_count)}", "{}", {}),
        }
        async with httpx.AsyncClient(timeout=60) as client:
            pages = {name: await first_page_ids(client, url, body, headers)
                     for name, (url, body, headers) in targets.items()}
        if len({json.dumps(page) for page in pages.values()}) == 1:
            results.notes.append(f"the three servers answered the same first page (ids, in order)"
                                 f"{' and totalCount' if with_count else ''} before the list was measured "
                                 f"({'with' if with_count else 'without'} count).")
        else:
            results.notes.append(f"the three first pages differ ({'with' if with_count else 'without'} count): "
                                 + "; ".join(f"{name}: {ids[:2]}…, total {total}"
                                             for name, (ids, total) in pages.items()))
        scenario = f"list 50 {'with' if with_count else 'without'} totalCount"
        rates = {}
        for name, (url, body, headers) in targets.items():
            script = load.wrk_script(headers={**json_headers, **headers}, body=body)
            measured = load.measure(url, script, connections=args.connections, seconds=args.seconds,
                                    warmup=args.warmup, work_dir=work_dir)
            results.add(scenario, name, measured)
            rates[name] = measured.rate
        ratios[with_count] = rates
        need = 1.0 if with_count else 0.5
        ratio = rates["ours"] / rates["PostGraphile 5"] if rates["PostGraphile 5"] else 0.0
        results.target(f"{scenario}: ours ≥ {need:g}× PostGraphile", f"{ratio:.2f}× "
                       f"(raw asyncpg: ours {rates['ours'] / rates['raw asyncpg']:.2f}×)", ratio >= need)


async def bench_submit(args, results: Results, ours: Server, raw: Server, w: world.World, work_dir: Path) -> None:
    agency_id = w.districts[0].agency_ids[0]
    submission = world.point_submission(w.domain, w.districts[0].centre, "__KEY__")
    ours_parts = split_on(graphql_body(SUBMIT_POINT, {"input": submission}), "__KEY__")
    ours_script = load.wrk_script(headers={"Content-Type": "application/json",
                                           "Authorization": f"Bearer {w.liaison_tokens[agency_id]}"},
                                  body_parts=ours_parts)
    raw_parts = split_on(json.dumps(submission, ensure_ascii=False), "__KEY__")
    raw_script = load.wrk_script(headers={"Content-Type": "application/json"}, body_parts=raw_parts)
    async with httpx.AsyncClient(timeout=60) as client:
        await preflight(client, f"{ours.url}/graphql", "preflight-ours".join(ours_parts),
                        {"Authorization": f"Bearer {w.liaison_tokens[agency_id]}"})
        await preflight(client, f"{raw.url}/submit", "preflight-raw".join(raw_parts), {})
    measured = {}
    for name, url, script in (("ours", f"{ours.url}/graphql", ours_script),
                              ("raw INSERT over HTTP", f"{raw.url}/submit", raw_script)):
        measured[name] = load.measure(url, script, connections=args.connections, seconds=args.seconds,
                                      warmup=args.warmup, work_dir=work_dir)
        results.add("submit a point", name, measured[name])
    ratio = measured["ours"].rate / measured["raw INSERT over HTTP"].rate
    results.target("submitReferral ≥ 0.5× raw insert over HTTP", f"{ratio:.2f}×", ratio >= 0.5)


async def bench_near(args, results: Results, ours: Server, w: world.World, work_dir: Path) -> None:
    city_bounds = (min(d.bounds[0] for d in w.districts[:2]), min(d.bounds[1] for d in w.districts[:2]),
                   max(d.bounds[2] for d in w.districts[:2]), max(d.bounds[3] for d in w.districts[:2]))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {w.prosecutor_token}"}
    for meters in (500, 5000):
        body = graphql_body(NEAR, {"g": {"type": "Point", "coordinates": ["__X__", "__Y__"]}, "m": meters})
        parts = split_on(body, '"__X__"', '"__Y__"')
        script = load.wrk_script(headers=headers, body_parts=parts, random_point=city_bounds)
        async with httpx.AsyncClient(timeout=60) as client:
            centre = w.districts[0].centre
            await preflight(client, f"{ours.url}/graphql", f"{parts[0]}{centre[0]}{parts[1]}{centre[1]}{parts[2]}",
                            {"Authorization": f"Bearer {w.prosecutor_token}"})
        for connections in (1, args.connections):
            measured = load.measure(f"{ours.url}/graphql", script, connections=connections, seconds=args.seconds,
                                    warmup=args.warmup, work_dir=work_dir)
            results.add(f"referralsNear {meters} m, c={connections}", "ours", measured)
            if connections == 1:
                results.target(f"referralsNear {meters} m p95 < 20 ms (one client)", f"{measured.p95_ms:.1f} ms",
                               measured.p95_ms < 20)


async def bench_login_flood(args, results: Results, ours: Server, w: world.World) -> None:
    body = {"query": ME}
    headers = {"Authorization": f"Bearer {w.prosecutor_token}"}
    if args.warmup:
        await load.probe(ours.url, body, headers, rate=args.probe_rate, seconds=args.warmup)
    quiet = await load.probe(ours.url, body, headers, rate=args.probe_rate, seconds=args.seconds)
    results.add(f"`me` at {args.probe_rate:g}/s, quiet", "ours", quiet)
    stop = asyncio.Event()
    wrong = {"query": world.LOGIN, "variables": {"u": world.FLOOD_TARGET, "p": "wrong-password"}}
    right = {"query": world.LOGIN, "variables": {"u": world.FLOOD_TARGET, "p": world.PASSWORD}}
    attacker = asyncio.create_task(load.flood(ours.url, wrong, source="127.0.0.3", rate=args.flood_rate, stop=stop))
    # The owner's logins always hash a password: they load the server even when the attacker's are
    # turned away cheaply, as in the issue ("one client logging in 4 times a second").
    owner = asyncio.create_task(load.flood(ours.url, right, source="127.0.0.2", rate=args.login_rate, stop=stop))
    await asyncio.sleep(2)
    try:
        flooded = await load.probe(ours.url, body, headers, rate=args.probe_rate, seconds=args.seconds)
    finally:
        stop.set()
    attacks, owners = await attacker, await owner
    results.add(f"`me` at {args.probe_rate:g}/s, login flood", "ours", flooded)
    increase = (flooded.p95_ms / quiet.p95_ms - 1) * 100
    results.target(f"login flood ({args.flood_rate:g} wrong/s from one address, {args.login_rate:g} right/s from "
                   "another) raises p95 < 20%",
                   f"{quiet.p95_ms:.1f} → {flooded.p95_ms:.1f} ms ({increase:+.0f}%)", increase < 20)
    results.target("the flooded account's owner still logs in (an attacker slows only itself)",
                   f"{owners.succeeded} of {owners.sent}", owners.sent > 0 and owners.succeeded == owners.sent)
    results.notes.append(f"login flood: the attacker sent {attacks.sent} wrong-password logins from 127.0.0.3 "
                         f"(answers {attacks.codes}); the account's owner, from 127.0.0.2: {owners.codes}.")


def write_upload_file(path: Path, size: int) -> None:
    header = world.tiny_png()
    with path.open("wb") as out:
        out.write(header)
        left = size - len(header)
        while left > 0:
            chunk = os.urandom(min(left, 16 * MiB))
            out.write(chunk)
            left -= len(chunk)


async def bench_upload(args, results: Results, ours: Server, w: world.World, stack: devstack.TestStack,
                       work_dir: Path) -> None:
    from minio import Minio

    size = args.upload_mib * MiB
    path = work_dir / "upload.png"
    log(f"writing a {args.upload_mib} MiB file")
    write_upload_file(path, size)
    client = Minio(stack.env["PIL_S3_ENDPOINT"], access_key=stack.env["PIL_S3_ACCESS_KEY"],
                   secret_key=stack.env["PIL_S3_SECRET_KEY"], secure=False)
    started = time.perf_counter()
    await asyncio.wait_for(asyncio.to_thread(client.fput_object, stack.env["PIL_S3_BUCKET"],
                                             f"bench-sdk/{secrets.token_hex(8)}.png", str(path),
                                             content_type="image/png"), STEP_TIMEOUT)
    sdk_rate = size / MiB / (time.perf_counter() - started)
    log(f"minio SDK put_object: {sdk_rate:.0f} MiB/s")

    agency_id = w.districts[0].agency_ids[0]
    variables = {"input": world.point_submission(w.domain, w.districts[0].centre, f"upload-{secrets.token_hex(6)}"),
                 "evidence": [{"file": None, "description": "大文件"}]}
    operations = json.dumps({"query": world.SUBMIT, "variables": variables}, ensure_ascii=False)
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(ours.rss_bytes())
            time.sleep(0.05)

    before = max(ours.rss_bytes() for _ in range(3))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        completed = await asyncio.to_thread(subprocess.run, [
            "curl", "-sS", "--max-time", str(int(STEP_TIMEOUT)), f"{ours.url}/graphql",
            "-H", f"Authorization: Bearer {w.liaison_tokens[agency_id]}",
            "--form-string", f"operations={operations}",
            "--form-string", 'map={"0": ["variables.evidence.0.file"]}',
            "-F", f"0=@{path};type=image/png;filename=large.png"], capture_output=True, text=True,
            timeout=STEP_TIMEOUT + 30)
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
    ours_rate = size / MiB / elapsed
    growth = (max(samples, default=before) - before) / MiB
    try:
        answer = json.loads(completed.stdout)
        stored = answer["data"]["submitReferral"]["evidence"][0]["sizeBytes"]
    except (ValueError, KeyError, TypeError, IndexError):
        stored = None
    if stored != size:
        results.notes.append(f"the upload through submitReferral failed: {completed.stdout[:500]} {completed.stderr}")
    results.rows.append([f"upload {args.upload_mib} MiB", "minio SDK put_object", f"{sdk_rate:.0f} MiB/s", "", "",
                         "", "0"])
    results.rows.append([f"upload {args.upload_mib} MiB", "ours (submitReferral multipart, curl)",
                         f"{ours_rate:.0f} MiB/s", "", "", "", "0" if stored == size else "1"])
    log(f"submitReferral upload: {ours_rate:.0f} MiB/s, RSS {before / MiB:.0f} MiB, growth {growth:.0f} MiB")
    ratio = ours_rate / sdk_rate
    results.target("upload ≥ 0.8× SDK put", f"{ratio:.2f}× ({ours_rate:.0f} vs {sdk_rate:.0f} MiB/s)",
                   ratio >= 0.8 and stored == size)
    results.target("server RSS grows < 32 MiB during the upload",
                   f"{growth:.0f} MiB (from {before / MiB:.0f} MiB, all workers)", growth < 32)
    path.unlink()


async def run(args, stack: devstack.TestStack, servers: Servers, work_dir: Path, results: Results) -> dict:
    env = app_env(stack, args.upload_mib * MiB, args.app_env)
    dsn = stack.env["PIL_DB_URL"].replace("postgresql+asyncpg://", "postgresql://")
    log("migrating, creating the bucket")
    manage(env, "prepare", "--no-demo")
    admin = "bench.admin"
    manage({**env, "PIL_ADMIN_PASSWORD": world.PASSWORD}, "create-admin", "--username", admin)
    log(f"starting our app ({args.workers} worker(s))")
    ours = servers.uvicorn("ours", "app.main:create_app", env, args.workers)
    async with httpx.AsyncClient(base_url=ours.url, timeout=60) as client:
        w = await asyncio.wait_for(world.build(client, admin), STEP_TIMEOUT)
    log(f"bulk-loading {args.referrals:,} referrals")
    started = time.monotonic()
    await asyncio.wait_for(world.bulk_load(dsn, w, args.referrals, log), BULK_LOAD_TIMEOUT)
    results.notes.append(f"bulk load of {args.referrals:,} referrals with evidence rows and VACUUM ANALYZE: "
                         f"{time.monotonic() - started:.0f} s")
    role_password = secrets.token_urlsafe(18)
    await world.create_scoped_role(dsn, "bench_city_prosecutor", role_password, w.scope_jurisdiction_ids)
    port_part = dsn.split("@", 1)[1]
    log("starting the raw baseline and PostGraphile 5")
    raw = servers.uvicorn("raw", "bench.raw_app:create_app", {
        **os.environ, "BENCH_DSN": dsn, "BENCH_SCOPE": ",".join(w.scope_jurisdiction_ids),
        "BENCH_TEMPLATE_REFERRAL": w.template_referral_ids[0]}, args.workers)
    postgraphile = servers.postgraphile(f"postgres://bench_city_prosecutor:{role_password}@{port_part}",
                                        args.workers)
    log("list")
    await bench_lists(args, results, ours, postgraphile, raw, w, work_dir)
    servers.stop(postgraphile)
    log("submit")
    await bench_submit(args, results, ours, raw, w, work_dir)
    servers.stop(raw)
    log("near")
    await bench_near(args, results, ours, w, work_dir)
    log("login flood")
    await asyncio.wait_for(bench_login_flood(args, results, ours, w), STEP_TIMEOUT)
    log("upload")
    await bench_upload(args, results, ours, w, stack, work_dir)
    versions = {
        "PostgreSQL": await _server_version(dsn),
        "PostGraphile": _node_package_version("postgraphile"),
        "Node": subprocess.run([str(NODE), "--version"], capture_output=True, text=True).stdout.strip(),
        "wrk": "4.1.0 (Debian)",
    }
    return versions


async def _server_version(dsn: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval("SELECT split_part(version(), ' on ', 1) || ', PostGIS ' || "
                                         "postgis_lib_version()")
    finally:
        await connection.close()


def _node_package_version(name: str) -> str:
    package = NODE.parent.parent.parent / name / "package.json"
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def render(args, results: Results, versions: dict[str, str], started: datetime) -> list[str]:
    heading = args.heading or f"Issue #5 benchmark, {started:%Y-%m-%d}"
    lines = [f"## {heading}", "",
             f"`bench/run --referrals {args.referrals} --upload-mib {args.upload_mib} --workers {args.workers}` "
             f"started {started:%Y-%m-%d %H:%M} UTC. {args.workers} server process(es) for each server; wrk at "
             f"c={args.connections}, {args.warmup:g} s warm-up then {args.seconds:g} s per row (near also at c=1); "
             "the list scope is a city prosecutor's (a quarter of the referrals), PostGraphile sees the same rows "
             "through row-level security and may order by unindexed columns (PgIndexBehaviorsPlugin off), raw "
             "asyncpg is one statement building the JSON in PostgreSQL behind Starlette. Ratios are within this run; "
             f"our app ran with PIL_ENV={args.app_env}.", "",
             *report.machine(versions), "",
             *report.table(["scenario", "server", "req/s", "p50 ms", "p95 ms", "p99 ms", "failed"], results.rows),
             "", *report.table(["target", "measured", "met"], results.targets)]
    if results.notes:
        lines += ["", *(f"- {note}" for note in results.notes)]
    return lines


def start_stack(work_dir: Path, attempts: int = 3) -> devstack.TestStack:
    """Free ports are picked before the services bind them, and other stacks may be starting on the
    same machine: a port taken in between is worth another try."""
    for attempt in range(1, attempts + 1):
        try:
            return devstack.start_test_stack(work_dir / f"stack-{attempt}")
        except devstack.DevstackError as error:
            if attempt == attempts:
                raise
            log(f"services did not start ({str(error).splitlines()[0]}); trying again")
    raise AssertionError("unreachable")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_benchmark(args, run, render, *, prefix: str) -> Results | None:
    """One benchmark from start to end, for `bench run`, `bench.tiles` and `bench.evidence`: a fresh
    PostGIS and SeaweedFS in a work directory, `run(args, stack, servers, work_dir, results)` with
    every server it starts stopped afterwards, and `render`'s section printed and appended to
    bench/RESULTS.md. None when interrupted."""
    started = datetime.now(timezone.utc)
    # Ctrl-C and SIGTERM raise at once wherever the main thread is, also inside a blocking wrk run
    # (asyncio's own SIGINT handling would wait for the next await), and leave through every finally.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    work_dir = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(work_dir, 0o755)  # the postgres OS user must reach its data directory inside
    log(f"work directory {work_dir}; starting PostGIS and SeaweedFS")
    results = Results()
    try:
        stack = start_stack(work_dir)
        try:
            servers = Servers(work_dir)
            try:
                versions = asyncio.run(run(args, stack, servers, work_dir, results))
            except Exception:
                for server in servers.running:
                    print(f"--- last lines of the {server.name} log ---\n{server.log_tail()}", file=sys.stderr)
                raise
            finally:
                servers.stop_all()
        finally:
            stack.stop()
    except KeyboardInterrupt:
        log("interrupted; everything stopped")
        return None
    finally:
        if args.keep:
            log(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    section = render(args, results, versions, started)
    print("\n" + "\n".join(section))
    if not args.no_write:
        report.append_results(section)
        log(f"appended to {report.RESULTS}")
    return results


def main(argv: list[str] | None = None) -> int:
    return 130 if run_benchmark(parse_args(argv), run, render, prefix="pil-bench-") is None else 0


if __name__ == "__main__":
    sys.exit(main())

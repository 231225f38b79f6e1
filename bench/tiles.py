"""The issue-8 tile benchmark, one command: `bench/run-tiles` (or `.venv/bin/python -m bench.tiles`).

Starts its own PostGIS and SeaweedFS (devstack), migrates, builds the bench world through the
GraphQL API over a province-sized extent (Sichuan's, about 11° by 8°), bulk-loads N referral
polygons (default 1,000,000: parcels of 30–300 m, some 70 per z12 tile) with one SQL statement
per batch, then measures in one run on that database, all in the first city's prosecutor's scope:

- random z12 tiles of that city: our endpoint with its cache cold (every tile asked for the first
  time) and warm (a set of tiles asked for again), the very same SQL statement over asyncpg behind
  Starlette (bench/raw_tiles.py), and tipg (its own venv, `.venv-tipg`, never the app's) seeing
  the same rows through row-level security, at the same feature cap;
- a z6 tile over the city: time (first draw, then cached) and size;
- `referrals(filter: {bbox})` of a map view (about 0.1° square), p95 at one client and at c.

Load: wrk (warm-up, then the measured seconds). Results go to stdout and are appended to
bench/RESULTS.md. Everything it starts is stopped on exit, including Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import mapbox_vector_tile

from bench import load, report, world
from bench.__main__ import Results, app_env, log, manage, run_benchmark
from bench.servers import ROOT, Server, Servers
from bench.sql import clone_statement, table_columns
from devstack import free_port

EXTENT = (97.3, 26.0, 108.5, 34.3)  # about Sichuan's: 11.2° × 8.3°, some 14,000 z12 tiles
TIPG_VENV = ROOT / ".venv-tipg"
TIPG_REQUIREMENT = "tipg==1.6.*"
BATCH = 100_000
WARM_TILES = 256
BBOX_SIDE = 0.1  # degrees: a map view of a few z12 tiles
STEP_TIMEOUT = 900.0
BULK_LOAD_TIMEOUT = 3600.0
LIST_IN_BBOX = ('query($b: [Float!]) { referrals(first: 50, filter: {bbox: $b}) '
                '{ edges { node { id title status domain { code } } } pageInfo { hasNextPage endCursor } } }')


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run-tiles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--polygons", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1, help="server processes for each server under test")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="measured time per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--heading", default=None, help="heading of the section appended to RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    return parser.parse_args(argv)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tiles_over(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    _, x0, y0 = tile_of(bounds[0], bounds[3], z)
    _, x1, y1 = tile_of(bounds[2], bounds[1], z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


async def bulk_polygons(dsn: str, w: world.World, count: int) -> None:
    """`count` polygons copied from the agencies' template referrals, each inside its agency's
    district: half rectangles, half octagons, 30–300 m across; then VACUUM ANALYZE."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TEMP TABLE bench_template (idx int, id uuid, minx float8, miny float8,"
                                 " maxx float8, maxy float8)")
        bounds = {agency: d.bounds for d in w.districts for agency in d.agency_ids}
        rows = []
        for index, template_id in enumerate(w.template_referral_ids):
            agency_id = await connection.fetchval("SELECT agency_id::text FROM referral WHERE id = $1::uuid",
                                                  template_id)
            rows.append((index, template_id, *bounds[agency_id]))
        await connection.executemany("INSERT INTO bench_template VALUES ($1, $2::uuid, $3, $4, $5, $6)", rows)
        insert = clone_statement("referral", await table_columns(connection, "referral"), {
            "id": "gen_random_uuid()",
            "title": "'地块 ' || g",
            "idempotency_key": "'bulk-' || g",
            "submitted_at": "now() - g * interval '31 seconds'",
            "geometry": "CASE WHEN p.shape < 0.5 THEN ST_MakeEnvelope(p.x, p.y, p.x + p.size, p.y + p.size * 0.7, 4326)"
                        " ELSE ST_SetSRID(ST_Buffer(ST_MakePoint(p.x, p.y), p.size / 2, 'quad_segs=2'), 4326) END",
        }, source=f"""generate_series($1::int, $2::int) AS g
            JOIN bench_template b ON b.idx = g % {len(rows)}
            JOIN referral t ON t.id = b.id
            CROSS JOIN LATERAL (SELECT b.minx + random() * (b.maxx - b.minx - 0.003) + 0 * g AS x,
                                       b.miny + random() * (b.maxy - b.miny - 0.003) AS y,
                                       0.0003 + random() * 0.0027 AS size, random() AS shape) p""")
        started = time.monotonic()
        for first in range(1, count + 1, BATCH):
            last = min(first + BATCH - 1, count)
            await connection.execute(insert, first, last)
            log(f"  polygons {last:,}/{count:,} ({last / (time.monotonic() - started):,.0f} rows/s)")
        log("  VACUUM ANALYZE")
        await connection.execute("VACUUM ANALYZE referral")
    finally:
        await connection.close()


def ensure_tipg() -> Path:
    """tipg in a venv of its own: a bench tool, never a dependency of the app or its tests."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True, timeout=300)
    check = subprocess.run([str(python), "-c", "import tipg, uvicorn"], capture_output=True)
    if check.returncode != 0:
        log(f"installing {TIPG_REQUIREMENT} into {TIPG_VENV}")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", TIPG_REQUIREMENT,
                        "uvicorn"], check=True, timeout=600)
    return python


def start_tipg(servers: Servers, python: Path, database_url: str, workers: int) -> Server:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           "DATABASE_URL": database_url, "TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": '["public.referral"]',
           "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": '["public"]', "TIPG_MAX_FEATURES_PER_TILE": str(10_000),
           "TIPG_DEBUG": "false"}
    return servers._start("tipg", [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
                                   str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
                          env, port, cwd=Path(tempfile.gettempdir()))


def get_script(paths: list[str], *, headers: dict[str, str], sequential: bool) -> str:
    """A wrk script GETting `paths`: in turn, each once across all threads (`sequential`: a cold
    cache sees every tile for the first time), or at random. Counts non-200 answers as failed."""
    lines = ['wrk.method = "GET"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {load.lua_string(name)} ] = {load.lua_string(value)}")
    lines.append("local paths = {" + ", ".join(load.lua_string(path) for path in paths) + "}")
    lines.append("local threads, next_thread = {}, 0")
    lines.append("function setup(thread) next_thread = next_thread + 1; thread:set('tid', next_thread);"
                 " table.insert(threads, thread) end")
    lines.append("function init(args) failed = 0; counter = 0; math.randomseed(os.time() * 1000 + tid) end")
    if sequential:
        # Strides of the most threads run_wrk starts: no two threads ever ask for the same tile.
        lines.append(f"function request() local i = (counter * {load.MAX_WRK_THREADS} + tid - 1) % #paths + 1;"
                     " counter = counter + 1; return wrk.format(nil, paths[i]) end")
    else:
        lines.append("function request() return wrk.format(nil, paths[math.random(#paths)]) end")
    lines.append("function response(status, headers, body) if status ~= 200 then failed = failed + 1 end end")
    lines.append(load.SUMMARY)
    return "\n".join(lines) + "\n"


def bbox_script(*, headers: dict[str, str], bounds: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = bounds
    lines = ['wrk.method = "POST"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {load.lua_string(name)} ] = {load.lua_string(value)}")
    query = json.dumps(LIST_IN_BBOX)
    lines.append("local threads, next_thread = {}, 0")
    lines.append("function setup(thread) next_thread = next_thread + 1; thread:set('tid', next_thread);"
                 " table.insert(threads, thread) end")
    lines.append("function init(args) failed = 0; math.randomseed(os.time() * 1000 + tid) end")
    lines.append(f"function request() local x = {x0} + math.random() * {x1 - x0 - BBOX_SIDE};"
                 f" local y = {y0} + math.random() * {y1 - y0 - BBOX_SIDE};"
                 f" local body = '{{\"query\": ' .. {load.lua_string(query)} .. ', \"variables\": {{\"b\": [' .."
                 f" string.format('%.5f,%.5f,%.5f,%.5f', x, y, x + {BBOX_SIDE}, y + {BBOX_SIDE}) .. ']}}}}';"
                 " return wrk.format(nil, nil, nil, body) end")
    lines.append("function response(status, headers, body) if status ~= 200 or"
                 " string.find(body, '\"errors\"', 1, true) then failed = failed + 1 end end")
    lines.append(load.SUMMARY)
    return "\n".join(lines) + "\n"


async def fetch_tile(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    response = await client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.content


async def bench_tiles(args, results: Results, ours: Server, raw: Server, tipg: Server, w: world.World,
                      city: tuple[float, float, float, float], work_dir: Path) -> None:
    every = tiles_over(city, 12)
    random.Random(8).shuffle(every)
    warm = every[:WARM_TILES]
    cold = every[WARM_TILES:]
    auth = {"Authorization": f"Bearer {w.prosecutor_token}"}
    tipg_query = "?limit=2000&properties=id,status,domain_code"

    def paths(name: str, tiles: list[tuple[int, int, int]]) -> list[str]:
        if name == "tipg":
            return [f"/collections/public.referral/tiles/WebMercatorQuad/{z}/{x}/{y}{tipg_query}" for z, x, y in tiles]
        prefix = "/tiles/referrals" if name == "ours" else "/tiles"
        return [f"{prefix}/{z}/{x}/{y}.mvt" for z, x, y in tiles]

    targets = {"ours": (ours, auth), "raw SQL": (raw, {}), "tipg": (tipg, {})}
    # The same tile holds the same features from all three (checked on a few before measuring).
    async with httpx.AsyncClient(timeout=60) as client:
        for tile in warm[:5]:
            counts = {}
            for name, (server, headers) in targets.items():
                _, content = await fetch_tile(client, server.url + paths(name, [tile])[0], headers)
                counts[name] = sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(content).values())
            results.notes.append(f"features in z12 tile {tile}: {counts}")
    rates: dict[tuple[str, str], load.Measurement] = {}
    for name, (server, headers) in targets.items():
        # Cold: tiles never asked for before, each once; ours draws every one for the first time.
        script = get_script(paths(name, cold), headers=headers, sequential=True)
        measured = load.run_wrk(server.url + "/", script, connections=args.connections, seconds=args.seconds,
                                work_dir=work_dir)
        if measured.requests > len(cold):
            results.notes.append(f"{name} cold: {measured.requests} requests over {len(cold)} tiles, so some "
                                 "tiles were asked for twice")
        rates[(name, "cold")] = measured
        results.add("z12 random tiles, cold", name, measured)
        script = get_script(paths(name, warm), headers=headers, sequential=False)
        measured = load.measure(server.url + "/", script, connections=args.connections, seconds=args.seconds,
                                warmup=max(args.warmup, 1), work_dir=work_dir)
        rates[(name, "warm")] = measured
        results.add("z12 random tiles, warm", name, measured)
    for phase, need in (("warm", 4.0), ("cold", 1.0)):
        ratio = rates[("ours", phase)].rate / rates[("tipg", phase)].rate if rates[("tipg", phase)].rate else 0.0
        results.target(f"z12 {phase}: ours ≥ {need:g}× tipg", f"{ratio:.2f}× (raw SQL: ours "
                       f"{rates[('ours', phase)].rate / rates[('raw SQL', phase)].rate:.2f}×)", ratio >= need)


async def bench_z6(results: Results, ours: Server, raw: Server, w: world.World,
                   city: tuple[float, float, float, float]) -> None:
    tile = tile_of((city[0] + city[2]) / 2, (city[1] + city[3]) / 2, 6)
    z, x, y = tile
    auth = {"Authorization": f"Bearer {w.prosecutor_token}"}
    async with httpx.AsyncClient(timeout=120) as client:
        first, content = await fetch_tile(client, f"{ours.url}/tiles/referrals/{z}/{x}/{y}.mvt", auth)
        cached = sorted([(await fetch_tile(client, f"{ours.url}/tiles/referrals/{z}/{x}/{y}.mvt", auth))[0]
                         for _ in range(5)])[2]
        raw_times = sorted([(await fetch_tile(client, f"{raw.url}/tiles/{z}/{x}/{y}.mvt", {}))[0] for _ in range(5)])
    results.rows.append([f"z6 tile {tile}", "ours, first draw", "", f"{first:.1f}", "", "", "0"])
    results.rows.append([f"z6 tile {tile}", "ours, cached (median of 5)", "", f"{cached:.1f}", "", "", "0"])
    results.rows.append([f"z6 tile {tile}", "raw SQL (median of 5)", "", f"{raw_times[2]:.1f}", "", "", "0"])
    results.target("z6 tile < 150 ms (first draw)", f"{first:.0f} ms", first < 150)
    results.target("z6 tile < 500 KB", f"{len(content) / 1024:.1f} KB", len(content) < 500 * 1024)


async def bench_bbox(args, results: Results, ours: Server, w: world.World,
                     city: tuple[float, float, float, float], work_dir: Path) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {w.prosecutor_token}"}
    async with httpx.AsyncClient(timeout=60) as client:
        x, y = (city[0] + city[2]) / 2, (city[1] + city[3]) / 2
        response = await client.post(f"{ours.url}/graphql", headers=headers, json={
            "query": LIST_IN_BBOX, "variables": {"b": [x, y, x + BBOX_SIDE, y + BBOX_SIDE]}})
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"bbox list failed: {body}")
        results.notes.append(f"bbox list preflight: {len(body['data']['referrals']['edges'])} referrals on the first "
                             f"page of a {BBOX_SIDE}° view")
    script = bbox_script(headers=headers, bounds=city)
    for connections in (1, args.connections):
        measured = load.measure(f"{ours.url}/graphql", script, connections=connections, seconds=args.seconds,
                                warmup=args.warmup, work_dir=work_dir)
        results.add(f"referrals(filter: {{bbox}}) first 50, c={connections}", "ours", measured)
        if connections == 1:
            results.target("bbox list p95 < 20 ms (one client)", f"{measured.p95_ms:.1f} ms", measured.p95_ms < 20)


async def run(args, stack, servers: Servers, work_dir: Path, results: Results) -> dict[str, str]:
    tipg_python = ensure_tipg()
    env = app_env(stack, 16 * 1024 * 1024, "production")
    dsn = stack.env["PIL_DB_URL"].replace("postgresql+asyncpg://", "postgresql://")
    log("migrating")
    manage(env, "prepare", "--no-demo")
    admin = "bench.admin"
    manage({**env, "PIL_ADMIN_PASSWORD": world.PASSWORD}, "create-admin", "--username", admin)
    log(f"starting our app ({args.workers} worker(s))")
    ours = servers.uvicorn("ours", "app.main:create_app", env, args.workers)
    async with httpx.AsyncClient(base_url=ours.url, timeout=60) as client:
        w = await asyncio.wait_for(world.build(client, admin, EXTENT), STEP_TIMEOUT)
    log(f"bulk-loading {args.polygons:,} polygons")
    started = time.monotonic()
    await asyncio.wait_for(bulk_polygons(dsn, w, args.polygons), BULK_LOAD_TIMEOUT)
    results.notes.append(f"bulk load of {args.polygons:,} polygons (the triggers logging tile changes and counting "
                         f"the grid included) and VACUUM ANALYZE: {time.monotonic() - started:.0f} s")
    # Measured as loaded: the grid keeps a row per cell for each batch until `app.manage
    # compact-tile-data` folds them (the aggregated tiles read more rows than they will after it).
    role_password = secrets.token_urlsafe(18)
    await world.create_scoped_role(dsn, "bench_city_prosecutor", role_password, w.scope_jurisdiction_ids)
    port_part = dsn.split("@", 1)[1]
    log("starting the raw baseline and tipg")
    raw = servers.uvicorn("raw-tiles", "bench.raw_tiles:create_app", {
        **os.environ, "BENCH_DSN": dsn, "BENCH_SCOPE": ",".join(w.scope_jurisdiction_ids)}, args.workers)
    tipg = start_tipg(servers, tipg_python, f"postgresql://bench_city_prosecutor:{role_password}@{port_part}",
                      args.workers)
    districts = w.districts[:2]  # the first city's
    city = (min(d.bounds[0] for d in districts), min(d.bounds[1] for d in districts),
            max(d.bounds[2] for d in districts), max(d.bounds[3] for d in districts))
    log("z12 tiles")
    await bench_tiles(args, results, ours, raw, tipg, w, city, work_dir)
    log("z6 tile")
    await bench_z6(results, ours, raw, w, city)
    servers.stop(tipg)
    servers.stop(raw)
    log("bbox list")
    await bench_bbox(args, results, ours, w, city, work_dir)
    tipg_version = subprocess.run([str(tipg_python), "-c", "import tipg; print(tipg.__version__)"],
                                  capture_output=True, text=True).stdout.strip()
    connection = await asyncpg.connect(dsn)
    try:
        postgres = await connection.fetchval("SELECT split_part(version(), ' on ', 1) || ', PostGIS ' || "
                                             "postgis_lib_version()")
        per_tile = await connection.fetchval(
            "SELECT count(*) FROM referral WHERE geometry && ST_Transform(ST_TileEnvelope($1, $2, $3), 4326)",
            *tile_of((city[0] + city[2]) / 2, (city[1] + city[3]) / 2, 12))
    finally:
        await connection.close()
    results.notes.append(f"referrals in the z12 tile at the city's centre (all scopes): {per_tile}")
    return {"PostgreSQL": postgres, "tipg": tipg_version, "wrk": "4.1.0 (Debian)"}


def render(args, results: Results, versions: dict[str, str], started: datetime) -> list[str]:
    heading = args.heading or f"Issue #8 tile benchmark, {started:%Y-%m-%d}"
    return [f"## {heading}", "",
            f"`bench/run-tiles --polygons {args.polygons} --workers {args.workers}` started {started:%Y-%m-%d %H:%M} "
            f"UTC. {args.workers} server process(es) for each server; wrk at c={args.connections}, "
            f"{args.warmup:g} s warm-up (none for cold runs) then {args.seconds:g} s per row. All in the first "
            "city's prosecutor's scope (a quarter of the polygons): our app by its token, the raw baseline by the "
            "same statement for that scope, tipg through row-level security. Feature cap 2000 for all three. "
            "Cold: every request a z12 tile not asked for before; warm: random tiles among "
            f"{WARM_TILES} asked for before.", "",
            *report.machine(versions), "",
            *report.table(["scenario", "server", "req/s", "p50 ms", "p95 ms", "p99 ms", "failed"], results.rows),
            "", *report.table(["target", "measured", "met"], results.targets),
            *([""] + [f"- {note}" for note in results.notes] if results.notes else [])]


def main(argv: list[str] | None = None) -> int:
    return 130 if run_benchmark(parse_args(argv), run, render, prefix="pil-bench-tiles-") is None else 0


if __name__ == "__main__":
    sys.exit(main())

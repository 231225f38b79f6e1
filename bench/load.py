"""Load generators: wrk (C, so that the client takes little of the two cores the servers share)
with a Lua script per scenario, and an asyncio httpx prober and flood for the login scenario,
which needs fixed rates and chosen source addresses."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

WRK_SLACK = 30.0  # seconds a wrk run may overrun its duration before it is killed
MAX_WRK_THREADS = 2
# The `done` of every wrk script: one JSON line run_wrk reads (threads keep `failed` counts).
SUMMARY = """function done(summary, latency, requests)
  local failed_total = 0
  for _, thread in ipairs(threads) do failed_total = failed_total + thread:get('failed') end
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "failed": %d, "p50": %d, "p95": %d, '
    .. '"p99": %d}\\n', summary.requests, summary.duration,
    failed_total + e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
end"""


@dataclass
class Measurement:
    requests: int
    seconds: float
    failed: int  # transport errors, non-2xx answers and answers carrying GraphQL errors
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(value: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in value
    return f"[{level}[{value}]{level}]"


def wrk_script(*, headers: dict[str, str], body: str | None = None, body_parts: list[str] | None = None,
               random_point: tuple[float, float, float, float] | None = None) -> str:
    """A wrk script (for `run_wrk`) POSTing `body`; or, with `body_parts`, a body joined from the parts with a
    value unique to each request between them (idempotency keys); or, with `random_point`, with
    a random longitude and latitude in those bounds (two slots). Counts failed answers, prints a
    JSON summary line."""
    lines = ['wrk.method = "POST"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {lua_string(name)} ] = {lua_string(value)}")
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    lines.append('local run_id = "__RUN_ID__"')
    lines.append("local threads, next_thread = {}, 0")
    lines.append("function setup(thread) next_thread = next_thread + 1; thread:set('tid', next_thread);"
                 " table.insert(threads, thread) end")
    lines.append("function init(args) failed = 0; counter = 0; math.randomseed(os.time() * 1000 + tid) end")
    if body_parts is not None and random_point is None:
        parts = ", ".join(lua_string(part) for part in body_parts)
        lines.append(f"local parts = {{{parts}}}")
        lines.append("function request() counter = counter + 1;"
                     " local key = run_id .. '-' .. tid .. '-' .. counter;"
                     " return wrk.format(nil, nil, nil, table.concat(parts, key)) end")
    if random_point is not None:
        x0, y0, x1, y1 = random_point
        lines.append(f"local parts = {{{', '.join(lua_string(part) for part in body_parts or [])}}}")
        lines.append(f"function request() local x = {x0} + math.random() * {x1 - x0};"
                     f" local y = {y0} + math.random() * {y1 - y0};"
                     " return wrk.format(nil, nil, nil, parts[1] .. string.format('%.6f', x) .. parts[2]"
                     " .. string.format('%.6f', y) .. parts[3]) end")
    lines.append("function response(status, headers, body) if status ~= 200 or"
                 " string.find(body, '\"errors\"', 1, true) then failed = failed + 1 end end")
    lines.append(SUMMARY)
    return "\n".join(lines) + "\n"


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, timeout=300, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is needed (apt-get install wrk)")
    return found


def run_wrk(url: str, script: str, *, connections: int, seconds: float, work_dir: Path) -> Measurement:
    script_path = work_dir / f"wrk-{secrets.token_hex(4)}.lua"
    # A fresh run id for every run: a warm-up and its measurement must not send the same keys.
    script_path.write_text(script.replace("__RUN_ID__", secrets.token_hex(6)))
    threads = min(connections, MAX_WRK_THREADS)
    completed = subprocess.run(
        [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
         "-s", str(script_path), url], capture_output=True, text=True, timeout=seconds + WRK_SLACK)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH "):])
            return Measurement(requests=data["requests"], seconds=data["duration_us"] / 1e6, failed=data["failed"],
                               p50_ms=data["p50"] / 1000, p95_ms=data["p95"] / 1000, p99_ms=data["p99"] / 1000)
    raise RuntimeError(f"wrk gave no summary:\n{completed.stdout}\n{completed.stderr}")


def measure(url: str, script: str, *, connections: int, seconds: float, warmup: float, work_dir: Path) -> Measurement:
    if warmup:
        run_wrk(url, script, connections=connections, seconds=warmup, work_dir=work_dir)
    return run_wrk(url, script, connections=connections, seconds=seconds, work_dir=work_dir)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def probe(url: str, body: dict, headers: dict[str, str], *, rate: float, seconds: float) -> Measurement:
    """Requests at a fixed rate (each started on schedule, whatever the previous one is doing, so
    that a stall shows in the latencies instead of lowering the rate)."""
    latencies: list[float] = []
    failed = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal failed
        started = time.perf_counter()
        try:
            response = await client.post("/graphql", json=body, headers=headers)
            if response.status_code != 200 or "errors" in response.json():
                failed += 1
        except httpx.HTTPError:
            failed += 1
        latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await one(client)  # open a connection before the clock starts
        latencies.clear()
        tasks = []
        start = time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return Measurement(requests=len(latencies), seconds=elapsed, failed=failed, p50_ms=percentile(latencies, 0.5),
                       p95_ms=percentile(latencies, 0.95), p99_ms=percentile(latencies, 0.99))


@dataclass
class FloodOutcome:
    sent: int = 0
    succeeded: int = 0
    codes: dict[str, int] | None = None


async def flood(url: str, body: dict, *, source: str, rate: float, stop: asyncio.Event,
                max_in_flight: int = 32) -> FloodOutcome:
    """Logins at a fixed rate from one source address (a loopback alias), until `stop`."""
    outcome = FloodOutcome(codes={})
    slots = asyncio.Semaphore(max_in_flight)
    transport = httpx.AsyncHTTPTransport(local_address=source)

    async def one(client: httpx.AsyncClient) -> None:
        try:
            response = await client.post("/graphql", json=body)
            data = response.json()
            if data.get("data") and data["data"].get("login"):
                outcome.succeeded += 1
                code = "OK"
            else:
                code = ((data.get("errors") or [{}])[0].get("extensions") or {}).get("code", str(response.status_code))
        except (httpx.HTTPError, ValueError) as error:
            code = type(error).__name__
        finally:
            slots.release()
        outcome.codes[code] = outcome.codes.get(code, 0) + 1

    async with httpx.AsyncClient(base_url=url, timeout=60, transport=transport) as client:
        tasks = []
        start = time.perf_counter()
        index = 0
        while not stop.is_set():
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break
                except TimeoutError:
                    pass
            await slots.acquire()
            outcome.sent += 1
            tasks.append(asyncio.create_task(one(client)))
            index += 1
        await asyncio.gather(*tasks)
    return outcome

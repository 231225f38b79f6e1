"""How fast the assessment answers on a city-year of data: every agency's scores for the year, one
agency's explanation, the weekly board, each through GraphQL as a city-level assessor, beside a raw
SQL baseline over the same rows measured in the same run.

The data is generated in SQL (generate_series) into a fresh stack: a city of 6 districts and 150
agencies; N referrals over 2025 (a third filed as cases, each with its acknowledgement deadline),
M recommendations on those cases with their reply deadlines (most met, some late, some never) and
rectification checks, and E enforcement cases. Prints the figures; append them to RESULTS.md.

    .venv/bin/python -m bench.assessment [--referrals 1000000] [--recommendations 100000]
                                         [--enforcement 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import asyncpg
import httpx
from shapely.geometry import box, mapping

import devstack
from agencies import service as agencies
from agencies.models import AgencyKind, JurisdictionLevel, Role
from agencies.principal import Principal
from agencies.uscc import check_character
from core import unit_of_work
from geo.geometry import CoordinateSystem

ADMIN = Principal(role=Role.ADMIN, username="bench")
PASSWORD = "bench-password-123"
DISTRICTS = 6
AGENCIES_PER_DISTRICT = 25
BATCH = 200_000
YEAR_START, YEAR_END = "2025-01-01", "2025-12-31"

SCORES = """query { assessment(year: 2025) { agencies { agencyId score rank
  indicators { code value score weight count summary } } } }"""
EXPLANATION = """query($agencyId: ID!, $code: AssessmentIndicatorCode!) {
  assessmentExplanation(agencyId: $agencyId, year: 2025, quarter: 2, code: $code) {
    reference related startedOn dueOn doneOn onTime workingDaysLate note } }"""
BOARD = """query { assessmentBoard(jurisdictionCode: "410100", from: "2025-01-01", to: "2025-12-31") {
  weekStart referralsReceived referralsFiled filingRate recommendationsIssued repliesDue repliesOnTime
  onTimeReplyRate rectified rectificationRate } }"""

RAW_SCORES = """
SELECT agency_id, count(*) FILTER (WHERE entered_on_time) AS hits, count(*) AS n FROM enforcement_case
 WHERE decided_on BETWEEN $1 AND $2 GROUP BY agency_id
UNION ALL
SELECT agency_id, count(*), 0 FROM pil_case WHERE referral_id IS NOT NULL AND filed_on BETWEEN $1 AND $2
 GROUP BY agency_id
UNION ALL
SELECT agency_id, count(*) FILTER (WHERE met_on <= due_on), count(*) FROM deadline
 WHERE subject_kind = 'RECOMMENDATION' AND due_on BETWEEN $1 AND $2 GROUP BY agency_id"""
RAW_EXPLANATION = """SELECT case_number, kind, decided_on, entry_due_on, entered_on, entered_on_time,
  entry_working_days_late FROM enforcement_case WHERE agency_id = $1 AND decided_on BETWEEN $2 AND $3"""
RAW_BOARD = """SELECT date_trunc('week', submitted_at AT TIME ZONE 'Asia/Shanghai') AS week, count(*)
  FROM referral WHERE submitted_at >= $1 AND submitted_at < $2 GROUP BY 1 ORDER BY 1"""

# The agencies in a temp table, numbered, so each generated row picks one by its serial.
LOAD = {
    "referrals": """
INSERT INTO referral (id, agency_id, jurisdiction_id, domain_code, title, facts, geometry, status, submitted_at,
                      submission_fingerprint, harms_state_interests, number)
SELECT gen_random_uuid(), a.id, a.jurisdiction_id, 'ECOLOGY_RESOURCES', '线索 ' || g, '事实', ST_SetSRID(ST_MakePoint(
         113.1 + (g % 997) / 2000.0, 34.3 + (g % 991) / 2000.0), 4326),
       CASE WHEN (g / $3) % 3 = 0 THEN 'CASE_FILED' ELSE 'REGISTERED' END,
       timestamptz '2025-01-01 09:00+08' + (g % 364) * interval '1 day' + (g % 480) * interval '1 minute',
       md5(g::text), true, '线〔2025〕' || g || '号'
FROM generate_series($1::int, $2::int) AS g JOIN bench_agency a ON a.idx = g % $3""",
    "acknowledgements": """
INSERT INTO deadline (id, subject_kind, subject_id, agency_id, jurisdiction_id, rule_code, rule_version, start_on,
                      due_on, provisional, met_on, calendar_version, explanation, created_at)
SELECT gen_random_uuid(), 'REFERRAL', r.id, r.agency_id, r.jurisdiction_id, 'REFERRAL_ACKNOWLEDGEMENT', '2026.1',
       (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date, (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date + 9,
       false, (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date + 3, 'bench', '{}'::jsonb, r.submitted_at
FROM referral r""",
    "cases": """
INSERT INTO pil_case (id, jurisdiction_id, referral_id, agency_id, title, domain_code, facts, geometry,
                      harms_state_interests, kind, status, number, number_year, number_serial, filed_on, filed_at,
                      litigation_filed_on)
SELECT gen_random_uuid(), r.jurisdiction_id, r.id, r.agency_id, r.title, r.domain_code, r.facts, r.geometry, true,
       'ADMINISTRATIVE', 'FILED', '立〔2025〕' || row_number() OVER (), 2025, row_number() OVER (),
       least(date '2025-12-31', (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date + 10), r.submitted_at,
       CASE WHEN random() < 0.02 THEN least(date '2025-12-31', (r.submitted_at AT TIME ZONE 'Asia/Shanghai')::date
                                            + 120) END
FROM referral r WHERE r.status = 'CASE_FILED'""",
    "recommendations": """
INSERT INTO recommendation (id, case_id, jurisdiction_id, agency_id, status, number, urgent, content, measures,
                            legal_basis, issued_on, issued_at, served_on)
SELECT gen_random_uuid(), c.id, c.jurisdiction_id, c.agency_id, 'SERVED', '建〔2025〕' || c.number_serial,
       c.number_serial % 10 = 0, '内容', '措施', '依据', c.filed_on + 5, c.filed_at, c.filed_on + 8
FROM pil_case c WHERE c.number_serial % greatest(1, (SELECT count(*) FROM pil_case) / $1) = 0 LIMIT $1""",
    "replies": """
INSERT INTO deadline (id, subject_kind, subject_id, agency_id, jurisdiction_id, rule_code, rule_version, start_on,
                      due_on, provisional, met_on, calendar_version, explanation, created_at)
SELECT gen_random_uuid(), 'RECOMMENDATION', r.id, r.agency_id, r.jurisdiction_id,
       CASE WHEN r.urgent THEN 'RECOMMENDATION_REPLY_URGENT' ELSE 'RECOMMENDATION_REPLY' END, '2020.1', r.served_on,
       r.served_on + CASE WHEN r.urgent THEN 15 ELSE 61 END, false,
       CASE WHEN random() < 0.9 THEN r.served_on + (random() * 75)::int END, 'bench', '{}'::jsonb, r.issued_at
FROM recommendation r""",
    "checks": """
INSERT INTO rectification_check (id, recommendation_id, agency_id, jurisdiction_id, result, checked_on, findings,
                                 location, open_items, recorded_at, actor_name)
SELECT gen_random_uuid(), r.id, r.agency_id, r.jurisdiction_id,
       (ARRAY['RECTIFIED', 'RECTIFIED', 'PARTIAL', 'NOT_RECTIFIED'])[1 + (random() * 3)::int],
       r.served_on + 70 + (random() * 30)::int, '检查', ST_SetSRID(ST_MakePoint(113.2, 34.5), 4326), '[]'::jsonb,
       r.issued_at, 'bench'
FROM recommendation r WHERE random() < 0.7""",
    "enforcement": """
INSERT INTO enforcement_case (id, agency_id, jurisdiction_id, case_number, kind, domain_code, decided_on, amount,
                              summary, entered_on, entered_at, entry_due_on, entered_on_time, entry_working_days_late,
                              entry_rule_version, entry_calendar_version, entry_provisional, content_fingerprint,
                              actor_name)
SELECT gen_random_uuid(), a.id, a.jurisdiction_id, '罚〔2025〕' || g || '号', 'PENALTY', 'ECOLOGY_RESOURCES', d.decided,
       (g % 100000) + 0.5, '摘要', d.decided + d.delay, now(), d.decided + 9, d.delay <= 9, greatest(0, d.delay - 9),
       '2026.1', 'bench', false, md5(g::text), 'bench'
FROM generate_series($1::int, $2::int) AS g JOIN bench_agency a ON a.idx = g % $3
CROSS JOIN LATERAL (SELECT date '2025-01-01' + (g % 365) AS decided, (g % 13) AS delay) AS d""",
}


logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would drown the figures


def log(message: str) -> None:
    print(message, flush=True)


async def timed(runs: int, work) -> tuple[float, float]:
    """(median, slowest) in milliseconds of `runs` runs after one warm-up."""
    await work()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


async def build_world(session) -> None:
    async def jurisdiction(code, name, level, bounds, parent):
        await agencies.create_jurisdiction(session, principal=ADMIN, data=agencies.NewJurisdiction(
            code=code, name=name, level=level, boundary=mapping(box(*bounds)), crs=CoordinateSystem.WGS84,
            parent_code=parent, procuratorate_name=f"{name}人民检察院"))

    await jurisdiction("410100", "测试市", JurisdictionLevel.CITY, (113.0, 34.0, 114.0, 35.0), None)
    for district in range(DISTRICTS):
        code = f"41010{district + 1}"
        west = 113.0 + district / DISTRICTS
        await jurisdiction(code, f"{district + 1}区", JurisdictionLevel.DISTRICT, (west, 34.0, west + 1 / DISTRICTS,
                                                                                  35.0), "410100")
        for serial in range(AGENCIES_PER_DISTRICT):
            first17 = f"11{code}MB{district * 100 + serial:07d}"
            agency = await agencies.create_agency(session, principal=ADMIN, name=f"{district + 1}区机关{serial}",
                                                  kind=AgencyKind.NATURAL_RESOURCES, uscc=first17 + check_character(
                                                      first17), jurisdiction_code=code)
            if district == 0 and serial == 0:
                await agencies.create_user(session, principal=ADMIN, data=agencies.NewUser(
                    username="liaison", display_name="liaison", password=PASSWORD, role=Role.AGENCY_LIAISON,
                    agency_id=str(agency.id)))
    await agencies.create_user(session, principal=ADMIN, data=agencies.NewUser(
        username="assessor", display_name="assessor", password=PASSWORD, role=Role.ASSESSOR,
        jurisdiction_code="410100"))


async def load(dsn: str, referrals: int, recommendations: int, enforcement: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TABLE bench_agency AS SELECT row_number() OVER (ORDER BY uscc) - 1 AS idx, "
                                 "id, jurisdiction_id FROM agency")
        agencies_count = await connection.fetchval("SELECT count(*) FROM bench_agency")

        async def step(name: str, statement: str, *arguments) -> None:
            started = time.monotonic()
            result = await connection.execute(statement, *arguments)
            log(f"  {name}: {result.split()[-1]} rows in {time.monotonic() - started:.1f}s")

        for first in range(1, referrals + 1, BATCH):
            await step("referrals", LOAD["referrals"], first, min(first + BATCH - 1, referrals), agencies_count)
        await step("acknowledgement deadlines", LOAD["acknowledgements"])
        await step("cases", LOAD["cases"])
        await step("recommendations", LOAD["recommendations"], recommendations)
        await step("reply deadlines", LOAD["replies"])
        await step("rectification checks", LOAD["checks"])
        for first in range(1, enforcement + 1, BATCH):
            await step("enforcement cases", LOAD["enforcement"], first, min(first + BATCH - 1, enforcement),
                       agencies_count)
        await connection.execute("DROP TABLE bench_agency")
        started = time.monotonic()
        await connection.execute("VACUUM ANALYZE")
        log(f"  VACUUM ANALYZE in {time.monotonic() - started:.1f}s")
    finally:
        await connection.close()


async def explain_scores(resources) -> None:
    """Print the plan of the year's scoring statement, as run (EXPLAIN ANALYZE)."""
    from datetime import date as day

    from sqlalchemy import text

    from assessment import scoring
    from assessment.service import current_rubric, rubric_of

    async with resources.session_factory() as session:
        await session.execute(text("SET statement_timeout = 0"))
        rubric = rubric_of(await current_rubric(session))
        jurisdictions = list(await session.scalars(text("SELECT id FROM jurisdiction")))
        statement, parameters = scoring.scores_statement(rubric, scoring.window(2025, 0, day.today()), jurisdictions)
        plan = await session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement), parameters)
        log("\n".join(row[0] for row in plan))


async def run(referrals: int, recommendations: int, enforcement: int, runs: int, explain: bool) -> None:
    stack = devstack.start_test_stack(Path(tempfile.mkdtemp(prefix="bench-assessment-")))
    os.environ.update(stack.env)
    try:
        from app.main import create_app
        from app.manage import migrate
        from app.settings import Settings
        from assessment.service import load_rubric_file

        settings = Settings()
        await asyncio.to_thread(migrate, settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            resources = app.state.resources
            async with resources.session_factory() as session:
                await build_world(session)
                await load_rubric_file(session, principal=ADMIN)
                await unit_of_work.commit(session)
            dsn = settings.db.url.replace("postgresql+asyncpg://", "postgresql://")
            started = time.monotonic()
            log(f"loading {referrals:,} referrals, {recommendations:,} recommendations, {enforcement:,} "
                "enforcement cases")
            await load(dsn, referrals, recommendations, enforcement)
            log(f"loaded in {time.monotonic() - started:.0f}s")
            if explain:
                await explain_scores(resources)
            await report(app, dsn, runs, (referrals, recommendations, enforcement))
    finally:
        stack.stop()


async def report(app, dsn: str, runs: int, sizes: tuple[int, int, int]) -> None:
    raw = await asyncpg.connect(dsn)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
        async def token(username: str) -> str:
            body = (await client.post("/graphql", json={"query": "mutation($u: String!, $p: String!) { login("
                                                                 "username: $u, password: $p) { token } }",
                                                        "variables": {"u": username, "p": PASSWORD}})).json()
            return body["data"]["login"]["token"]

        headers = {"Authorization": f"Bearer {await token('assessor')}"}

        async def ask(query: str, variables: dict | None = None) -> dict:
            body = (await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                      headers=headers)).json()
            if "errors" in body:
                raise RuntimeError(body["errors"])
            return body["data"]

        scores = (await ask(SCORES))["assessment"]["agencies"]
        def busiest(code: str) -> str:
            return max(scores, key=lambda row: next(item["count"] for item in row["indicators"]
                                                    if item["code"] == code))["agencyId"]

        rows = []
        ours = await timed(runs, lambda: ask(SCORES))
        baseline = await timed(runs, lambda: raw.fetch(RAW_SCORES, date(2025, 1, 1), date(2025, 12, 31)))
        rows.append(("all agencies' scores for 2025 (150 agencies, 6 indicators)", ours, baseline, 2000))
        for code in ("ENFORCEMENT_TIMELINESS", "REPLY_ON_TIME", "RECTIFICATION"):
            agency_id = busiest(code)
            count = len((await ask(EXPLANATION, {"agencyId": agency_id, "code": code}))["assessmentExplanation"])
            ours = await timed(runs, lambda code=code, agency_id=agency_id: ask(
                EXPLANATION, {"agencyId": agency_id, "code": code}))
            baseline = await timed(runs, lambda agency_id=agency_id: raw.fetch(RAW_EXPLANATION, uuid.UUID(agency_id),
                                                            date(2025, 4, 1), date(2025, 6, 30)))
            rows.append((f"one agency's explanation, Q2 {code} ({count} records)", ours, baseline, 100))
        ours = await timed(runs, lambda: ask(BOARD))
        baseline = await timed(runs, lambda: raw.fetch(RAW_BOARD, datetime(2024, 12, 30, tzinfo=timezone.utc),
                                                        datetime(2026, 1, 5, tzinfo=timezone.utc)))
        rows.append(("weekly board of the city for 2025 (53 weeks)", ours, baseline, 500))
    await raw.close()
    referrals, recommendations, enforcement = sizes
    log(f"\n### Assessment on a city-year ({referrals:,} referrals, {recommendations:,} recommendations, "
        f"{enforcement:,} enforcement cases)\n")
    log(f"{platform.machine()}, {os.cpu_count()} cores shared, {platform.python_implementation()} "
        f"{platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; median and slowest of "
        f"{runs} runs after a warm-up; GraphQL in-process (ASGI) as a city assessor; the baseline is raw asyncpg "
        "over the same rows (see bench/assessment.py).\n")
    log("| operation | ours median ms | ours max ms | raw SQL median ms | ours / raw | target ms | met |")
    log("|---|---:|---:|---:|---:|---:|---:|")
    for name, (median, slowest), (raw_median, _), target in rows:
        log(f"| {name} | {median:.1f} | {slowest:.1f} | {raw_median:.1f} | {median / raw_median:.1f}× | {target} | "
            f"{'yes' if median < target else '**no**'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--recommendations", type=int, default=100_000)
    parser.add_argument("--enforcement", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the plan of the scoring statement first")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.referrals, arguments.recommendations, arguments.enforcement, arguments.runs,
                    arguments.explain))


if __name__ == "__main__":
    main()

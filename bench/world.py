"""The bench's world: jurisdictions, agencies and accounts made through the public GraphQL API,
one template referral per agency submitted through it, then a bulk copy of those templates to N
referrals (a third of them with an evidence row pointing at a dummy object key).

Four cities side by side over a province-sized extent (Henan: lon 110.3–116.6, lat 31.4–36.4),
two districts each, three agencies per district; the compared scope is the first city's
prosecutor, who sees a quarter of the referrals.
"""

from __future__ import annotations

import json
import secrets
import struct
import time
import zlib
from dataclasses import dataclass, field

import asyncpg
import httpx

from bench.sql import clone_statement, table_columns

EXTENT = (110.3, 31.4, 116.6, 36.4)
CITY_CODES = ("410100", "410200", "410300", "410400")
AGENCY_KINDS = ("NATURAL_RESOURCES", "ECOLOGY_ENVIRONMENT", "WATER_RESOURCES")
PASSWORD = "bench-password-2026"
PROSECUTOR = "bench.city-prosecutor"
FLOOD_TARGET = "bench.flood-target"
EVIDENCE_SHARE = 0.3
BATCH = 100_000

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
SUBMIT = ("mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) "
          "{ submitReferral(input: $input, evidence: $evidence) { id evidence { id sizeBytes } } }")


class BenchError(RuntimeError):
    pass


@dataclass
class District:
    code: str
    bounds: tuple[float, float, float, float]
    agency_ids: list[str] = field(default_factory=list)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.bounds[0] + self.bounds[2]) / 2, (self.bounds[1] + self.bounds[3]) / 2)


@dataclass
class World:
    admin_token: str
    prosecutor_token: str
    liaison_tokens: dict[str, str]  # agency id -> token of its liaison
    districts: list[District]
    domain: str
    scope_jurisdiction_ids: list[str]  # what the prosecutor sees: the first city and its districts
    template_referral_ids: list[str]
    evidence_template_id: str


def tiny_png(extra: bytes = b"") -> bytes:
    """A valid 1×1 PNG (what the type sniffer wants to see first), optionally followed by bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
            + chunk(b"IEND", b"") + extra)


def uscc(division: str, serial: int) -> str:
    from agencies.uscc import check_character

    first17 = f"11{division}MB{serial:07d}"
    return first17 + check_character(first17)


def box(bounds: tuple[float, float, float, float]) -> dict:
    x0, y0, x1, y1 = bounds
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


async def graphql(client: httpx.AsyncClient, query: str, variables: dict | None = None,
                  token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    if response.status_code != 200 or body is None or body.get("errors"):
        raise BenchError(f"GraphQL call failed ({response.status_code}): {response.text[:500]}\n{query[:200]}")
    return body["data"]


async def login(client: httpx.AsyncClient, username: str) -> str:
    return (await graphql(client, LOGIN, {"u": username, "p": PASSWORD}))["login"]["token"]


async def build(client: httpx.AsyncClient, admin_username: str,
                extent: tuple[float, float, float, float] = EXTENT) -> World:
    """Jurisdictions, agencies, accounts and one template referral per agency, via GraphQL, the
    four cities side by side over `extent`."""
    admin = await login(client, admin_username)
    x0, y0, x1, y1 = extent
    city_width = (x1 - x0) / len(CITY_CODES)
    districts: list[District] = []
    procuratorates: dict[str, str] = {}
    scope: list[str] = []
    create_jurisdiction = ("mutation($input: CreateJurisdictionInput!) "
                           "{ createJurisdiction(input: $input) { id code procuratorate { id } } }")
    for index, city in enumerate(CITY_CODES):
        city_bounds = (x0 + index * city_width, y0, x0 + (index + 1) * city_width, y1)
        made = await graphql(client, create_jurisdiction, {"input": {
            "code": city, "name": f"基准市{index + 1}", "level": "CITY", "boundary": box(city_bounds),
            "procuratorateName": f"基准市{index + 1}人民检察院"}}, admin)
        procuratorates[city] = made["createJurisdiction"]["procuratorate"]["id"]
        if index == 0:
            scope.append(made["createJurisdiction"]["id"])
        middle = (y0 + y1) / 2
        for half, (low, high) in enumerate(((y0, middle), (middle, y1))):
            code = f"{city[:4]}{half + 2:02d}"
            bounds = (city_bounds[0], low, city_bounds[2], high)
            made = await graphql(client, create_jurisdiction, {"input": {
                "code": code, "name": f"基准市{index + 1}第{half + 1}区", "level": "DISTRICT",
                "boundary": box(bounds), "parentCode": city,
                "procuratorateName": f"基准市{index + 1}第{half + 1}区人民检察院"}}, admin)
            if index == 0:
                scope.append(made["createJurisdiction"]["id"])
            districts.append(District(code=code, bounds=bounds))

    create_agency = "mutation($input: CreateAgencyInput!) { createAgency(input: $input) { id } }"
    create_user = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
    liaisons: dict[str, str] = {}
    serial = 0
    for district in districts:
        for kind in AGENCY_KINDS:
            serial += 1
            agency_id = (await graphql(client, create_agency, {"input": {
                "name": f"{district.code}{kind.lower()}", "kind": kind, "uscc": uscc(district.code, serial),
                "jurisdictionCode": district.code}}, admin))["createAgency"]["id"]
            district.agency_ids.append(agency_id)
            username = f"bench.liaison-{serial}"
            await graphql(client, create_user, {"input": {
                "username": username, "displayName": username, "password": PASSWORD,
                "role": "AGENCY_LIAISON", "agencyId": agency_id}}, admin)
            liaisons[agency_id] = username
    await graphql(client, create_user, {"input": {
        "username": PROSECUTOR, "displayName": PROSECUTOR, "password": PASSWORD, "role": "PROSECUTOR",
        "procuratorateId": procuratorates[CITY_CODES[0]]}}, admin)
    await graphql(client, create_user, {"input": {
        "username": FLOOD_TARGET, "displayName": FLOOD_TARGET, "password": PASSWORD, "role": "AGENCY_LIAISON",
        "agencyId": districts[0].agency_ids[0]}}, admin)

    domains = await graphql(client, "{ referralDomains { code } }", token=admin)
    domain = domains["referralDomains"][0]["code"]
    tokens = {agency_id: await login(client, username) for agency_id, username in liaisons.items()}
    templates: list[str] = []
    evidence_template = ""
    for district in districts:
        for agency_id in district.agency_ids:
            variables = {"input": point_submission(domain, district.centre, f"template-{agency_id}")}
            if not evidence_template:
                response = await upload_small(client, variables, tokens[agency_id])
                made = response["submitReferral"]
                evidence_template = made["evidence"][0]["id"]
            else:
                made = (await graphql(client, SUBMIT, variables, tokens[agency_id]))["submitReferral"]
            templates.append(made["id"])
    prosecutor = await login(client, PROSECUTOR)
    return World(admin_token=admin, prosecutor_token=prosecutor, liaison_tokens=tokens, districts=districts,
                 domain=domain, scope_jurisdiction_ids=scope, template_referral_ids=templates,
                 evidence_template_id=evidence_template)


def point_submission(domain: str, point: tuple[float, float], key: str) -> dict:
    return {"domain": domain, "title": "基准线索", "facts": "基准测试提交的线索。",
            "geometry": {"type": "Point", "coordinates": list(point)}, "idempotencyKey": key}


async def upload_small(client: httpx.AsyncClient, variables: dict, token: str) -> dict:
    variables = {**variables, "evidence": [{"file": None, "description": "基准照片"}]}
    form = {"operations": json.dumps({"query": SUBMIT, "variables": variables}),
            "map": json.dumps({"0": ["variables.evidence.0.file"]})}
    png = tiny_png(secrets.token_bytes(64))
    response = await client.post("/graphql", data=form, files={"0": ("site.png", png, "image/png")},
                                 headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise BenchError(f"upload of the evidence template failed: {response.text[:500]}")
    return body["data"]


async def bulk_load(dsn: str, world: World, count: int, log) -> None:
    """Copy the template referrals to `count` referrals spread over the districts, newest first
    being the templates; a share of them get one evidence row each; then VACUUM ANALYZE."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TEMP TABLE bench_template (idx int, id uuid, minx float8, miny float8,"
                                 " maxx float8, maxy float8)")
        bounds = {agency: d.bounds for d in world.districts for agency in d.agency_ids}
        rows = []
        for index, template_id in enumerate(world.template_referral_ids):
            agency_id = await connection.fetchval("SELECT agency_id::text FROM referral WHERE id = $1::uuid",
                                                  template_id)
            rows.append((index, template_id, *bounds[agency_id]))
        await connection.executemany("INSERT INTO bench_template VALUES ($1, $2::uuid, $3, $4, $5, $6)", rows)
        columns = await table_columns(connection, "referral")
        insert = clone_statement("referral", columns, {
            "id": "gen_random_uuid()",
            "title": "'线索 ' || g",
            "idempotency_key": "'bulk-' || g",
            "submitted_at": "now() - g * interval '31 seconds'",
            # 70% points, the rest squares of about 100–500 m.
            "geometry": "CASE WHEN p.shape < 0.7 THEN ST_SetSRID(ST_MakePoint(p.x, p.y), 4326) ELSE "
                        "ST_SetSRID(ST_Expand(ST_MakePoint(p.x, p.y), 0.0005 + (p.shape - 0.7) * 0.007), 4326) END",
        }, source=f"""generate_series($1::int, $2::int) AS g
            JOIN bench_template b ON b.idx = g % {len(rows)}
            JOIN referral t ON t.id = b.id
            CROSS JOIN LATERAL (SELECT b.minx + random() * (b.maxx - b.minx) + 0 * g AS x,
                                       b.miny + random() * (b.maxy - b.miny) AS y,
                                       random() AS shape) p""")
        started = time.monotonic()
        for first in range(1, count + 1, BATCH):
            last = min(first + BATCH - 1, count)
            await connection.execute(insert, first, last)
            log(f"  referrals {last:,}/{count:,} ({last / (time.monotonic() - started):,.0f} rows/s)")
        evidence_columns = await table_columns(connection, "evidence")
        overrides = {"id": "gen_random_uuid()", "referral_id": "r.id", "object_key": "'bench-dummy/' || r.id",
                     "uploaded_at": "r.submitted_at", "created_at": "r.submitted_at",
                     # Columns the evidence table may gain (its own owner and scope): follow the referral.
                     "owner_id": "r.id", "agency_id": "r.agency_id", "jurisdiction_id": "r.jurisdiction_id"}
        await connection.execute(clone_statement("evidence", evidence_columns, overrides, source=(
            "referral r JOIN evidence t ON t.id = $1::uuid "
            f"WHERE r.idempotency_key LIKE 'bulk-%' AND random() < {EVIDENCE_SHARE}")), world.evidence_template_id)
        log(f"  evidence rows: {await connection.fetchval('SELECT count(*) FROM evidence'):,}")
        log("  VACUUM ANALYZE")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def create_scoped_role(dsn: str, role: str, password: str, jurisdiction_ids: list[str]) -> None:
    """A login role that sees, through row-level security, the referrals the prosecutor sees.

    The app connects as the table owner, which row-level security does not affect."""
    connection = await asyncpg.connect(dsn)
    try:
        ids = ",".join(jurisdiction_ids)
        await connection.execute(f"""
            CREATE ROLE "{role}" LOGIN PASSWORD '{password}';
            GRANT USAGE ON SCHEMA public TO "{role}";
            GRANT SELECT ON referral, agency, evidence TO "{role}";
            ALTER TABLE referral ENABLE ROW LEVEL SECURITY;
            CREATE POLICY bench_scope ON referral FOR SELECT TO "{role}"
                USING (jurisdiction_id = ANY ('{{{ids}}}'::uuid[]));
        """)
    finally:
        await connection.close()

"""How long importing enforcement cases takes: a file of N rows (100k by default) written to disk,
uploaded through GraphQL (multipart, streamed from the file) into a fresh stack, timed end to end.
Prints the figures; it writes nothing to RESULTS.md.

    .venv/bin/python -m bench.enforcement_import [--rows 100000] [--format csv|xlsx] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import json
import os
import pstats
import resource
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

import httpx

import devstack
from agencies import service as agencies
from agencies.models import AgencyKind, JurisdictionLevel, Role
from agencies.principal import Principal
from agencies.uscc import check_character as uscc_check
from core import unit_of_work
from enforcement.importer import COLUMNS
from geo.geometry import CoordinateSystem
from parties.identity import check_character

ADMIN = Principal(role=Role.ADMIN, username="bench")
PASSWORD = "bench-password-123"
IMPORT = """mutation($file: Upload!) { importEnforcementCases(file: $file) {
  accepted rows created unchanged errorCount errors { row column code message } } }"""


def person(serial: int) -> str:
    first17 = f"410101198{serial % 10}0101{serial % 1000:03d}"
    return first17 + check_character(first17)


def write_rows(path: Path, rows: int, fmt: str) -> None:
    """Rows like an agency's year: a third with a person (identity number), a third with an
    enterprise, a third with a point; decisions spread over 2025."""
    enterprise = "91410101MA47BENCH" + uscc_check("91410101MA47BENCH")

    def values(serial: int) -> list:
        kind = serial % 3
        return [f"罚-{serial}", "PENALTY" if serial % 2 else "INSPECTION", "ECOLOGY_RESOURCES",
                date(2025, 1 + serial % 12, 1 + serial % 28).isoformat(), f"{serial % 100000}.50",
                f"第{serial}号案件：非法占用耕地，责令恢复原状并处罚款。",
                "PERSON" if kind == 0 else "ENTERPRISE" if kind == 1 else "",
                f"当事人{serial}" if kind < 2 else "", person(serial) if kind == 0 else "",
                enterprise if kind == 1 else "", "违法行为人" if kind < 2 else "",
                f"{113.1 + (serial % 1000) / 10000:.6f}" if kind == 2 else "",
                f"{34.5 + (serial % 1000) / 10000:.6f}" if kind == 2 else "", "WGS84" if kind == 2 else ""]

    headers = [column.header for column in COLUMNS]
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(headers)
            for serial in range(rows):
                writer.writerow(values(serial))
        return
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for serial in range(rows):
        sheet.append(values(serial))
    workbook.save(path)


async def run(rows: int, fmt: str, profile: bool) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-enforcement-"))
    stack = devstack.start_test_stack(base)
    os.environ.update(stack.env)
    try:
        from app.main import create_app
        from app.manage import migrate
        from app.settings import Settings

        settings = Settings()
        await asyncio.to_thread(migrate, settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            resources = app.state.resources
            async with resources.session_factory() as session:
                from shapely.geometry import box, mapping
                await agencies.create_jurisdiction(session, principal=ADMIN, data=agencies.NewJurisdiction(
                    code="410101", name="一区", level=JurisdictionLevel.DISTRICT,
                    boundary=mapping(box(113.0, 34.0, 113.5, 35.0)), crs=CoordinateSystem.WGS84, parent_code=None,
                    procuratorate_name="一区人民检察院"))
                first17 = "11410101MB0000001"
                agency = await agencies.create_agency(session, principal=ADMIN, name="机关", uscc=first17 + uscc_check(first17),
                                                      kind=AgencyKind.NATURAL_RESOURCES, jurisdiction_code="410101")
                await agencies.create_user(session, principal=ADMIN, data=agencies.NewUser(
                    username="liaison", display_name="liaison", password=PASSWORD, role=Role.AGENCY_LIAISON,
                    agency_id=str(agency.id)))
                await unit_of_work.commit(session)
            path = base / f"cases.{fmt}"
            started = time.monotonic()
            write_rows(path, rows, fmt)
            print(f"wrote {rows} rows, {path.stat().st_size / 1e6:.1f} MB, in {time.monotonic() - started:.1f}s")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
                login = await client.post("/graphql", json={"query": "mutation { login(username: \"liaison\", "
                                                                     f"password: \"{PASSWORD}\") {{ token }} }}"})
                token = login.json()["data"]["login"]["token"]
                profiler = cProfile.Profile() if profile else None
                for attempt in ("first import", "same file again"):
                    with path.open("rb") as file:
                        started = time.monotonic()
                        if profiler and attempt == "first import":
                            profiler.enable()
                        response = await client.post(
                            "/graphql", headers={"Authorization": f"Bearer {token}"},
                            data={"operations": json.dumps({"query": IMPORT, "variables": {"file": None}}),
                                  "map": json.dumps({"0": ["variables.file"]})},
                            files={"0": (path.name, file, "application/octet-stream")})
                        if profiler and attempt == "first import":
                            profiler.disable()
                        elapsed = time.monotonic() - started
                    report = response.json()["data"]["importEnforcementCases"]
                    print(f"{attempt}: {elapsed:.1f}s, accepted={report['accepted']} created={report['created']} "
                          f"unchanged={report['unchanged']} errors={report['errorCount']}")
                if profiler:
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of the process (generator included): {peak:.0f} MB; "
              f"at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.rows, arguments.format, arguments.profile))


if __name__ == "__main__":
    main()

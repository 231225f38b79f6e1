"""Test harness: real PostGIS and a real S3 endpoint, started once for the run (devstack), the
app served in-process through its ASGI interface, and a small world of jurisdictions, agencies
and accounts built once through the services. Each test then starts from that world: what a test
adds is deleted after it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from minio.deleteobjects import DeleteObject
from shapely.geometry import box, mapping
from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

import devstack
from agencies import service as agencies
from agencies.models import AgencyKind, JurisdictionLevel, Role
from agencies.principal import Principal
from agencies.uscc import check_character
from app.models import metadata
from app.settings import Settings
from core import unit_of_work
from geo.geometry import CoordinateSystem

PASSWORD = "test-password-123"
ADMIN = Principal(role=Role.ADMIN, username="test-setup")
# Tables emptied after every test; the world's own tables are trimmed back to the world instead.
WORLD_TABLES = ("user_account", "agency", "procuratorate", "jurisdiction")
# Data every installation has from its migrations (tests that change the calendar restore it).
REFERENCE_TABLES = ("referral_domain", "calendar_year", "calendar_day")
TRANSIENT_TABLES = tuple(table.name for table in metadata.sorted_tables
                         if table.name not in WORLD_TABLES + REFERENCE_TABLES)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[devstack.TestStack]:
    test_stack = devstack.start_test_stack(tmp_path_factory.mktemp("stack"))
    previous = {key: os.environ.get(key) for key in test_stack.env}
    os.environ.update(test_stack.env)
    try:
        yield test_stack
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        test_stack.stop()


@pytest.fixture(scope="session")
def settings(stack) -> Settings:
    from app.manage import migrate

    test_settings = Settings()
    migrate(test_settings)
    return test_settings


@pytest.fixture(scope="session")
async def app(settings):
    from app.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await application.state.resources.store.ensure_bucket()
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http_client:
        yield http_client


@pytest.fixture
def resources(app):
    return app.state.resources


def uscc(division: str, serial: int) -> str:
    first17 = f"11{division}MB{serial:07d}"
    return first17 + check_character(first17)


# A place in each liaison's own district: a referral goes where it lies (geo.placement).
HOME = {"liaison-a": (113.2, 34.5), "liaison-b": (113.2, 34.5), "liaison-c": (113.7, 34.5)}


def home(user: str = "liaison-a") -> dict:
    """A point in the district of `user`'s agency (district 1 for every other account)."""
    return {"type": "Point", "coordinates": list(HOME.get(user, HOME["liaison-a"]))}


@dataclass
class World:
    """What every test can rely on. Agencies A and B are in district 1 (410101: 113.0–113.5°E,
    34.2–35.0°N), C in district 2 (410102: 113.5–114.0°E); both in the city 410100 (113–114°E,
    34–35°N)."""

    created_at: datetime
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
async def world(app) -> World:
    resources = app.state.resources
    async with resources.session_factory() as session:
        await session.execute(text("TRUNCATE " + ", ".join(TRANSIENT_TABLES + WORLD_TABLES) + " CASCADE"))
        built = World(created_at=datetime.now(timezone.utc))

        async def jurisdiction(code, name, level, bounds, parent):
            row = await agencies.create_jurisdiction(session, principal=ADMIN, data=agencies.NewJurisdiction(
                code=code, name=name, level=level, boundary=mapping(box(*bounds)), crs=CoordinateSystem.WGS84,
                parent_code=parent, procuratorate_name=f"{name}人民检察院"))
            procuratorate = await agencies.procuratorates_by_jurisdiction(session, [row.id])
            built.ids[f"procuratorate:{code}"] = str(procuratorate[row.id].id)
            return row

        await jurisdiction("410100", "测试市", JurisdictionLevel.CITY, (113.0, 34.0, 114.0, 35.0), None)
        # The city's southern strip (34.0–34.2°N) is in no district yet: room for a new one.
        await jurisdiction("410101", "一区", JurisdictionLevel.DISTRICT, (113.0, 34.2, 113.5, 35.0), "410100")
        await jurisdiction("410102", "二区", JurisdictionLevel.DISTRICT, (113.5, 34.2, 114.0, 35.0), "410100")
        for name, district, serial in (("A", "410101", 1), ("B", "410101", 2), ("C", "410102", 3)):
            agency = await agencies.create_agency(session, principal=ADMIN, name=f"机关{name}",
                                                  kind=AgencyKind.NATURAL_RESOURCES,
                                                  uscc=uscc(district, serial), jurisdiction_code=district)
            built.ids[f"agency:{name}"] = str(agency.id)

        async def user(username, role, **binding):
            row = await agencies.create_user(session, principal=ADMIN, data=agencies.NewUser(
                username=username, display_name=username, password=PASSWORD, role=role, **binding))
            built.ids[f"user:{username}"] = str(row.id)

        await user("admin", Role.ADMIN)
        await user("liaison-a", Role.AGENCY_LIAISON, agency_id=built.ids["agency:A"])
        await user("liaison-b", Role.AGENCY_LIAISON, agency_id=built.ids["agency:B"])
        await user("liaison-c", Role.AGENCY_LIAISON, agency_id=built.ids["agency:C"])
        await user("prosecutor-1", Role.PROSECUTOR, procuratorate_id=built.ids["procuratorate:410101"])
        await user("prosecutor-2", Role.PROSECUTOR, procuratorate_id=built.ids["procuratorate:410102"])
        await user("prosecutor-city", Role.PROSECUTOR, procuratorate_id=built.ids["procuratorate:410100"])
        await user("assessor-1", Role.ASSESSOR, jurisdiction_code="410101")
        await unit_of_work.commit(session)
        built.created_at = datetime.now(timezone.utc)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http_client:
        for username in ("admin", "liaison-a", "liaison-b", "liaison-c", "prosecutor-1", "prosecutor-2",
                         "prosecutor-city", "assessor-1"):
            body = await graphql(http_client, LOGIN, {"username": username, "password": PASSWORD})
            built.tokens[username] = body["data"]["login"]["token"]
    return built


@pytest.fixture
async def rubric(resources, world) -> int:
    """The default assessment rubric loaded, as `prepare` loads it; its version."""
    from assessment.service import load_rubric_file

    async with resources.session_factory() as session:
        row, _ = await load_rubric_file(session, principal=ADMIN)
        await unit_of_work.commit(session)
    return row.version


@pytest.fixture(autouse=True)
async def _reset_to_world(request) -> AsyncIterator[None]:
    yield
    if "world" not in request.fixturenames:
        return
    world: World = request.getfixturevalue("world")
    resources = request.getfixturevalue("app").state.resources
    async with resources.session_factory() as session:
        await session.execute(text("TRUNCATE " + ", ".join(TRANSIENT_TABLES) + " CASCADE"))
        for table in WORLD_TABLES:
            await session.execute(text(f"DELETE FROM {table} WHERE created_at > :t"), {"t": world.created_at})
        # Back to the versions the world's tokens were issued with.
        await session.execute(text("UPDATE user_account SET is_active = true, token_version = 0"))
        await session.commit()
    empty_bucket(resources.store)


def empty_bucket(store) -> None:
    """Remove every version of every object, lifting the evidence legal holds first."""
    items = list(store.client.list_objects(store.bucket, recursive=True, include_version=True))
    for item in items:
        if not item.is_delete_marker:
            store.client.disable_object_legal_hold(store.bucket, item.object_name, item.version_id)
    versions = [DeleteObject(item.object_name, item.version_id) for item in items]
    if versions:
        errors = list(store.client.remove_objects(store.bucket, versions))
        assert not errors, errors


LOGIN = "mutation($username: String!, $password: String!) { login(username: $username, password: $password) { token } }"


async def graphql(client: httpx.AsyncClient, query: str, variables: dict | None = None,
                  token: str | None = None, **headers: str) -> dict:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def graphql_upload(client: httpx.AsyncClient, query: str, variables: dict,
                         files: dict[str, tuple[str, bytes, str]], token: str | None) -> httpx.Response:
    """A request in the GraphQL multipart request spec: `files` maps a variable path (e.g.
    `variables.evidence.0.file`) to (filename, content, declared content type)."""
    names = {str(index): path for index, path in enumerate(files)}
    form = {"operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({name: [path] for name, path in names.items()})}
    upload = {name: files[path] for name, path in names.items()}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", data=form, files=upload, headers=headers)


@contextmanager
def count_statements(engine: AsyncEngine | Engine) -> Iterator[list[str]]:
    """The SQL statements sent through `engine` (e.g. `app.state.resources.engine`) while the block
    runs, in order."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)


def error_codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def new_id() -> str:
    return str(uuid.uuid4())


ROOT = Path(__file__).resolve().parent.parent

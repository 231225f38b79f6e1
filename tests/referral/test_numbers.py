"""Document numbers: 代字〔年〕序号号 per procuratorate, kind and year, never duplicated and never
skipped, under concurrent registrations and rolled-back transactions alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text

from agencies.service import default_document_code
from core import clock
from core.numbering import DocumentKind, allocate_number
from tests.conftest import ROOT, error_codes, graphql, home

SUBMIT = "mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id number } }"
REGISTER = "mutation($id: ID!) { registerReferral(id: $id) { status number } }"
NUMBER = "query($id: ID!) { referral(id: $id) { status number } }"


async def submitted(client, world, user="liaison-a", title="国有资产低价处置") -> str:
    body = await graphql(client, SUBMIT, {"input": {"domain": "STATE_PROPERTY", "title": title, "facts": "事实",
                                                    "geometry": home(user)}},
                         world.tokens[user])
    assert body["data"]["submitReferral"]["number"] is None  # not before registration
    return body["data"]["submitReferral"]["id"]


def registration(code: str, serial: int, year: int | None = None) -> str:
    return f"{code}公益线〔{year or clock.today().year}〕{serial}号"


async def test_thirty_concurrent_registrations_take_one_to_thirty(client, world):
    ids = [await submitted(client, world, user) for user in ("liaison-a", "liaison-b") * 15]
    # District and city prosecutors at once: a district's clue takes the district's numbers,
    # whoever registers it.
    answers = await asyncio.gather(*(
        graphql(client, REGISTER, {"id": referral_id}, world.tokens[("prosecutor-1", "prosecutor-city")[i % 2]])
        for i, referral_id in enumerate(ids)))
    assert [error_codes(body) for body in answers] == [[]] * 30
    numbers = [body["data"]["registerReferral"]["number"] for body in answers]
    assert sorted(numbers, key=lambda number: int(number.split("〕")[1][:-1])) == \
        [registration("一检", serial) for serial in range(1, 31)]
    read_back = [(await graphql(client, NUMBER, {"id": referral_id}, world.tokens["liaison-a"]))
                 for referral_id in ids[::2]]
    assert [body["data"]["referral"]["number"] for body in read_back] == numbers[::2]


async def test_numbers_are_per_procuratorate(client, world):
    first = await submitted(client, world, "liaison-a")
    other_district = await submitted(client, world, "liaison-c")
    second = await submitted(client, world, "liaison-b")
    assert (await graphql(client, REGISTER, {"id": first}, world.tokens["prosecutor-1"])
            )["data"]["registerReferral"]["number"] == registration("一检", 1)
    assert (await graphql(client, REGISTER, {"id": other_district}, world.tokens["prosecutor-2"])
            )["data"]["registerReferral"]["number"] == registration("二检", 1)
    assert (await graphql(client, REGISTER, {"id": second}, world.tokens["prosecutor-city"])
            )["data"]["registerReferral"]["number"] == registration("一检", 2)


async def test_a_refused_registration_takes_no_number(client, world):
    withdrawn = await submitted(client, world)
    await graphql(client, "mutation($id: ID!) { withdrawReferral(id: $id, reason: \"误报\") { status } }",
                  {"id": withdrawn}, world.tokens["liaison-a"])
    assert error_codes(await graphql(client, REGISTER, {"id": withdrawn}, world.tokens["prosecutor-1"])) == \
        ["INVALID_TRANSITION"]
    registered = await submitted(client, world)
    body = await graphql(client, REGISTER, {"id": registered}, world.tokens["prosecutor-1"])
    assert body["data"]["registerReferral"]["number"] == registration("一检", 1)


@pytest.fixture
async def commit_fails_for_doomed_registrations(resources):
    """A deferred constraint trigger that refuses, at COMMIT, any registration of a referral titled
    "注定失败": a transaction that fails after its number was allocated."""
    async with resources.session_factory() as session:
        await session.execute(text("""
            CREATE FUNCTION refuse_doomed_registration() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.title = '注定失败' AND NEW.number IS NOT NULL THEN
                    RAISE EXCEPTION 'the test refuses this commit';
                END IF;
                RETURN NEW;
            END $$"""))
        await session.execute(text("""
            CREATE CONSTRAINT TRIGGER refuse_doomed_registration AFTER UPDATE ON referral
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_doomed_registration()"""))
        await session.commit()
    try:
        yield
    finally:
        async with resources.session_factory() as session:
            await session.execute(text("DROP TRIGGER refuse_doomed_registration ON referral"))
            await session.execute(text("DROP FUNCTION refuse_doomed_registration()"))
            await session.commit()


async def test_a_registration_whose_commit_fails_gives_its_number_back(client, world,
                                                                       commit_fails_for_doomed_registrations):
    doomed = await submitted(client, world, title="注定失败")
    failed = await graphql(client, REGISTER, {"id": doomed}, world.tokens["prosecutor-1"])
    assert error_codes(failed) == ["INTERNAL"]  # the commit, after the number was allocated
    state = await graphql(client, NUMBER, {"id": doomed}, world.tokens["prosecutor-1"])
    assert state["data"]["referral"] == {"status": "SUBMITTED", "number": None}
    next_one = await submitted(client, world)
    body = await graphql(client, REGISTER, {"id": next_one}, world.tokens["prosecutor-1"])
    assert body["data"]["registerReferral"]["number"] == registration("一检", 1)


async def procuratorate_id(world, code: str) -> uuid.UUID:
    return uuid.UUID(world.ids[f"procuratorate:{code}"])


async def test_a_rolled_back_allocation_goes_to_the_allocator_waiting_for_it(world, resources):
    district = await procuratorate_id(world, "410101")

    async def allocate(session) -> str:
        return await allocate_number(session, procuratorate_id=district, document_code="一检",
                                     kind=DocumentKind.CASE, on=date(2026, 5, 1))

    async with resources.session_factory() as first, resources.session_factory() as second:
        assert await allocate(first) == "一检公益立〔2026〕1号"
        waiting = asyncio.create_task(allocate(second))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the counter's row lock holds it until the first ends
        await first.rollback()
        assert await waiting == "一检公益立〔2026〕1号"
        await second.commit()
    async with resources.session_factory() as session:
        assert await allocate(session) == "一检公益立〔2026〕2号"
        await session.rollback()


async def test_numbers_restart_each_year_and_kinds_count_apart(world, resources):
    district = await procuratorate_id(world, "410101")
    other = await procuratorate_id(world, "410102")

    async def allocate(session, kind, on, where=district, code="一检") -> str:
        return await allocate_number(session, procuratorate_id=where, document_code=code, kind=kind, on=on)

    async with resources.session_factory() as session:
        assert [await allocate(session, DocumentKind.REFERRAL_REGISTRATION, date(2026, 12, 31)) for _ in range(2)] == \
            ["一检公益线〔2026〕1号", "一检公益线〔2026〕2号"]
        assert await allocate(session, DocumentKind.REFERRAL_REGISTRATION, date(2027, 1, 1)) == "一检公益线〔2027〕1号"
        assert await allocate(session, DocumentKind.REFERRAL_REGISTRATION, date(2026, 6, 1)) == "一检公益线〔2026〕3号"
        assert await allocate(session, DocumentKind.RECOMMENDATION, date(2026, 12, 31)) == "一检公益建〔2026〕1号"
        assert await allocate(session, DocumentKind.REFERRAL_REGISTRATION, date(2026, 12, 31), other, "二检") == \
            "二检公益线〔2026〕1号"
        await session.commit()


CREATE_JURISDICTION = """mutation($input: CreateJurisdictionInput!) {
  createJurisdiction(input: $input) { code procuratorate { documentCode } } }"""
def square(code: str) -> dict:
    """A square of its own for each new district, in the world city's southern strip (no district's yet)."""
    west = 113.0 + 0.1 * (int(code[-1]) - 3)
    return {"type": "Polygon", "coordinates": [[[west, 34.05], [west + 0.1, 34.05], [west + 0.1, 34.15],
                                                [west, 34.15], [west, 34.05]]]}


def district(code: str, name: str, **extra) -> dict:
    return {"input": {"code": code, "name": name, "level": "DISTRICT", "boundary": square(code),
                      "parentCode": "410100", "procuratorateName": f"{name}人民检察院", **extra}}


async def test_the_procuratorate_code_is_given_or_derived_and_unique(client, world):
    admin = world.tokens["admin"]
    derived = await graphql(client, CREATE_JURISDICTION, district("410103", "卫东区"), admin)
    assert derived["data"]["createJurisdiction"]["procuratorate"] == {"documentCode": "卫东检"}
    given = await graphql(client, CREATE_JURISDICTION, district("410104", "石龙区", procuratorateCode=" 石龙检 "),
                          admin)
    assert given["data"]["createJurisdiction"]["procuratorate"] == {"documentCode": "石龙检"}
    taken = await graphql(client, CREATE_JURISDICTION, district("410105", "卫东区"), admin)
    assert error_codes(taken) == ["CONFLICT"]
    assert taken["errors"][0]["extensions"]["field"] == "procuratorateCode"
    for bad in ("卫东 检", "卫东检〔", "检" * 21):
        refused = await graphql(client, CREATE_JURISDICTION, district("410106", "叶县", procuratorateCode=bad), admin)
        assert error_codes(refused) == ["VALIDATION"]
        assert refused["errors"][0]["extensions"]["field"] == "procuratorateCode"
    listed = await graphql(client, "{ jurisdictions { code } }", token=admin)
    assert len(listed["data"]["jurisdictions"]) == 5  # the refused ones left nothing behind


@pytest.mark.parametrize("name, code", [
    ("卫东区", "卫东检"), ("平顶山市", "平顶山检"), ("郏县", "郏检"), ("浦东新区", "浦东检"),
    ("甘孜藏族自治州", "甘孜藏族检"), ("区", "区检"),
])
def test_the_default_code_drops_the_division_suffix(name, code):
    assert default_document_code(name) == code


async def test_the_migration_numbers_referrals_registered_before_it(stack):
    """Referrals registered before numbers existed are numbered in registration order, per
    procuratorate and Beijing year, and the counters carry on after them."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine

    stack.pg.ensure_database("pil_numbers_migration")
    url = stack.pg.url("pil_numbers_migration")
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(url=url, configure_logger=False)
    before = ScriptDirectory.from_config(config).get_revision("0005").down_revision
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, before)
    engine = create_async_engine(url)
    ids = {name: uuid.uuid4() for name in ("weidong", "xinhua", "wp", "xp", "wa", "xa",
                                           "new_year", "summer", "spring", "not_yet", "other")}
    try:
        async with engine.begin() as connection:
            for key, code, name in (("weidong", "410403", "卫东区"), ("xinhua", "410402", "新华区")):
                await connection.execute(text(
                    "INSERT INTO jurisdiction (id, code, name, level, boundary, created_at) VALUES (:id, :code, "
                    ":name, 'DISTRICT', ST_GeomFromText('MULTIPOLYGON(((113 34,114 34,114 35,113 34)))', 4326), "
                    "now())"), {"id": ids[key], "code": code, "name": name})
                procuratorate, agency = ("wp", "wa") if key == "weidong" else ("xp", "xa")
                await connection.execute(text(
                    "INSERT INTO procuratorate (id, name, jurisdiction_id, created_at) VALUES (:id, :name, :j, now())"),
                    {"id": ids[procuratorate], "name": f"{name}人民检察院", "j": ids[key]})
                await connection.execute(text(
                    "INSERT INTO agency (id, name, kind, uscc, jurisdiction_id, created_at) VALUES "
                    "(:id, :name, 'NATURAL_RESOURCES', :uscc, :j, now())"),
                    {"id": ids[agency], "name": f"{name}自然资源局", "uscc": f"11{code}MB0000000X", "j": ids[key]})
            # (referral, district, registered at in UTC): 2025-12-31 20:00 UTC is 2026-01-01 in Beijing.
            for key, where, registered_at in (("spring", "weidong", datetime(2026, 3, 1, 2, tzinfo=timezone.utc)),
                                              ("new_year", "weidong", datetime(2025, 12, 31, 20, tzinfo=timezone.utc)),
                                              ("summer", "weidong", datetime(2025, 6, 1, 2, tzinfo=timezone.utc)),
                                              ("not_yet", "weidong", None),
                                              ("other", "xinhua", datetime(2026, 2, 1, 2, tzinfo=timezone.utc))):
                await connection.execute(text(
                    "INSERT INTO referral (id, agency_id, jurisdiction_id, domain_code, title, facts, geometry, "
                    "status, submitted_at, submission_fingerprint) VALUES (:id, :agency, :j, 'STATE_PROPERTY', "
                    "'t', 'f', ST_GeomFromText('POINT(113.5 34.5)', 4326), :status, '2025-01-01', 'x')"),
                    {"id": ids[key], "agency": ids["wa" if where == "weidong" else "xa"], "j": ids[where],
                     "status": "REGISTERED" if registered_at else "SUBMITTED"})
                if registered_at:
                    await connection.execute(text(
                        "INSERT INTO referral_status_change (id, referral_id, action, from_status, to_status, "
                        "actor_name, changed_at) VALUES (:id, :r, 'register', 'SUBMITTED', 'REGISTERED', 'p', :at)"),
                        {"id": uuid.uuid4(), "r": ids[key], "at": registered_at})
        await asyncio.to_thread(command.upgrade, config, "0005")
        async with engine.connect() as connection:
            numbers = dict((await connection.execute(text("SELECT id, number FROM referral"))).all())
            counters = set((await connection.execute(text(
                "SELECT procuratorate_id, kind, year, last_number FROM document_counter"))).all())
            codes = set((await connection.execute(text("SELECT document_code FROM procuratorate"))).scalars())
        assert codes == {"卫东检", "新华检"}
        assert {key: numbers[ids[key]] for key in ("new_year", "summer", "spring", "not_yet", "other")} == {
            "summer": "卫东检公益线〔2025〕1号", "new_year": "卫东检公益线〔2026〕1号",
            "spring": "卫东检公益线〔2026〕2号", "not_yet": None, "other": "新华检公益线〔2026〕1号"}
        assert counters == {(ids["wp"], "REFERRAL_REGISTRATION", 2025, 1),
                            (ids["wp"], "REFERRAL_REGISTRATION", 2026, 2),
                            (ids["xp"], "REFERRAL_REGISTRATION", 2026, 1)}
    finally:
        await engine.dispose()
        await asyncio.to_thread(command.downgrade, config, "base")

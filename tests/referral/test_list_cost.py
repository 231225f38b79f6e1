"""What a list page costs the database: statements per page, the count only when asked, the long
text left behind, no ping per request; and cursors that cannot reach the database broken."""

from __future__ import annotations

import base64
from contextlib import contextmanager

import pytest
from sqlalchemy import event

import geo.types
import referral.types
from agencies.auth import principal_from_bearer
from cases import service as case_service
from core import unit_of_work
from core.pagination import PageRequest
from evidence.service import bomb_limits
from parties.protection import protection_for
from referral import service as referral_service
from referral.flows import ReferralAction
from tests.conftest import error_codes, graphql
from tests.referral.test_submit import PNG, submit_with_files

SUBMIT = """mutation($input: SubmitReferralInput!) { submitReferral(input: $input) { id } }"""
PAGE = """query($first: Int, $after: String) { referrals(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { title agency { name } evidence { filename sha256 } } } } }"""
PAGE_WITHOUT_COUNT = """query { referrals(first: 50) { edges { node { title agency { name } } } } }"""


@contextmanager
def recorded_statements(resources):
    """The SQL sent through the app's engine while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = resources.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
async def several(client, world):
    for index in range(5):
        body = await graphql(client, SUBMIT, {"input": {
            "domain": "ECOLOGY_RESOURCES", "title": f"R{index}", "facts": "事实。" * 200,
            "geometry": {"type": "Point", "coordinates": [113.2, 34.5]}}},
            world.tokens["liaison-a" if index % 2 else "liaison-b"])
        assert "errors" not in body, body


@pytest.fixture
def strawberry_only(app, monkeypatch):
    """The path of the queries the planner leaves to strawberry (the planned one: test_planned_list)."""
    monkeypatch.setattr(app.state.planned_queries, "enabled", False)


async def test_a_page_with_agency_evidence_and_count_takes_three_statements(client, world, resources, several,
                                                                            strawberry_only):
    with recorded_statements(resources) as statements:
        body = await graphql(client, PAGE, {"first": 50}, world.tokens["prosecutor-1"])
    assert "errors" not in body, body
    connection = body["data"]["referrals"]
    assert connection["totalCount"] == 5
    assert {edge["node"]["agency"]["name"] for edge in connection["edges"]} == {"机关A", "机关B"}
    # Who is asking; the page with its count and agencies; every referral's evidence in one batch.
    assert len(statements) == 3, statements
    principal, page, evidence = statements
    assert "FROM user_account" in principal
    assert "count(*)" in page and "JOIN agency" in page and "FROM evidence" in evidence


async def test_the_count_runs_only_when_asked(client, world, resources, several):
    with recorded_statements(resources) as statements:
        body = await graphql(client, PAGE_WITHOUT_COUNT, {}, world.tokens["prosecutor-1"])
    assert len(body["data"]["referrals"]["edges"]) == 5
    assert not any("count(" in statement for statement in statements), statements


async def test_the_count_through_a_fragment_and_past_the_last_page(client, world, several):
    token = world.tokens["prosecutor-1"]
    fragment = """query($after: String) { referrals(first: 5, after: $after) { ...counted pageInfo { endCursor } } }
                  fragment counted on ReferralConnection { totalCount }"""
    first = await graphql(client, fragment, {}, token)
    assert first["data"]["referrals"]["totalCount"] == 5
    # The last page is empty: no row carries the count, which is then counted on its own.
    after = first["data"]["referrals"]["pageInfo"]["endCursor"]
    beyond = await graphql(client, fragment, {"after": after}, token)
    assert beyond["data"]["referrals"]["totalCount"] == 5
    empty = await graphql(client, "{ referrals(first: 0) { totalCount edges { cursor } } }", {}, token)
    assert empty["data"]["referrals"] == {"totalCount": 5, "edges": []}


async def test_facts_stay_in_the_database_unless_asked(client, world, resources, several):
    with recorded_statements(resources) as statements:
        await graphql(client, PAGE_WITHOUT_COUNT, {}, world.tokens["prosecutor-1"])
    assert not any("referral.facts" in statement for statement in statements)
    body = await graphql(client, "{ referrals { edges { node { title facts } } } }", {}, world.tokens["admin"])
    assert {edge["node"]["facts"] for edge in body["data"]["referrals"]["edges"]} == {"事实。" * 200}


async def test_no_ping_per_request(client, world, resources, monkeypatch):
    dialect = resources.engine.sync_engine.dialect
    pings = []
    original = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or original(connection))
    for _ in range(3):
        body = await graphql(client, PAGE_WITHOUT_COUNT, {}, world.tokens["prosecutor-1"])
        assert "errors" not in body, body
    assert pings == []


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("after", [
    cursor("0001-01-01T00:00:00+14:00|00000000-0000-0000-0000-000000000001"),
    cursor("9999-12-31T23:59:59-14:00|00000000-0000-0000-0000-000000000001"),
    cursor("2026-01-01T00:00:00|00000000-0000-0000-0000-000000000001"),  # no offset
    cursor("2026-01-01T00:00:00+00:00|not-a-uuid"),
    cursor("2026-01-01T00:00:00+00:00|" + "9" * 5000),
    cursor("2026-01-01T00:00:00+00:00"),
    "x" * 100_000,
    "%%%not base64%%%",
    "YWJj",  # "abc"
    "5piv",  # valid base64 of non-ASCII text
    "ñ",
])
async def test_a_broken_cursor_is_a_validation_error(client, world, after):
    body = await graphql(client, PAGE, {"after": after}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"], body
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_a_cursor_at_the_edges_of_time_is_still_a_cursor(client, world, several):
    token = world.tokens["admin"]
    latest = cursor("9999-12-31T23:59:59+00:00|ffffffff-ffff-ffff-ffff-ffffffffffff")
    assert len((await graphql(client, PAGE, {"after": latest}, token))["data"]["referrals"]["edges"]) == 5
    earliest = cursor("0001-01-01T00:00:00+00:00|00000000-0000-0000-0000-000000000000")
    assert (await graphql(client, PAGE, {"after": earliest}, token))["data"]["referrals"]["edges"] == []


async def test_answers_are_utf8_json(client, world, several):
    response = await client.post("/graphql", json={"query": "{ referrals { edges { node { facts } } } }"},
                                 headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    assert "事实。".encode() in response.content  # UTF-8 itself, not \\u escapes
    assert response.json()["data"]["referrals"]["edges"][0]["node"]["facts"] == "事实。" * 200


async def test_each_referral_is_parsed_and_measured_once(client, world, several, monkeypatch):
    calls = {"parse": 0, "measure": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(referral.types, "to_shape", counted("parse", referral.types.to_shape))
    monkeypatch.setattr(geo.types, "geodesic_area_m2", counted("measure", geo.types.geodesic_area_m2))
    body = await graphql(client, "{ referrals { edges { node { geometry areaSquareMeters areaHectares areaMu } } } }",
                         {}, world.tokens["admin"])
    assert len(body["data"]["referrals"]["edges"]) == 5
    assert calls == {"parse": 5, "measure": 5}


async def test_facts_of_a_listed_referral_can_still_be_asked_for_in_the_same_request(client, world, several):
    token = world.tokens["admin"]
    listed = await graphql(client, "{ referrals(first: 1) { edges { node { id } } } }", {}, token)
    referral_id = listed["data"]["referrals"]["edges"][0]["node"]["id"]
    body = await graphql(client, """query($id: ID!) { referrals(first: 1) { edges { node { title } } }
                                     referral(id: $id) { facts } }""", {"id": referral_id}, token)
    assert "errors" not in body, body
    assert body["data"]["referral"]["facts"] == "事实。" * 200


ALL_FIELDS = """id status number version title facts address foundOn specialInvestigation submittedAt
  harms legalBasis urgent outcomeReason areaMu areaHectares areaSquareMeters geometry
  domain { code } agency { name } jurisdiction { code }
  evidence { filename sha256 } parties { kind name idNumber uscc } history { action toStatus }"""


async def test_a_listed_referral_answers_every_field_as_it_does_by_id(client, world, several):
    """Lists read plain rows, single lookups ORM objects: both must give the same answers."""
    token = world.tokens["prosecutor-1"]
    listed = await graphql(client, "{ referrals { edges { node { %s } } } }" % ALL_FIELDS, {}, token)
    assert "errors" not in listed, listed
    for edge in listed["data"]["referrals"]["edges"]:
        single = await graphql(client, "query($id: ID!) { referral(id: $id) { %s } }" % ALL_FIELDS,
                               {"id": edge["node"]["id"]}, token)
        assert single["data"]["referral"] == edge["node"]


def count_subquery(statement: str) -> str:
    """The text of the `(SELECT count(*) …)` inside a page statement."""
    start = statement.index("(SELECT count(*)")
    depth = 0
    for index in range(start, len(statement)):
        depth += {"(": 1, ")": -1}.get(statement[index], 0)
        if depth == 0:
            return statement[start:index + 1]
    raise AssertionError(statement)


async def test_the_count_does_not_pay_for_the_agency_join(client, world, resources, several, strawberry_only):
    # Counting a prosecutor's whole scope joined to agency took ten times the plain count at 1M rows.
    with recorded_statements(resources) as statements:
        body = await graphql(client, PAGE, {"first": 50}, world.tokens["prosecutor-1"])
    assert body["data"]["referrals"]["totalCount"] == 5
    [page] = [statement for statement in statements if "count(*)" in statement]
    assert "JOIN agency" in page and "agency" not in count_subquery(page)


FULL_PAGE = """query($first: Int) { referrals(first: $first) { totalCount edges { node {
  title agency { name } evidence { filename sha256 } history { action toStatus changedAt }
  case { number status kind history { action toStatus } } } } } }"""


async def referrals_with_cases(client, world, resources, count: int, with_evidence: int) -> None:
    """`count` referrals of agency A, each filed as a case; `with_evidence` of them (the newest and
    the oldest) came with a photo through the multipart path, the rest through the services (a
    hundred uploads would only slow the test)."""
    async def uploaded() -> None:
        body = await submit_with_files(client, world.tokens["liaison-a"], [("site.png", PNG, "image/png")])
        assert "errors" not in body, body

    for _ in range(with_evidence // 2):
        await uploaded()
    settings = resources.settings
    async with resources.session_factory() as session:
        liaison = await principal_from_bearer(session, settings.auth, world.tokens["liaison-a"])
        for index in range(count - with_evidence):
            await referral_service.submit_referral(
                session, principal=liaison, store=resources.store, files=[], max_upload_bytes=1,
                limits=bomb_limits(settings.api),
                protection=protection_for(settings.protection),
                data=referral_service.ReferralSubmission(domain_code="ECOLOGY_RESOURCES", title=f"R{index}",
                                                         facts="事实", geometry={"type": "Point",
                                                                               "coordinates": [113.2, 34.5]}))
        await unit_of_work.commit(session)
    for _ in range(with_evidence - with_evidence // 2):
        await uploaded()
    async with resources.session_factory() as session:
        prosecutor = await principal_from_bearer(session, settings.auth, world.tokens["prosecutor-1"])
        page = await referral_service.list_referrals(
            session, principal=prosecutor, filters=referral_service.ReferralFilter(),
            page=PageRequest(first=count, after=None))
        for referral in page.items:
            await referral_service.change_status(session, principal=prosecutor, referral_id=str(referral.id),
                                                 action=ReferralAction.REGISTER)
            await case_service.file_case(session, principal=prosecutor, referral_id=str(referral.id),
                                         filing=case_service.CaseFiling(kind=case_service.CaseKind.CIVIL))
        await unit_of_work.commit(session)


async def test_a_page_of_100_costs_the_statements_of_a_page_of_10(client, world, resources):
    """With its agency, evidence, history (the latest transition with it) and case, and the case's
    own history: the DataLoaders fetch each relation for the whole page in one statement."""
    await referrals_with_cases(client, world, resources, count=100, with_evidence=4)
    costs = {}
    for first in (10, 100):
        with recorded_statements(resources) as statements:
            body = await graphql(client, FULL_PAGE, {"first": first}, world.tokens["prosecutor-1"])
        assert "errors" not in body, body
        edges = body["data"]["referrals"]["edges"]
        assert len(edges) == first and body["data"]["referrals"]["totalCount"] == 100
        assert all(edge["node"]["case"]["status"] == "FILED" and edge["node"]["history"][-1]["toStatus"] == "CASE_FILED"
                   for edge in edges)
        assert sum(len(edge["node"]["evidence"]) for edge in edges) == (2 if first == 10 else 4)
        costs[first] = statements
    assert len(costs[100]) == len(costs[10]), (costs[10], costs[100])
    # Who is asking; the page with its count and agencies; evidence, referral histories, cases and
    # case histories, each in one statement for the whole page.
    assert len(costs[100]) == 6, costs[100]

"""The planned `referrals` list (app.planned, referral.planner) answers exactly what strawberry
answers: generated selections, filters, page sizes and cursors, for every role, errors included;
in one statement besides the principal's; and any field it does not know goes to strawberry."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral.planner import SUPPORTED, ReferralsPlan
from tests.conftest import count_statements, graphql, graphql_upload

SUBMIT = """mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
  submitReferral(input: $input, evidence: $evidence) { id } }"""
REGISTER = "mutation($id: ID!) { registerReferral(id: $id) { status } }"
RETURN = "mutation($id: ID!, $reason: String!) { returnReferral(id: $id, reason: $reason) { status } }"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
ROLES = ("admin", "prosecutor-1", "prosecutor-2", "prosecutor-city", "liaison-a", "liaison-c", "assessor-1")
LIST = """query($f: ReferralFilter, $n: Int, $a: String) { referrals(filter: $f, first: $n, after: $a) %s }"""
EVERY_REFERRAL_FIELD = """{ __typename id status number title facts address foundOn specialInvestigation
    submittedAt harms legalBasis urgent version domain { code nameZh nameEn __typename }
    agency { id name kind uscc __typename }
    evidence { id filename mediaType sizeBytes sha256 description uploadedAt downloadPath __typename } }"""
EVERYTHING = ("{ totalCount pageInfo { hasNextPage endCursor __typename } __typename edges { cursor __typename node %s } }"
              % EVERY_REFERRAL_FIELD)


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
async def listed(client, world) -> list[str]:
    """Referrals of agencies A and B (district 1) and C (district 2), in several statuses, some
    with evidence and every optional field; the cursors of all of them, for the admin's list."""
    async def submit(token: str, index: int, files: int = 0, **fields) -> str:
        variables = {"input": {"domain": "FOOD_DRUG_SAFETY" if index % 3 == 0 else "ECOLOGY_RESOURCES",
                               "title": f"线索 {index} \"quoted\" \\ \n", "facts": "事实。" * index,
                               # In the agency's district (1 west of 113.5°E, 2 east of it), spread a little.
                               "geometry": point((113.7 if token == "liaison-c" else 113.2) + index * 0.01, 34.5),
                               **fields},
                     "evidence": [{"file": None, "description": f"照片 {n}" if n else None} for n in range(files)]}
        if files:
            body = (await graphql_upload(client, SUBMIT, variables, {
                f"variables.evidence.{n}.file": (f"现场{n}.png", PNG + bytes([n]), "image/png") for n in range(files)},
                world.tokens[token])).json()
        else:
            body = await graphql(client, SUBMIT, variables, world.tokens[token])
        assert "errors" not in body, body
        return body["data"]["submitReferral"]["id"]

    ids = [
        await submit("liaison-a", 1, files=2, address="某村", foundOn="2026-10-01", legalBasis="《矿产资源法》",
                     specialInvestigation="专项", urgent=True, harms=["STATE_INTERESTS", "PUBLIC_INTEREST"]),
        await submit("liaison-a", 2, harms=["STATE_INTERESTS"]),
        await submit("liaison-b", 3, files=1),
        await submit("liaison-b", 4),
        await submit("liaison-c", 5, files=1),
        await submit("liaison-c", 6),
    ]
    assert "errors" not in await graphql(client, REGISTER, {"id": ids[0]}, world.tokens["prosecutor-1"])
    assert "errors" not in await graphql(client, RETURN, {"id": ids[2], "reason": "补充材料"},
                                         world.tokens["prosecutor-1"])
    body = await graphql(client, LIST % "{ edges { cursor } }", {"n": 100}, world.tokens["admin"])
    return [edge["cursor"] for edge in body["data"]["referrals"]["edges"]]


async def post(client, query: str, variables: dict, token: str) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def both_ways(client, app, query: str, variables: dict, token: str) -> tuple[dict, dict]:
    """The planned answer and strawberry's (the planned path switched off) to the same request."""
    planned = app.state.planned_queries
    assert planned.enabled
    fast = await post(client, query, variables, token)
    planned.enabled = False
    try:
        slow = await post(client, query, variables, token)
    finally:
        planned.enabled = True
    return fast, slow


# Generated selections: any subset of the supported fields, in any order, some twice, some
# aliased, some inside inline fragments (typed or not); __typename anywhere.
@st.composite
def selections(draw, type_name: str, depth: int = 0) -> str:
    fields = sorted(SUPPORTED[type_name]) + ["__typename"]
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=min(len(fields), 7)))
    parts = []
    for index, name in enumerate(chosen):
        alias = draw(st.sampled_from(["", f"{name}{index}: "]))
        child = SUPPORTED[type_name].get(name)
        part = alias + name + (" " + draw(selections(child, depth + 1)) if child else "")
        wrap = draw(st.sampled_from(["{}", "... {{ {} }}", "... on " + type_name + " {{ {} }}"]))
        parts.append(wrap.format(part) if wrap != "{}" else part)
    return "{ " + " ".join(parts) + " }"


FILTERS = st.fixed_dictionaries({}, optional={
    "status": st.lists(st.sampled_from(["SUBMITTED", "REGISTERED", "RETURNED", "WITHDRAWN"]), max_size=2),
    "domain": st.lists(st.sampled_from(["ECOLOGY_RESOURCES", "FOOD_DRUG_SAFETY", "NO_SUCH_DOMAIN"]), max_size=2),
    "agencyId": st.sampled_from(["agency:A", "agency:C", "not-an-id", str(uuid.UUID(int=7))]),
    "jurisdictionCode": st.sampled_from(["410100", "410101", "410102", "999999", ""]),
    "submittedFrom": st.sampled_from(["2020-01-01", "2999-01-01", "0001-01-01"]),
    "submittedTo": st.sampled_from(["2020-01-01", "2999-12-31"]),
    "bbox": st.sampled_from([[113.0, 34.0, 113.5, 35.0], [0, 0, 1, 1], [1, 2, 3], [113.6, 34.0, 113.4, 35.0]]),
})
BROKEN_CURSORS = ["YWJj", "%%%", base64.urlsafe_b64encode(b"2026-01-01T00:00:00|x").decode(),
                  base64.urlsafe_b64encode(b"9999-12-31T23:59:59+00:00|ffffffff-ffff-ffff-ffff-ffffffffffff").decode()]


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), selection=selections("ReferralConnection"), filter_=st.none() | FILTERS,
       first=st.none() | st.sampled_from([-1, 0, 1, 2, 3, 100, 101]), role=st.sampled_from(ROLES))
async def test_generated_requests_get_strawberrys_answer(client, app, world, listed, data, selection, filter_,
                                                         first, role):
    after = data.draw(st.none() | st.sampled_from(listed) | st.sampled_from(BROKEN_CURSORS))
    if filter_ and filter_.get("agencyId", "").startswith("agency:"):
        filter_ = {**filter_, "agencyId": world.ids[filter_["agencyId"]]}
    query = LIST % selection
    assert app.state.planned_queries.prepare(query, None) is not None, query
    fast, slow = await both_ways(client, app, query, {"f": filter_, "n": first, "a": after}, world.tokens[role])
    assert fast == slow, query


async def test_every_supported_field_for_every_role_and_page(client, app, world, listed):
    for role in ROLES:
        after = None
        for _ in range(10):
            fast, slow = await both_ways(client, app, LIST % EVERYTHING, {"n": 2, "a": after}, world.tokens[role])
            assert fast == slow
            assert "errors" not in fast, fast
            if not fast["data"]["referrals"]["pageInfo"]["hasNextPage"]:
                break
            after = fast["data"]["referrals"]["pageInfo"]["endCursor"]
    # What the roles see differs (the scopes are those of referral.service, not a copy).
    admin = (await post(client, LIST % EVERYTHING, {"n": 100}, world.tokens["admin"]))["data"]["referrals"]
    liaison = (await post(client, LIST % EVERYTHING, {"n": 100}, world.tokens["liaison-c"]))["data"]["referrals"]
    assert (admin["totalCount"], liaison["totalCount"]) == (6, 2)
    assert {edge["node"]["agency"]["name"] for edge in liaison["edges"]} == {"机关C"}
    evidence = [file for edge in admin["edges"] for file in edge["node"]["evidence"]]
    assert len(evidence) == 4 and all(file["downloadPath"] == f"/evidence/{file['id']}/content" for file in evidence)


@pytest.mark.parametrize(("variables", "field"), [
    ({"a": "YWJj"}, "after"), ({"n": 101}, "first"), ({"n": -1}, "first"),
    ({"f": {"agencyId": "not-an-id"}}, "agencyId"), ({"f": {"submittedFrom": "0001-01-01"}}, None),
    ({"f": {"bbox": [1, 2, 3]}}, None),
])
async def test_errors_are_strawberrys(client, app, world, listed, variables, field):
    for role in ("admin", "liaison-a"):
        fast, slow = await both_ways(client, app, LIST % "{ totalCount edges { node { id } } }", variables,
                                     world.tokens[role])
        assert fast == slow
        assert fast["data"] == {"referrals": None} and len(fast["errors"]) == 1, fast
        if field:
            assert fast["errors"][0]["extensions"]["field"] == field


async def test_without_a_token_the_answer_is_unauthenticated(client, app, world, listed):
    query = LIST % "{ edges { node { id } } }"
    responses = []
    for enabled in (True, False):
        app.state.planned_queries.enabled = enabled
        try:
            responses.append((await client.post("/graphql", json={"query": query})).json())
        finally:
            app.state.planned_queries.enabled = True
    assert responses[0] == responses[1]
    assert responses[0]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_page_is_one_statement_besides_the_principal(client, app, world, resources, listed):
    with count_statements(resources.engine) as statements:
        body = await post(client, LIST % EVERYTHING, {"n": 50}, world.tokens["prosecutor-city"])
    assert body["data"]["referrals"]["totalCount"] == 6
    assert len(statements) == 2, statements
    principal, page = statements
    assert "FROM user_account" in principal
    assert "FROM agency" in page and "FROM evidence" in page
    # The count reads the referrals alone (the agencies only come along with the page).
    counted = page[page.index("counted AS"):page.index("visible_agency AS")]
    assert "count(*)" in counted and "agency." not in counted


async def test_named_fragments_and_aliases_of_the_root_field(client, app, world, listed):
    query = """query Page($n: Int) { list: referrals(first: $n) { ...page } }
               fragment page on ReferralConnection { total: totalCount edges { node { ...referral } } }
               fragment referral on Referral { id t: title agency { name } }"""
    assert app.state.planned_queries.prepare(query, "Page") is not None
    fast, slow = await both_ways(client, app, query, {"n": 3}, world.tokens["prosecutor-1"])
    assert fast == slow and fast["data"]["list"]["total"] == 4


def selection_of(app, type_name: str, name: str) -> str:
    """`name`, with a sub-selection of its first leaf field when it is an object field."""
    from graphql import get_named_type, is_leaf_type
    field_type = get_named_type(app.state.planned_queries.schema._schema.type_map[type_name].fields[name].type)
    if is_leaf_type(field_type):
        return name
    leaf = next(child for child, field in field_type.fields.items() if is_leaf_type(get_named_type(field.type)))
    return f"{name} {{ {leaf} }}"


PATHS = {"ReferralConnection": "{ %s }", "ReferralEdge": "{ edges { %s } }", "PageInfo": "{ pageInfo { %s } }",
         "Referral": "{ edges { node { %s } } }", "Agency": "{ edges { node { agency { %s } } } }",
         "Evidence": "{ edges { node { evidence { %s } } } }", "ReferralDomain": "{ edges { node { domain { %s } } } }",
         "NearbyReferral": None}


@pytest.mark.parametrize("type_name", sorted(PATHS))
async def test_a_field_the_planner_does_not_know_goes_to_strawberry(client, app, world, listed, type_name):
    """Fields added to these types later included: they are answered, by strawberry."""
    graphql_type = app.state.planned_queries.schema._schema.type_map[type_name]
    unknown = [name for name in graphql_type.fields if name not in SUPPORTED[type_name]]
    for name in unknown:
        if type_name == "NearbyReferral":
            query, variables = NEAR % ("{ %s }" % selection_of(app, type_name, name)), {"g": point(113.2, 34.5), "m": 5e4}
        else:
            query, variables = LIST % (PATHS[type_name] % selection_of(app, type_name, name)), {"n": 3}
        assert app.state.planned_queries.prepare(query, None) is None, query
        fast, slow = await both_ways(client, app, query, variables, world.tokens["prosecutor-1"])
        assert fast == slow and "errors" not in fast, fast


@pytest.mark.parametrize("query", [
    "{ __typename referrals { totalCount } }",
    "{ referrals { totalCount } referralsNear(geometry: {type: \"Point\", coordinates: [1, 2]}, meters: 5) { distanceMeters } }",
    "{ a: referrals { totalCount } b: referrals { totalCount } }",
    "query($s: Boolean!) { referrals { totalCount @include(if: $s) } }",
    "{ referrals { edges { node { ... on Areal { areaMu } } } } }",
    "{ referrals { edges { node { id parties { idNumber } } } } }",
    "{ __schema { queryType { name } } }",
    "mutation { logout }",
])
async def test_what_the_planner_leaves_to_strawberry(app, query):
    assert app.state.planned_queries.prepare(query, None) is None


async def test_the_plan_is_made_once_per_document(app, client, world, listed, monkeypatch):
    planned = app.state.planned_queries
    query = LIST % "{ totalCount edges { node { id title } } }"
    made = []
    original = planned._prepare
    monkeypatch.setattr(planned, "_prepare", lambda *args: made.append(args) or original(*args))
    for _ in range(3):
        assert "errors" not in await post(client, query + " ", {"n": 2}, world.tokens["admin"])
    assert len(made) == 1


NEAR = """query($g: GeoJSON!, $m: Float!, $crs: CoordinateSystem) {
  referralsNear(geometry: $g, meters: $m, crs: $crs) %s }"""


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(selection=selections("NearbyReferral"), role=st.sampled_from(ROLES),
       lon=st.sampled_from([113.2, 113.7, 113.45, 200.0]), meters=st.sampled_from([1.0, 30_000.0, 60_000.0, -5.0, 1e9]),
       crs=st.sampled_from([None, "WGS84", "GCJ02"]))
async def test_generated_near_requests_get_strawberrys_answer(client, app, world, listed, selection, role, lon,
                                                              meters, crs):
    query = NEAR % selection
    assert app.state.planned_queries.prepare(query, None) is not None, query
    variables = {"g": point(lon, 34.5), "m": meters} | ({"crs": crs} if crs else {})
    fast, slow = await both_ways(client, app, query, variables, world.tokens[role])
    assert fast == slow, query


async def test_near_with_every_supported_field_is_one_statement(client, app, world, resources, listed):
    query = NEAR % ("{ distanceMeters __typename referral %s }" % EVERY_REFERRAL_FIELD)
    with count_statements(resources.engine) as statements:
        fast = await post(client, query, {"g": point(113.45, 34.5), "m": 50_000}, world.tokens["prosecutor-city"])
    assert len(statements) == 2, (statements, fast)
    assert len(fast["data"]["referralsNear"]) == 6
    fast, slow = await both_ways(client, app, query, {"g": point(113.45, 34.5), "m": 50_000}, world.tokens["liaison-a"])
    assert fast == slow and len(fast["data"]["referralsNear"]) == 2



async def test_the_alias_limit_holds_on_the_planned_path(client, app, world, listed):
    """31 aliases (the limit is 30): refused as strawberry refuses them (the supported fields
    nest less deep than the depth limit)."""
    query = LIST % ("{ edges { node { %s } } }" % " ".join(f"a{index}: id" for index in range(31)))
    assert app.state.planned_queries.prepare(query, None) is None
    fast, slow = await both_ways(client, app, query, {}, world.tokens["admin"])
    assert fast == slow
    assert [error["extensions"]["code"] for error in fast["errors"]] == ["VALIDATION"], fast
    within = LIST % ("{ edges { node { %s } } }" % " ".join(f"a{index}: id" for index in range(30)))
    assert app.state.planned_queries.prepare(within, None) is not None


async def test_an_argument_the_plan_does_not_take_goes_to_strawberry(app, monkeypatch):
    """As an argument added to `referrals` later would: the plan answers only what it knows."""
    planned = app.state.planned_queries
    body = json.dumps({"query": LIST % "{ totalCount }", "variables": {"a": "YWJj"}}).encode()
    assert planned.requested(body) is not None
    monkeypatch.setattr(ReferralsPlan, "arguments", frozenset({"filter", "first"}))
    assert planned.requested(body) is None
    # Arguments with a default are always there: a new one with a default sends every request on.
    without_after = json.dumps({"query": "{ referrals(first: 2) { totalCount } }"}).encode()
    assert planned.requested(without_after) is None


@pytest.mark.parametrize("fault", ["frozen", "restarting"])
async def test_a_database_outage_is_database_unavailable_on_both_paths(settings, world, listed, fault):
    from tests.app.test_database_faults import quick
    from tests.faults import app_behind_proxies

    query = {"query": LIST % "{ totalCount edges { node { id agency { name } } } }", "variables": {"n": 5}}
    answers = []
    for planned in (True, False):
        switched = quick(settings).model_copy(update={"api": settings.api.model_copy(
            update={"planned_queries": planned})})
        async with app_behind_proxies(switched) as (client, proxy, _):
            headers = {"Authorization": f"Bearer {world.tokens['admin']}"}
            healthy = (await client.post("/graphql", json=query, headers=headers)).json()
            assert healthy["data"]["referrals"]["totalCount"] == 6
            if fault == "frozen":
                proxy.frozen = True
            else:
                proxy.refusing = True
                proxy.drop_connections()
            response = await client.post("/graphql", json=query, headers=headers)
            assert response.headers["x-request-id"]
            answers.append(response.json())
    assert answers[0] == answers[1]
    assert answers[0]["data"] == {"referrals": None}
    assert [error["extensions"]["code"] for error in answers[0]["errors"]] == ["DATABASE_UNAVAILABLE"]

"""The recommendations list: filters, pages, and what a page costs."""

from __future__ import annotations

from tests.cases.test_own_clue import CLUE, ENTERPRISE, OPEN
from tests.conftest import error_codes, graphql
from tests.recommendations.steps import administrative_case, issue, ok, serve, today
from tests.referral.test_list_cost import recorded_statements

LIST = """query($filter: RecommendationFilter, $first: Int, $after: String) {
  recommendations(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""


async def test_filters_and_pages(client, world):
    first_case = await administrative_case(client, world)
    second_case = await administrative_case(client, world)
    ids = [ok(await issue(client, world, first_case), "issueRecommendation")["id"],
           ok(await issue(client, world, first_case, addressee="A", urgent=True), "issueRecommendation")["id"],
           ok(await issue(client, world, second_case), "issueRecommendation")["id"]]
    ok(await serve(client, world, ids[0]), "recordRecommendationServed")
    token = world.tokens["prosecutor-city"]

    async def found(filter: dict) -> list[str]:
        body = await graphql(client, LIST, {"filter": filter}, token)
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["recommendations"]["edges"]]

    assert await found({}) == ids[::-1]
    assert await found({"status": ["SERVED"]}) == [ids[0]]
    assert await found({"status": ["ISSUED", "REPLIED"]}) == [ids[2], ids[1]]
    assert await found({"addresseeAgencyId": world.ids["agency:A"]}) == [ids[1]]
    assert await found({"urgent": True}) == [ids[1]]
    assert await found({"urgent": False}) == [ids[2], ids[0]]
    assert await found({"caseId": first_case}) == [ids[1], ids[0]]
    assert await found({"jurisdictionCode": "410100"}) == ids[::-1]
    assert await found({"jurisdictionCode": "410102"}) == []
    assert await found({"issuedFrom": today(), "issuedTo": today()}) == ids[::-1]
    assert await found({"issuedTo": "2020-01-01"}) == []
    bad = await graphql(client, LIST, {"filter": {"caseId": "nope"}}, token)
    assert error_codes(bad) == ["VALIDATION"] and bad["errors"][0]["extensions"]["field"] == "caseId"

    page = ok(await graphql(client, LIST, {"first": 2}, token), "recommendations")
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    assert [edge["node"]["id"] for edge in page["edges"]] == [ids[2], ids[1]]
    rest = ok(await graphql(client, LIST, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token),
              "recommendations")
    assert [edge["node"]["id"] for edge in rest["edges"]] == [ids[0]] and not rest["pageInfo"]["hasNextPage"]


PAGE = """query { recommendations(first: 50) { totalCount edges { node {
  number status addressee { name } replied rectification reply { stages { milestone } attachments { sha256 } }
  checks { result evidence { sha256 } } history { action } } } } }"""


async def test_a_page_costs_the_same_statements_however_many_recommendations(client, world, resources):
    costs = []
    case_id = await administrative_case(client, world)
    for more in (1, 5):
        for _ in range(more):
            ok(await issue(client, world, case_id), "issueRecommendation")
        with recorded_statements(resources) as statements:
            body = await graphql(client, PAGE, {}, world.tokens["liaison-b"])
        assert "errors" not in body, body
        assert len(body["data"]["recommendations"]["edges"]) == len(costs) * 5 + 1
        costs.append(len(statements))
    # Who is asking; the page with its count; then one query each for the agencies, replies,
    # checks and histories of the whole page (stages and files only where there are replies/checks).
    assert costs[0] == costs[1], costs


ORDERED = """query($filter: RecommendationFilter, $orderBy: RecommendationOrder) {
  recommendations(filter: $filter, orderBy: $orderBy) { edges { node { id } } } }"""
CASES = "query($filter: CaseFilter) { cases(filter: $filter) { totalCount edges { node { id } } } }"


async def test_by_the_cases_domain_and_party_in_either_order_and_cases_by_addressee(client, world):
    # The own clue is an ecology case against an enterprise; the referral's case is about state property.
    own_clue = ok(await graphql(client, OPEN, {"input": CLUE}, world.tokens["prosecutor-1"]), "openCase")["id"]
    from_referral = await administrative_case(client, world)
    to_b = ok(await issue(client, world, own_clue), "issueRecommendation")["id"]
    to_a = ok(await issue(client, world, from_referral, addressee="A"), "issueRecommendation")["id"]
    token = world.tokens["prosecutor-1"]

    async def found(filter: dict, order: str | None = None) -> list[str]:
        body = await graphql(client, ORDERED, {"filter": filter, **({"orderBy": order} if order else {})}, token)
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["recommendations"]["edges"]]

    assert await found({}) == [to_a, to_b]
    assert await found({}, "ISSUED_AT_ASC") == [to_b, to_a]
    assert await found({"domain": ["ECOLOGY_RESOURCES"]}) == [to_b]
    assert await found({"party": {"uscc": ENTERPRISE}}) == [to_b]
    assert await found({"party": {"name": "某建材"}}) == [to_b]
    assert await found({"party": {"uscc": ENTERPRISE}, "domain": ["STATE_PROPERTY"]}) == []
    explicit_null = await graphql(client, ORDERED, {"orderBy": None}, token)
    assert error_codes(explicit_null) == ["VALIDATION"]

    async def cases(filter: dict, user: str = "prosecutor-1") -> list[str]:
        body = await graphql(client, CASES, {"filter": filter}, world.tokens[user])
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["cases"]["edges"]]

    assert await cases({"addresseeAgencyId": world.ids["agency:B"]}) == [own_clue]
    assert await cases({"addresseeAgencyId": world.ids["agency:A"]}) == [from_referral]
    assert await cases({"addresseeAgencyId": world.ids["agency:C"]}) == []
    # The filter narrows the caller's scope, never widens it: another district sees none.
    assert await cases({"addresseeAgencyId": world.ids["agency:A"]}, "prosecutor-2") == []
    bad = await graphql(client, CASES, {"filter": {"addresseeAgencyId": "nope"}}, token)
    assert error_codes(bad) == ["VALIDATION"] and bad["errors"][0]["extensions"]["field"] == "addresseeAgencyId"

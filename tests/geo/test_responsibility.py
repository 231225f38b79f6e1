"""The overlaps propose the agency responsible for the harm (the layer holding most of the referral
that names an agency kind; that kind's agency in the referral's jurisdiction, else the one above),
and a prosecutor confirms or changes it, recorded with who and when. Each role sees a proposal or
decision only when it may see the agency named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from shapely.geometry import box, mapping

from tests.conftest import error_codes, graphql, uscc
from tests.geo.test_layer_import import geojson, import_file
from tests.geo.test_overlaps import submit

RESPONSIBILITY = """query($id: ID!) { referral(id: $id) {
  proposedResponsibleAgency { agency { id name kind } layer { code kind } featureName shareOfReferral reason }
  responsibleAgency { agency { id name } followsProposal decidedBy decidedAt } } }"""
CONFIRM = """mutation($referralId: ID!, $agencyId: ID!) { confirmResponsibleAgency(referralId: $referralId,
  agencyId: $agencyId) { id responsibleAgency { agency { name } followsProposal decidedBy } } }"""
FARM = box(113.30, 34.50, 113.32, 34.52)
RED_LINE = box(113.32, 34.50, 113.34, 34.52)
# 60% on the farmland (agriculture answers for it), 40% under the red line (natural resources).
PIT = box(113.308, 34.505, 113.328, 34.515)


async def create_agency(client, world, name: str, kind: str, jurisdiction: str, serial: int) -> str:
    body = await graphql(client, """mutation($input: CreateAgencyInput!) { createAgency(input: $input) { id } }""",
                         {"input": {"name": name, "kind": kind, "uscc": uscc(jurisdiction, serial),
                                    "jurisdictionCode": jurisdiction}}, world.tokens["admin"])
    return body["data"]["createAgency"]["id"]


@pytest.fixture
async def pit(client, world) -> dict[str, str]:
    """The layers, an agriculture bureau in district 1 and in the city, and agency A's pit."""
    for code, kind, agency_kind, parcel in (("farmland", "PERMANENT_FARMLAND", "AGRICULTURE_RURAL", FARM),
                                            ("red-line", "ECOLOGICAL_RED_LINE", "NATURAL_RESOURCES", RED_LINE)):
        body = await import_file(client, world.tokens["admin"], f"{code}.geojson", geojson((f"{code} 1", parcel)),
                                 code=code, kind=kind, agency_kind=agency_kind)
        assert "errors" not in body, body
    ids = {"city-agriculture": await create_agency(client, world, "市农业农村局", "AGRICULTURE_RURAL", "410100", 11),
           "agriculture": await create_agency(client, world, "一区农业农村局", "AGRICULTURE_RURAL", "410101", 12)}
    ids["referral"] = await submit(client, world, "liaison-a", "pit", mapping(PIT))
    return ids


async def responsibility(client, world, referral_id: str, user: str) -> dict:
    body = await graphql(client, RESPONSIBILITY, {"id": referral_id}, world.tokens[user])
    assert "errors" not in body, body
    return body["data"]["referral"]


async def test_the_largest_layer_naming_an_agency_proposes_it_with_the_reason(client, world, pit):
    proposal = (await responsibility(client, world, pit["referral"], "prosecutor-1"))["proposedResponsibleAgency"]
    assert proposal["agency"] == {"id": pit["agriculture"], "name": "一区农业农村局", "kind": "AGRICULTURE_RURAL"}
    assert proposal["layer"] == {"code": "farmland", "kind": "PERMANENT_FARMLAND"}
    assert proposal["featureName"] == "farmland 1"
    assert proposal["shareOfReferral"] == pytest.approx(0.6, abs=0.01)
    assert "60%" in proposal["reason"] and "farmland" in proposal["reason"]


@pytest.mark.parametrize("user, sees", [("admin", True), ("prosecutor-1", True), ("prosecutor-city", True),
                                        ("assessor-1", True), ("liaison-a", False)])
async def test_a_proposal_is_shown_to_those_who_may_see_its_agency(client, world, pit, user, sees):
    proposal = (await responsibility(client, world, pit["referral"], user))["proposedResponsibleAgency"]
    assert (proposal is not None) == sees
    for outsider in ("liaison-b", "liaison-c", "prosecutor-2"):
        assert error_codes(await graphql(client, RESPONSIBILITY, {"id": pit["referral"]},
                                         world.tokens[outsider])) == ["NOT_FOUND"]


async def test_without_a_district_agency_of_the_kind_the_citys_is_proposed(client, world):
    body = await import_file(client, world.tokens["admin"], "farmland.geojson", geojson(("农田", FARM)),
                             agency_kind="AGRICULTURE_RURAL")
    assert "errors" not in body, body
    referral_id = await submit(client, world, "liaison-a", "pit", mapping(PIT))
    assert (await responsibility(client, world, referral_id, "prosecutor-1"))["proposedResponsibleAgency"] is None
    city = await create_agency(client, world, "市农业农村局", "AGRICULTURE_RURAL", "410100", 11)
    proposal = (await responsibility(client, world, referral_id, "prosecutor-city"))["proposedResponsibleAgency"]
    assert proposal["agency"]["id"] == city
    # A district prosecutor does not see the city's agency, so not the proposal naming it either.
    assert (await responsibility(client, world, referral_id, "prosecutor-1"))["proposedResponsibleAgency"] is None


async def test_a_prosecutor_confirms_or_changes_it_on_the_record(client, world, pit):
    before = datetime.now(timezone.utc)
    confirmed = await graphql(client, CONFIRM, {"referralId": pit["referral"], "agencyId": pit["agriculture"]},
                              world.tokens["prosecutor-1"])
    assert confirmed["data"]["confirmResponsibleAgency"]["responsibleAgency"] == {
        "agency": {"name": "一区农业农村局"}, "followsProposal": True, "decidedBy": "prosecutor-1"}
    decision = (await responsibility(client, world, pit["referral"], "prosecutor-city"))["responsibleAgency"]
    decided_at = datetime.fromisoformat(decision["decidedAt"])
    assert before - timedelta(seconds=1) <= decided_at <= datetime.now(timezone.utc)
    # The referring agency does not learn of another agency's responsibility...
    assert (await responsibility(client, world, pit["referral"], "liaison-a"))["responsibleAgency"] is None
    # ...and does once it is named itself.
    changed = await graphql(client, CONFIRM, {"referralId": pit["referral"], "agencyId": world.ids["agency:A"]},
                            world.tokens["prosecutor-city"])
    assert changed["data"]["confirmResponsibleAgency"]["responsibleAgency"] == {
        "agency": {"name": "机关A"}, "followsProposal": False, "decidedBy": "prosecutor-city"}
    assert (await responsibility(client, world, pit["referral"], "liaison-a"))["responsibleAgency"]["agency"][
        "name"] == "机关A"


@pytest.mark.parametrize("user, agency, code", [
    ("liaison-a", "agency:A", "FORBIDDEN"),
    ("admin", "agency:A", "FORBIDDEN"),
    ("assessor-1", "agency:A", "FORBIDDEN"),
    ("prosecutor-2", "agency:C", "NOT_FOUND"),  # the referral is outside district 2
    ("prosecutor-1", "agency:C", "VALIDATION"),  # agency C is outside district 1
])
async def test_refusals(client, world, pit, user, agency, code):
    body = await graphql(client, CONFIRM, {"referralId": pit["referral"], "agencyId": world.ids[agency]},
                         world.tokens[user])
    assert error_codes(body) == [code]
    if code == "VALIDATION":
        assert body["errors"][0]["extensions"]["field"] == "agencyId"
    assert (await responsibility(client, world, pit["referral"], "admin"))["responsibleAgency"] is None


async def test_a_withdrawn_referral_gets_no_responsible_agency(client, world, pit):
    await graphql(client, 'mutation($id: ID!) { withdrawReferral(id: $id, reason: "误报") { status } }',
                  {"id": pit["referral"]}, world.tokens["liaison-a"])
    body = await graphql(client, CONFIRM, {"referralId": pit["referral"], "agencyId": pit["agriculture"]},
                         world.tokens["prosecutor-1"])
    assert error_codes(body) == ["INVALID_TRANSITION"]

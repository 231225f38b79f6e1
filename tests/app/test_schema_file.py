"""schema.graphql is the running schema's SDL; regenerate with `python -m app.manage export-schema`."""

from app.graphql import schema_sdl
from tests.conftest import ROOT


def test_committed_schema_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema_sdl(), "schema.graphql is stale: run `python -m app.manage export-schema`"


def test_contract_names_are_in_the_schema():
    sdl = schema_sdl()
    for name in ("me:", "jurisdictions:", "agencies(", "agency(", "referrals(", "referral(", "login(",
                 "createJurisdiction(", "createAgency(", "createUser(", "issueApiKey(", "revokeApiKey(",
                 "submitReferral(", "withdrawReferral(", "registerReferral(", "scalar GeoJSON",
                 "areaSquareMeters", "areaHectares", "areaMu", "totalCount"):
        assert name in sdl, name

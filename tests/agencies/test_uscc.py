"""Unified social credit codes: the check character, and what createAgency does with bad ones."""

from __future__ import annotations

import pytest

from agencies.uscc import check_character, uscc_problem
from tests.conftest import error_codes, graphql

# Published codes of well-known organisations (their check characters are printed on licences).
REAL_CODES = ["91350100M000100Y43", "911100001000080343", "91440300192317458F"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code):
    assert uscc_problem(code) is None
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code, reason", [
    ("91350100M000100Y44", "check character"),  # last character changed
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000I00Y43", "capital letters"),  # I is not in the alphabet
    ("9135O100M000100Y43", "capital letters"),  # a letter inside the division code
])
def test_bad_codes_say_why(code, reason):
    assert reason in uscc_problem(code)


CREATE = """mutation($input: CreateAgencyInput!) { createAgency(input: $input) { id uscc jurisdiction { code } } }"""


async def test_create_agency_validates_the_code(client, world):
    good = "91350100M000100Y43"
    body = await graphql(client, CREATE, {"input": {"name": "新机关", "kind": "FORESTRY", "uscc": good[:-1] + "0",
                                                    "jurisdictionCode": "410101"}}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and body["errors"][0]["extensions"]["field"] == "uscc"
    body = await graphql(client, CREATE, {"input": {"name": "新机关", "kind": "FORESTRY", "uscc": good.lower(),
                                                    "jurisdictionCode": "410101"}}, world.tokens["admin"])
    assert body["data"]["createAgency"]["uscc"] == good
    again = await graphql(client, CREATE, {"input": {"name": "重复", "kind": "FORESTRY", "uscc": good,
                                                     "jurisdictionCode": "410101"}}, world.tokens["admin"])
    assert error_codes(again) == ["CONFLICT"]


async def test_only_admins_create_agencies(client, world):
    body = await graphql(client, CREATE, {"input": {"name": "新机关", "kind": "FORESTRY",
                                                    "uscc": "91350100M000100Y43", "jurisdictionCode": "410101"}},
                         world.tokens["prosecutor-city"])
    assert error_codes(body) == ["FORBIDDEN"]

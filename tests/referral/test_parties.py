"""The parties of a referral (persons with identity numbers, enterprises with credit codes), the
harms, legal basis and urgency: checked on submission, identity numbers encrypted at rest and
shown in full only to the receiving procuratorate's prosecutors, searchable within each scope,
part of the idempotency fingerprint, and never written to a log."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from agencies.uscc import check_character as uscc_check
from parties.identity import check_character, mask_identity_number
from tests.conftest import error_codes, graphql, home

SUBMIT = """mutation($input: SubmitReferralInput!) {
  submitReferral(input: $input) { id harms legalBasis urgent parties { kind name role idNumber uscc } } }"""
ONE = "query($id: ID!) { referral(id: $id) { id parties { kind name idNumber uscc } } }"
LIST = """query($filter: ReferralFilter) {
  referrals(filter: $filter, first: 50) { totalCount edges { node { title parties { name idNumber } } } } }"""


def id_number(first17: str) -> str:
    return first17 + check_character(first17)


def person_number_ending_in_x() -> str:
    """A well-formed number for district 410101 whose check character is X."""
    for sequence in range(1000):
        number = id_number(f"41010119850317{sequence:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives X")


PERSON = person_number_ending_in_x()
OTHER_PERSON = id_number("41010219920229051")  # 1992 was a leap year
ENTERPRISE = "91410101MA47TEXT1" + uscc_check("91410101MA47TEXT1")
OTHER_ENTERPRISE = "91410102MA47TEXT2" + uscc_check("91410102MA47TEXT2")


def referral_input(title: str = "无证采矿", parties: list[dict] | None = None, **overrides) -> dict:
    value = {"domain": "ECOLOGY_RESOURCES", "title": title, "facts": "专项调查中发现无证开采。",
             "geometry": {"type": "Point", "coordinates": [113.2, 34.5]},
             "parties": parties if parties is not None else [
                 {"kind": "ENTERPRISE", "name": "Acme 示例建材有限公司", "uscc": ENTERPRISE, "role": "违法行为人"},
                 {"kind": "PERSON", "name": "甲某", "idNumber": PERSON.lower(), "role": "法定代表人"}]}
    value.update(overrides)
    return value


async def submit(client, world, user: str = "liaison-a", **kwargs) -> dict:
    return await graphql(client, SUBMIT, {"input": referral_input(**{"geometry": home(user), **kwargs})},
                         world.tokens[user])


async def test_a_referral_carries_its_parties_harms_legal_basis_and_urgency(client, world):
    body = await submit(client, world, harms=["STATE_INTERESTS", "PUBLIC_INTEREST"],
                        legalBasis="《矿产资源法》第三条", urgent=True)
    referral = body["data"]["submitReferral"]
    assert referral["harms"] == ["STATE_INTERESTS", "PUBLIC_INTEREST"]
    assert referral["legalBasis"] == "《矿产资源法》第三条"
    assert referral["urgent"] is True
    # The lower-case x was taken and normalised; the referring liaison sees the number masked.
    assert referral["parties"] == [
        {"kind": "ENTERPRISE", "name": "Acme 示例建材有限公司", "role": "违法行为人", "idNumber": None,
         "uscc": ENTERPRISE},
        {"kind": "PERSON", "name": "甲某", "role": "法定代表人", "idNumber": PERSON[:4] + "*" * 10 + PERSON[-4:],
         "uscc": None}]
    assert PERSON.endswith("X") and referral["parties"][1]["idNumber"].endswith("X")


async def test_without_harms_a_referral_is_about_the_public_interest_and_not_urgent(client, world):
    referral = (await submit(client, world, parties=[]))["data"]["submitReferral"]
    assert (referral["harms"], referral["legalBasis"], referral["urgent"], referral["parties"]) == \
        (["PUBLIC_INTEREST"], None, False, [])


async def test_a_referral_must_name_a_harm(client, world):
    body = await submit(client, world, harms=[])
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == "harms"


def wrong_check_character(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize("number, why", [
    (wrong_check_character(PERSON), "校验位"),
    (id_number("41010119900230123"), "出生日期"),  # 30 February
    (id_number("41010130000101123"), "出生日期"),  # born in the future
    (id_number("41010119930229123"), "出生日期"),  # 1993 was not a leap year
    (PERSON[:17], "18位"),
    (PERSON + "1", "18位"),
    (id_number("99010119900101123"), "地区码"),
    ("4101011990010112A4", "17位数字"),
])
async def test_an_invalid_identity_number_is_refused_without_repeating_it(client, world, number, why):
    body = await submit(client, world, parties=[
        {"kind": "ENTERPRISE", "name": "乙公司", "uscc": ENTERPRISE},
        {"kind": "PERSON", "name": "甲某", "idNumber": number}])
    assert error_codes(body) == ["VALIDATION"]
    error = body["errors"][0]
    assert error["extensions"]["field"] == "parties.1.idNumber"
    assert why in error["message"]
    assert number not in str(body) and number[:14] not in str(body)


async def test_the_wrong_check_character_message(client, world):
    body = await submit(client, world, parties=[
        {"kind": "PERSON", "name": "甲某", "idNumber": wrong_check_character(PERSON)}])
    assert "identity number check character is wrong" in body["errors"][0]["message"]


@pytest.mark.parametrize("party, field", [
    ({"kind": "ENTERPRISE", "name": "乙公司", "uscc": ENTERPRISE[:17] + ("0" if ENTERPRISE[17] != "0" else "1")},
     "parties.0.uscc"),
    ({"kind": "ENTERPRISE", "name": "乙公司", "uscc": ENTERPRISE[:16]}, "parties.0.uscc"),
    ({"kind": "ENTERPRISE", "name": "乙公司", "idNumber": PERSON}, "parties.0.idNumber"),
    ({"kind": "PERSON", "name": "甲某", "uscc": ENTERPRISE}, "parties.0.uscc"),
    ({"kind": "PERSON", "name": "  "}, "parties.0.name"),
])
async def test_an_invalid_party_is_refused_with_its_field(client, world, party, field):
    body = await submit(client, world, parties=[party])
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_a_person_without_a_number_and_an_unregistered_enterprise_are_accepted(client, world):
    body = await submit(client, world, parties=[{"kind": "PERSON", "name": "无名氏"},
                                                {"kind": "ENTERPRISE", "name": "无照作坊", "uscc": " "}])
    assert [party["idNumber"] for party in body["data"]["submitReferral"]["parties"]] == [None, None]


async def test_the_identity_number_is_stored_encrypted(client, world, resources):
    await submit(client, world)
    async with resources.session_factory() as session:
        row = (await session.execute(text(
            "SELECT id_number_ciphertext, id_number_masked, id_number_index FROM referral_party "
            "WHERE kind = 'PERSON'"))).one()
        everything = " ".join(await session.scalars(text(
            "SELECT row_to_json(p)::text FROM referral_party p UNION ALL "
            "SELECT row_to_json(r)::text FROM referral r")))
    ciphertext, masked, index = row
    assert PERSON.encode() not in ciphertext and PERSON[:17].encode() not in ciphertext
    assert len(ciphertext) == 1 + 12 + len(PERSON) + 16  # version, nonce, sealed number, GCM tag
    assert masked == mask_identity_number(PERSON)
    assert len(index) == 64 and PERSON[6:14] not in index
    assert PERSON[:17] not in everything and PERSON[4:14] not in everything


async def test_two_submissions_of_one_number_differ_at_rest_but_share_the_blind_index(client, world, resources):
    await submit(client, world, title="一")
    await submit(client, world, title="二")
    async with resources.session_factory() as session:
        rows = (await session.execute(text(
            "SELECT id_number_ciphertext, id_number_index FROM referral_party WHERE kind = 'PERSON'"))).all()
    assert len(rows) == 2
    assert rows[0][0] != rows[1][0]  # a fresh nonce each time
    assert rows[0][1] == rows[1][1]


SHOWN = {
    "liaison-a": "masked",  # the referring agency
    "prosecutor-1": "full",  # the receiving district's procuratorate
    "prosecutor-city": "masked",  # oversees the district, does not receive the referral
    "assessor-1": "masked",
    "admin": "masked",
}


@pytest.mark.parametrize("user", sorted(SHOWN))
async def test_the_number_is_masked_for_everyone_but_the_receiving_prosecutors(client, world, user):
    referral_id = (await submit(client, world))["data"]["submitReferral"]["id"]
    expected = PERSON if SHOWN[user] == "full" else mask_identity_number(PERSON)
    one = await graphql(client, ONE, {"id": referral_id}, world.tokens[user])
    assert one["data"]["referral"]["parties"][1]["idNumber"] == expected
    listed = await graphql(client, LIST, {}, world.tokens[user])
    [edge] = listed["data"]["referrals"]["edges"]
    assert edge["node"]["parties"][1]["idNumber"] == expected


async def test_the_parties_of_a_page_are_loaded_in_one_statement(client, world, resources):
    from tests.conftest import count_statements

    for title in ("一", "二", "三"):
        await submit(client, world, title=title)
    with count_statements(resources.engine) as few:
        await graphql(client, LIST, {}, world.tokens["prosecutor-1"])
    for title in ("四", "五", "六"):
        await submit(client, world, title=title)
    with count_statements(resources.engine) as more:
        body = await graphql(client, LIST, {}, world.tokens["prosecutor-1"])
    assert len(body["data"]["referrals"]["edges"]) == 6
    assert len(more) == len(few)
    assert sum("referral_party" in statement for statement in more) == 1


@pytest.fixture
async def against_parties(client, world) -> None:
    """A1 (agency A) against the enterprise and the person, A2 (A) against the other enterprise,
    B1 (agency B, same district) and C1 (agency C, district 2) against the enterprise."""
    enterprise = {"kind": "ENTERPRISE", "name": "Acme 示例建材有限公司", "uscc": ENTERPRISE}
    for title, user, parties in (
            ("A1", "liaison-a", [enterprise, {"kind": "PERSON", "name": "甲某", "idNumber": PERSON}]),
            ("A2", "liaison-a", [{"kind": "ENTERPRISE", "name": "丙_100%公司", "uscc": OTHER_ENTERPRISE},
                                 {"kind": "PERSON", "name": "乙某", "idNumber": OTHER_PERSON}]),
            ("B1", "liaison-b", [enterprise]),
            ("C1", "liaison-c", [enterprise])):
        body = await submit(client, world, user=user, title=title, parties=parties)
        assert "errors" not in body, body


SEARCHES = [
    ({"uscc": ENTERPRISE}, {"liaison-a": {"A1"}, "liaison-b": {"B1"}, "liaison-c": {"C1"},
                            "prosecutor-1": {"A1", "B1"}, "prosecutor-2": {"C1"},
                            "prosecutor-city": {"A1", "B1", "C1"}, "admin": {"A1", "B1", "C1"}}),
    ({"uscc": OTHER_ENTERPRISE.lower()}, {"liaison-a": {"A2"}, "liaison-b": set(), "prosecutor-1": {"A2"},
                                          "prosecutor-2": set(), "prosecutor-city": {"A2"}}),
    ({"idNumber": PERSON.lower()}, {"liaison-a": {"A1"}, "liaison-b": set(), "prosecutor-1": {"A1"},
                                    "prosecutor-2": set(), "admin": {"A1"}}),
    ({"idNumber": OTHER_PERSON}, {"prosecutor-1": {"A2"}, "prosecutor-2": set(), "liaison-c": set()}),
    ({"name": "acme"}, {"prosecutor-1": {"A1", "B1"}, "prosecutor-2": {"C1"}, "liaison-b": {"B1"}}),
    ({"name": "ACME 示例建材有限公司"}, {"prosecutor-city": {"A1", "B1", "C1"}}),
    ({"name": "甲"}, {"prosecutor-1": {"A1"}, "prosecutor-2": set()}),
    ({"name": "示例"}, {"prosecutor-city": set()}),  # a prefix, not a substring
    ({"name": "丙_100%"}, {"prosecutor-1": {"A2"}}),
    ({"name": "%"}, {"prosecutor-city": set()}),  # wildcards are literal
    ({"name": "_"}, {"prosecutor-city": set()}),
    ({"uscc": ENTERPRISE, "name": "甲"}, {"prosecutor-city": set()}),  # one party must match every term
    ({"idNumber": PERSON, "name": "甲某"}, {"prosecutor-city": {"A1"}}),
]


@pytest.mark.parametrize("party, expected", SEARCHES)
async def test_search_by_party_stays_within_each_scope(client, world, against_parties, party, expected):
    for user, titles in expected.items():
        body = await graphql(client, LIST, {"filter": {"party": party}}, world.tokens[user])
        found = {edge["node"]["title"] for edge in body["data"]["referrals"]["edges"]}
        assert found == titles, user
        assert body["data"]["referrals"]["totalCount"] == len(titles)


@pytest.mark.parametrize("party, field", [
    ({"idNumber": wrong_check_character(PERSON)}, "party.idNumber"),
    ({"uscc": "not-a-code"}, "party.uscc"),
])
async def test_an_invalid_search_term_is_refused(client, world, party, field):
    body = await graphql(client, LIST, {"filter": {"party": party}}, world.tokens["prosecutor-1"])
    assert error_codes(body) == ["VALIDATION"]
    assert body["errors"][0]["extensions"]["field"] == field


@pytest.mark.parametrize("change", [
    {"parties": [{"kind": "PERSON", "name": "甲某", "idNumber": OTHER_PERSON}]},
    {"parties": [{"kind": "PERSON", "name": "甲某乙", "idNumber": PERSON}]},
    {"parties": []},
    {"harms": ["STATE_INTERESTS"]},
    {"urgent": True},
    {"legalBasis": "《土地管理法》"},
])
async def test_a_retry_with_other_parties_or_fields_is_a_conflict(client, world, change):
    first_input = referral_input(parties=[{"kind": "PERSON", "name": "甲某", "idNumber": PERSON}],
                                 idempotencyKey="retry-1")
    first = await graphql(client, SUBMIT, {"input": first_input}, world.tokens["liaison-a"])
    same = await graphql(client, SUBMIT, {"input": {**first_input, "parties": [
        {"kind": "PERSON", "name": " 甲某 ", "idNumber": PERSON.lower()}]}}, world.tokens["liaison-a"])
    assert same["data"]["submitReferral"]["id"] == first["data"]["submitReferral"]["id"]
    other = await graphql(client, SUBMIT, {"input": {**first_input, **change}}, world.tokens["liaison-a"])
    assert error_codes(other) == ["CONFLICT"]


async def test_identity_numbers_never_reach_the_logs(client, world, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # statements and their parameters
    wrong = wrong_check_character(OTHER_PERSON)
    refused = await submit(client, world, parties=[{"kind": "PERSON", "name": "甲某", "idNumber": wrong}])
    assert error_codes(refused) == ["VALIDATION"]
    accepted = await submit(client, world, parties=[{"kind": "PERSON", "name": "甲某", "idNumber": PERSON}])
    referral_id = accepted["data"]["submitReferral"]["id"]
    shown = await graphql(client, ONE, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert shown["data"]["referral"]["parties"][0]["idNumber"] == PERSON
    found = await graphql(client, LIST, {"filter": {"party": {"idNumber": PERSON}}}, world.tokens["prosecutor-1"])
    assert found["data"]["referrals"]["totalCount"] == 1
    assert any(record.name.startswith("sqlalchemy.engine") for record in caplog.records)  # it was listening
    logged = caplog.text + " ".join(str(record.args) for record in caplog.records)
    for number in (wrong, PERSON):
        assert number[:17] not in logged and number[6:14] + number[14:17] not in logged

"""Hostile input through the real API: whatever arrives, the answer is JSON, below 500, and every
error carries a code that is not INTERNAL (INTERNAL means a bug)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import error_codes, graphql_upload

SUBMIT = """
mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
  submitReferral(input: $input, evidence: $evidence) { id }
}"""
LIST = "query($f: ReferralFilter, $n: Int) { referrals(filter: $f, first: $n) { totalCount } }"
NEAR = "query($g: GeoJSON!, $m: Float!) { referralsNear(geometry: $g, meters: $m) { distanceMeters } }"
POINT = {"type": "Point", "coordinates": [113.2, 34.5]}
HUGE = "9" * 5000  # past Python's 4300-digit limit for int(str)


def referral_input(**overrides) -> dict:
    value = {"domain": "ECOLOGY_RESOURCES", "title": "无证采矿", "facts": "专项调查中发现无证开采。",
             "geometry": POINT}
    value.update(overrides)
    return value


def clean_answer(response: httpx.Response) -> dict:
    """The answer as JSON, after checking it is the kind every client can handle."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    for error in body.get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code and code != "INTERNAL", error
    return body


async def post_raw(client, body: bytes | str, token: str | None = None,
                   content_type: str = "application/json") -> dict:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return clean_answer(await client.post("/graphql", content=body, headers=headers))


# Numbers json.dumps cannot write (an int past the digit limit) or would write otherwise (1e400 as
# Infinity): generated values carry a placeholder, replaced by the raw number in the JSON text.
RAW_NUMBERS = {"@@huge@@": HUGE, "@@-huge@@": "-" + HUGE, "@@1e400@@": "1e400", "@@-1e400@@": "-1e400",
               "@@long-fraction@@": "0." + HUGE}


def to_json(value: object) -> str:
    # json.dumps writes inf as Infinity, nan as NaN and lone surrogates as \\ud800 escapes, as a
    # hostile client may.
    text = json.dumps(value)
    for placeholder, number in RAW_NUMBERS.items():
        text = text.replace(f'"{placeholder}"', number)
    return text


async def post(client, query: str, variables: object = None, token: str | None = None) -> dict:
    return await post_raw(client, to_json({"query": query, "variables": variables or {}}), token)


# --- geometry ---------------------------------------------------------------------------------

@pytest.mark.parametrize("geometry", [
    {"type": ["Point"], "coordinates": [113.2, 34.5]},
    {"type": {"a": 1}, "coordinates": [113.2, 34.5]},
    {"type": None, "coordinates": [113.2, 34.5]},
    {"type": "Point", "coordinates": [float("inf"), 34.5]},
    {"type": "Point", "coordinates": [float("nan"), 34.5]},
    {"type": "Point", "coordinates": [10 ** 400, 34.5]},
    "[" * 5000 + "]" * 5000,
    '{"type": "Point", "coordinates": [' + HUGE + ', 34.5]}',
    '{"type": "Point", "coordinates": [1e400, 34.5]}',
    '"\\ud800"',
])
async def test_hostile_geometry_is_an_invalid_geometry(client, world, geometry):
    body = await post(client, SUBMIT, {"input": referral_input(geometry=geometry)}, world.tokens["liaison-a"])
    assert error_codes(body) == ["INVALID_GEOMETRY"]
    assert body["errors"][0]["extensions"]["field"] == "geometry"
    body = await post(client, LIST, {"f": {"intersects": geometry}}, world.tokens["admin"])
    assert error_codes(body) == ["INVALID_GEOMETRY"]
    assert body["errors"][0]["extensions"]["field"] == "intersects"


@pytest.mark.parametrize("raw_number", ["1e400", "-1e400", HUGE, "9" * 400, "NaN", "Infinity"])
async def test_numbers_beyond_float_in_the_json_body(client, world, raw_number):
    """Python's json reads 1e400 as inf and takes NaN/Infinity; an integer beyond the digit limit
    makes it raise ValueError instead of JSONDecodeError."""
    token = world.tokens["admin"]
    geometry = '{"type": "Point", "coordinates": [%s, 34.5]}' % raw_number
    body = await post_raw(client, '{"query": %s, "variables": {"f": {"intersects": %s}}}'
                          % (json.dumps(LIST), geometry), token)
    assert set(error_codes(body)) <= {"INVALID_GEOMETRY", "VALIDATION"} and error_codes(body)
    body = await post_raw(client, '{"query": %s, "variables": {"g": %s, "m": %s}}'
                          % (json.dumps(NEAR), json.dumps(POINT), raw_number), token)
    assert error_codes(body) == ["VALIDATION"]
    body = await post_raw(client, '{"query": %s, "variables": {"f": {"bbox": [113, 34, %s, 35]}}}'
                          % (json.dumps(LIST), raw_number), token)
    assert error_codes(body) == ["VALIDATION"]
    body = await post_raw(client, '{"query": %s, "variables": {"n": %s}}' % (json.dumps(LIST), raw_number),
                          token)
    assert error_codes(body) == ["VALIDATION"]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", HUGE, HUGE + ".5", "0." + HUGE + "e400"])
async def test_numbers_beyond_float_in_the_document(client, world, literal):
    token = world.tokens["admin"]
    queries = [
        "{ referrals(filter: {intersects: {type: \"Point\", coordinates: [%s, 34.5]}}) { totalCount } }",
        "{ referralsNear(geometry: {type: \"Point\", coordinates: [113.2, 34.5]}, meters: %s) { distanceMeters } }",
        "{ referrals(filter: {bbox: [113, 34, %s, 35]}) { totalCount } }",
    ]
    for query in queries:
        body = await post(client, query % literal, token=token)
        assert set(error_codes(body)) <= {"INVALID_GEOMETRY", "VALIDATION"} and error_codes(body), query


@pytest.mark.parametrize("literal", [HUGE, "-" + HUGE])
async def test_huge_integer_literals_in_the_document(client, world, literal):
    body = await post(client, "{ referrals(first: %s) { totalCount } }" % literal, token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]
    body = await post(client, "{ referrals(filter: {intersects: {type: \"Point\", coordinates: [%s, 1]}}) "
                              "{ totalCount } }" % literal, token=world.tokens["admin"])
    assert set(error_codes(body)) <= {"INVALID_GEOMETRY", "VALIDATION"} and error_codes(body)


# --- the body itself ----------------------------------------------------------------------------

@pytest.mark.parametrize("content", [
    b'{"query": "{ me { username } }", "variables": {"x": ' + HUGE.encode() + b"}}",
    b'{"query": "{ me { username } }", "extensions": {"x": [' + HUGE.encode() + b"]}}",
    b'\xff\xfe{"query": "{ me { username } }"}',
    b'{"query": "{ me { username } }", "variables": {"x": "\xff\xfe"}}',
    "{\"query\": \"{ me { username } }\"}".encode("utf-16"),
    "{\"query\": \"{ me { username } }\"}".encode("utf-32"),
    b"\x00" * 16,
    b"[" * 100_000,
    b'"just a string"',
    b"[]",
    b"[1, 2]",
    b'{"query": ["{ me { username } }"]}',
    b'{"query": "{ me { username } }", "variables": []}',
    b'{"query": "{ me { username } }", "variables": "x"}',
    b'{"query": "{ me { username } }", "operationName": {"a": 1}}',
])
async def test_unreadable_bodies_are_validation_errors(client, world, content):
    response = await client.post("/graphql", content=content, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.status_code == 400 and error_codes(clean_answer(response)) == ["VALIDATION"]


async def test_a_utf8_byte_order_mark_is_tolerated(client, world):
    body = await post_raw(client, b'\xef\xbb\xbf{"query": "{ me { username } }"}', world.tokens["admin"])
    assert body == {"data": {"me": {"username": "admin"}}}


# --- lone surrogates ------------------------------------------------------------------------------

SURROGATE_CASES = [
    # (query, variables): in variables as JSON escapes, and in the document's string literals
    ("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
     {"u": "admin\ud800", "p": "x"}),
    ("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
     {"u": "admin", "p": "\udfff"}),
    (LIST, {"f": {"domain": ["ECO\ud83d"]}}),
    (LIST, {"f": {"jurisdictionCode": "\udc00"}}),
    (SUBMIT, {"input": referral_input(title="标题\ud800")}),
    (SUBMIT, {"input": referral_input(facts="\udbff\udbff")}),
    (SUBMIT, {"input": referral_input(idempotencyKey="k\ud800")}),
    ('{ agencies(jurisdictionCode: "41\\ud800") { name } }', None),
    ('{ agencies(jurisdictionCode: "41\ud800") { name } }', None),
    ('{ agencies(jurisdictionCode: """41\ud800""") { name } }', None),
    ('mutation { login(username: "admin", password: "\\udfff") { token } }', None),
]


@pytest.mark.parametrize("query, variables", SURROGATE_CASES)
async def test_lone_surrogates_are_refused_up_front(client, world, query, variables, resources):
    body = await post(client, query, variables, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"]


async def test_surrogate_pairs_are_ordinary_text(client, world):
    """An escaped pair is one character (U+1F600) and must not be mistaken for lone halves."""
    body = await post_raw(client, b'{"query": %s, "variables": {"input": %s}}' % (
        json.dumps(SUBMIT).encode(), json.dumps(referral_input(title="\\ud83d\\ude00")).encode().replace(
            b"\\\\", b"\\")), world.tokens["liaison-a"])
    assert "errors" not in body, body


@pytest.mark.parametrize("method, path", [("POST", "/graphql"), ("GET", f"/evidence/{'0' * 8}-0000-0000-0000-"
                                                                     f"{'0' * 12}/content")])
@pytest.mark.parametrize("authorization", [b"Bearer pilk_a\x00b_secret", b"Bearer \x00"])
async def test_a_nul_in_a_header_is_refused_before_it_reaches_the_database(client, world, method, path,
                                                                         authorization):
    """h11 refuses such a header; an ASGI server that passes it on must not make it a 500."""
    response = await client.request(method, path, json={"query": "{ me { username } }"},
                                     headers=[(b"Authorization", authorization)])
    assert response.status_code == 400 and error_codes(clean_answer(response)) == ["VALIDATION"]


async def test_latin1_bytes_in_a_header_are_an_ordinary_bad_credential(client, world):
    response = await client.post("/graphql", json={"query": "{ me { username } }"},
                                 headers=[(b"Authorization", b"Bearer pilk_\xe9\xff_secret")])
    assert error_codes(clean_answer(response)) == ["UNAUTHENTICATED"]


# --- size limits apply to the bytes read --------------------------------------------------------

JSON_LIMIT, REQUEST_LIMIT = 64 * 1024, 1024 * 1024


@pytest.fixture
async def small_limits(settings):
    """The app with limits small enough to cross quickly (the real ones are 16 MiB and 1 GiB)."""
    from app.main import create_app

    limited = settings.model_copy(update={"api": settings.api.model_copy(update={
        "max_json_bytes": JSON_LIMIT, "max_request_bytes": REQUEST_LIMIT})})
    application = create_app(limited)
    async with application.router.lifespan_context(application):
        yield application


class Chunks:
    """A request body sent in pieces (httpx sends an async iterator as Transfer-Encoding: chunked),
    counting how much of it the app asked for."""

    def __init__(self, head: bytes, filler: int, tail: bytes = b"", size: int = 16 * 1024):
        self.head, self.filler, self.tail, self.size = head, filler, tail, size
        self.read = 0

    async def __aiter__(self):
        pieces = [self.head] + [b" " * self.size] * (self.filler // self.size) + [self.tail]
        for piece in pieces:
            self.read += len(piece)
            yield piece

    @property
    def total(self) -> int:
        return len(self.head) + self.filler // self.size * self.size + len(self.tail)


async def post_to(application, content, headers: dict) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http_client:
        return await http_client.post("/graphql", content=content, headers=headers)


async def test_a_chunked_json_body_over_the_limit_is_refused_without_reading_it_all(small_limits, world):
    body = Chunks(b'{"query": "{ me { username } }", "x": "', JSON_LIMIT * 8, b'"}')
    response = await post_to(small_limits, body, {
        "Content-Type": "application/json", "Authorization": f"Bearer {world.tokens['admin']}"})
    assert "content-length" not in response.request.headers  # really chunked
    assert response.status_code == 413 and error_codes(clean_answer(response)) == ["PAYLOAD_TOO_LARGE"]
    assert response.json()["errors"][0]["extensions"]["limitBytes"] == JSON_LIMIT
    assert body.read < body.total / 2


async def test_a_chunked_json_body_within_the_limit_is_served(small_limits, world):
    body = Chunks(b'{"query": "{ me { username } }", "x": "', JSON_LIMIT // 2, b'"}')
    response = await post_to(small_limits, body, {
        "Content-Type": "application/json", "Authorization": f"Bearer {world.tokens['admin']}"})
    assert clean_answer(response) == {"data": {"me": {"username": "admin"}}}


async def test_a_content_length_smaller_than_the_body_does_not_lift_the_limit(small_limits, world):
    """httpx streams an iterator whatever Content-Length says, so the header can lie here."""
    body = Chunks(b'{"query": "{ me { username } }", "x": "', JSON_LIMIT * 8, b'"}')
    response = await post_to(small_limits, body, {
        "Content-Type": "application/json", "Content-Length": "100",
        "Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.request.headers["content-length"] == "100"
    assert response.status_code == 413 and error_codes(clean_answer(response)) == ["PAYLOAD_TOO_LARGE"]
    assert body.read < body.total / 2


async def test_a_multipart_body_past_the_request_limit_is_refused_whatever_its_content_length(small_limits,
                                                                                           world):
    # A well-formed upload whose file the operation never reads: it is drained, and counted.
    body = Chunks(b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
                  b'{"query": "mutation($f: Upload!) { submitReferral(input: {domain: \\"X\\", title: \\"t\\", '
                  b'facts: \\"f\\", geometry: {}}, evidence: [{file: $f}]) @skip(if: true) { id } }", '
                  b'"variables": {"f": null}}\r\n'
                  b'--b\r\nContent-Disposition: form-data; name="map"'
                  b'\r\n\r\n{"0": ["variables.f"]}\r\n--b\r\nContent-Disposition: form-data; name="0"; filename="a.bin"\r\n\r\n',
                  REQUEST_LIMIT * 4, b"\r\n--b--\r\n", size=64 * 1024)
    response = await post_to(small_limits, body, {
        "Content-Type": "multipart/form-data; boundary=b", "Content-Length": "400",
        "Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.status_code == 413 and error_codes(clean_answer(response)) == ["PAYLOAD_TOO_LARGE"]
    assert response.json()["errors"][0]["extensions"]["limitBytes"] == REQUEST_LIMIT
    assert body.read < body.total / 2


# --- a failure nobody foresaw --------------------------------------------------------------------

async def test_an_unexpected_failure_in_a_rest_route_is_json_with_a_request_id(app, world, caplog, monkeypatch):
    from app import http as routes

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals /srv/app/evidence/service.py")

    monkeypatch.setattr(routes, "open_evidence_content", broken)
    # raise_app_exceptions=False: a real server answers with what the app sends, and so do we.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http_client:
        with caplog.at_level(logging.ERROR):
            response = await http_client.get("/evidence/00000000-0000-0000-0000-000000000000/content",
                                              headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.status_code == 500 and response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL" and "secret" not in response.text
    request_id = error["extensions"]["requestId"]
    assert request_id == response.headers["x-request-id"]
    logged = [record for record in caplog.records if request_id in record.getMessage()]
    assert logged and logged[0].exc_info and "secret internals" in str(logged[0].exc_info[1])


# --- generated hostile values -----------------------------------------------------------------------

any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=12)
surrogate_text = st.lists(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(),
                          min_size=1, max_size=6).map("".join)
raw_numbers = st.sampled_from(sorted(RAW_NUMBERS))
odd_numbers = st.sampled_from([float("inf"), float("-inf"), float("nan"), 2 ** 63, -(2 ** 63) - 1, 1e308,
                               10 ** 400, -(10 ** 400), 2 ** 31])
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | any_text | surrogate_text
           | raw_numbers | odd_numbers)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(any_text | surrogate_text, children,
                                                                      max_size=4),
    max_leaves=20)
geometry_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["Point", "Polygon", "MultiPolygon"]) | json_values,
     "coordinates": json_values | st.lists(scalars, max_size=3)})
referral_inputs = st.fixed_dictionaries({
    "domain": st.just("ECOLOGY_RESOURCES") | json_values,
    "title": any_text | surrogate_text | json_values,
    "facts": st.just("事实") | json_values,
    "geometry": st.just(POINT) | geometry_like | json_values,
}, optional={"crs": st.sampled_from(["WGS84", "GCJ02", "MARS"]) | json_values,
             "foundOn": st.just("2026-10-01") | json_values,
             "address": json_values, "idempotencyKey": json_values})
filters = st.fixed_dictionaries({}, optional={
    "intersects": geometry_like | json_values, "within": geometry_like | json_values,
    "bbox": st.lists(scalars, max_size=5) | json_values,
    "near": st.fixed_dictionaries({"point": geometry_like | json_values, "meters": scalars}) | json_values,
    "status": json_values, "domain": json_values, "agencyId": json_values,
    "jurisdictionCode": json_values, "submittedFrom": json_values})

HYPOTHESIS = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@HYPOTHESIS
@given(referral=referral_inputs | json_values, evidence=st.none() | json_values)
async def test_generated_submissions_never_fail_without_a_code(client, world, referral, evidence):
    await post(client, SUBMIT, {"input": referral, "evidence": evidence}, world.tokens["liaison-a"])


@HYPOTHESIS
@given(filter_=filters | json_values, first=st.none() | scalars)
async def test_generated_filters_never_fail_without_a_code(client, world, filter_, first):
    await post(client, LIST, {"f": filter_, "n": first}, world.tokens["prosecutor-city"])


@HYPOTHESIS
@given(body=json_values | st.binary(max_size=64), wrap=st.booleans())
async def test_generated_bodies_never_fail_without_a_code(client, world, body, wrap):
    if isinstance(body, bytes):
        content = body
    else:
        content = to_json({"query": LIST, "variables": body} if wrap else body).encode()
    await post_raw(client, content, world.tokens["admin"])


# Generated text and numbers spliced into documents as literals (or breaking them): the document
# is parsed from what the client sent, with no JSON layer in between.
LITERAL_SLOTS = [
    '{ agencies(jurisdictionCode: "%s") { name } }',
    'mutation { login(username: "%s", password: """%s""") { token } }',
    "{ referrals(first: %s) { totalCount } }",
    "{ referrals(filter: {bbox: [113, 34, %s, 35]}) { totalCount } }",
    "{ referralsNear(geometry: {type: \"Point\", coordinates: [%s, 34.5]}, meters: %s) { distanceMeters } }",
    "{ referrals(filter: {intersects: %s}) { totalCount } }",
    "# %s\n{ me { username } }",
]
literal_parts = any_text | surrogate_text | st.sampled_from([HUGE, "-" + HUGE, "1e400", "0." + HUGE, "1" * 400,
                                                             "[" * 3000, "{a: " * 3000, '\\ud800', "\\u{D800}"])


@HYPOTHESIS
@given(slot=st.sampled_from(LITERAL_SLOTS), parts=st.lists(literal_parts, min_size=2, max_size=2))
async def test_generated_documents_never_fail_without_a_code(client, world, slot, parts):
    query = slot % tuple(parts[:slot.count("%s")])
    await post(client, query, token=world.tokens["admin"])


@settings(HYPOTHESIS, max_examples=40)  # each accepted one leaves an object under legal hold to clean up
@given(filename=any_text | surrogate_text, description=st.none() | json_values,
       content_type=st.sampled_from(["image/png", "text/plain", "application/octet-stream", ""]) | any_text)
async def test_generated_submissions_with_files_never_fail_without_a_code(client, world, filename, description,
                                                                         content_type):
    variables = {"input": referral_input(), "evidence": [{"file": None, "description": description}]}
    try:
        response = await graphql_upload(client, SUBMIT, variables, {"variables.evidence.0.file": (
            filename, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type)}, world.tokens["liaison-a"])
    except UnicodeEncodeError:  # httpx cannot write a lone surrogate into a part header
        return
    clean_answer(response)

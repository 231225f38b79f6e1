"""Error codes, masking, and the limits on GraphQL documents."""

from __future__ import annotations

import logging

import pytest

from app.main import create_app
from app.settings import Environment, Settings
from tests.conftest import error_codes, graphql


async def test_malformed_documents_are_validation_errors(client, world):
    body = await graphql(client, "{ me { nope } }", token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]
    body = await graphql(client, "{ me { ", token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]
    body = await graphql(client, "query($n: Int) { referrals(first: $n) { totalCount } }",
                         {"n": "many"}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]


def nested_jurisdictions(depth: int) -> str:
    query = "code"
    for _ in range(depth):
        query = f"parent {{ {query} }}"
    return "{ jurisdictions { " + query + " } }"


async def test_depth_limit(client, world, settings):
    ok = await graphql(client, nested_jurisdictions(settings.api.max_query_depth - 2), token=world.tokens["admin"])
    assert "errors" not in ok
    deep = await graphql(client, nested_jurisdictions(settings.api.max_query_depth), token=world.tokens["admin"])
    assert error_codes(deep) == ["VALIDATION"] and "nested" in deep["errors"][0]["message"]


async def test_depth_limit_sees_through_fragments(client, world, settings):
    fragments = ["fragment F0 on Jurisdiction { code }"]
    for level in range(1, settings.api.max_query_depth + 1):
        fragments.append(f"fragment F{level} on Jurisdiction {{ parent {{ ...F{level - 1} }} }}")
    query = "{ jurisdictions { ...F%d } } %s" % (settings.api.max_query_depth, " ".join(fragments))
    body = await graphql(client, query, token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]


async def test_alias_limit_counts_aliases_inside_fragments(client, world, settings):
    half = settings.api.max_aliases // 2 + 1
    fragment = "fragment Many on Query { " + " ".join(f"a{i}: me {{ username }}" for i in range(half)) + " }"
    body = await graphql(client, "{ ...Many ...Many } " + fragment.replace("Many on", "Many on"),
                         token=world.tokens["admin"])
    # The same fragment spread twice is merged by GraphQL; count a second copy under another name.
    body = await graphql(client, "{ ...Many ...More } " + fragment + " " + fragment.replace("Many", "More"),
                         token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"] and "aliases" in body["errors"][0]["message"]
    few = await graphql(client, "{ a: me { username } b: me { username } }", token=world.tokens["admin"])
    assert "errors" not in few


async def test_token_limit(client, world, settings):
    query = "{ " + " ".join("me { username }" for _ in range(settings.api.max_tokens // 4 + 10)) + " }"
    body = await graphql(client, query, token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(client, world, caplog, monkeypatch):
    import agencies.service

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals: SELECT * FROM user_account /srv/app/agencies/service.py")

    monkeypatch.setattr(agencies.service, "list_jurisdictions", broken)
    with caplog.at_level(logging.ERROR, logger="app.graphql"):
        body = await graphql(client, "{ jurisdictions { code } }", token=world.tokens["admin"])
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "secret" not in str(body) and "SELECT" not in str(body) and ".py" not in str(body)
    request_id = error["extensions"]["requestId"]
    assert any(request_id in record.getMessage() for record in caplog.records)


async def test_every_response_carries_its_request_id(client):
    first, second = await client.get("/healthz"), await client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_production_hides_introspection_and_graphiql(settings):
    import httpx

    production = settings.model_copy(update={"env": Environment.PRODUCTION})
    production.auth = production.auth.model_copy(update={"token_secret": "x" * 40})
    production.storage = production.storage.model_copy(update={"access_key": "prod-key", "secret_key": "prod-secret"})
    production.db = production.db.model_copy(update={"url": settings.db.url})
    production.protection = production.protection.model_copy(update={"data_key": "A" * 43 + "=",
                                                                      "index_key": "B" * 43 + "="})
    production.bundle = production.bundle.model_copy(update={"signing_key": "C" * 43 + "="})
    application = create_app(production)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            body = (await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
            assert body["data"] is None and set(error_codes(body)) == {"VALIDATION"}
            page = await client.get("/graphql", headers={"Accept": "text/html"})
            assert "graphiql" not in page.text.lower()


@pytest.mark.parametrize("variable, value", [
    ("PIL_AUTH_TOKEN_SECRET", None), ("PIL_S3_ACCESS_KEY", None), ("PIL_S3_SECRET_KEY", None),
    ("PIL_PROTECT_DATA_KEY", None), ("PIL_PROTECT_INDEX_KEY", None), ("PIL_BUNDLE_SIGNING_KEY", None),
])
def test_production_refuses_demo_secrets(monkeypatch, variable, value):
    monkeypatch.setenv("PIL_ENV", "production")
    monkeypatch.setenv("PIL_AUTH_TOKEN_SECRET", "a-real-secret-that-is-long-enough-0123456789")
    monkeypatch.setenv("PIL_S3_ACCESS_KEY", "real-access")
    monkeypatch.setenv("PIL_S3_SECRET_KEY", "real-secret")
    monkeypatch.setenv("PIL_DB_URL", "postgresql+asyncpg://pil:real@db:5432/pil")
    monkeypatch.setenv("PIL_PROTECT_DATA_KEY", "A" * 43 + "=")  # base64 of 32 bytes
    monkeypatch.setenv("PIL_PROTECT_INDEX_KEY", "B" * 43 + "=")
    monkeypatch.setenv("PIL_BUNDLE_SIGNING_KEY", "C" * 43 + "=")
    create_app(Settings())  # all real: starts
    monkeypatch.delenv(variable)
    with pytest.raises(RuntimeError, match=variable):
        create_app(Settings())


async def test_graphiql_introspection_passes_the_limits_but_deeper_introspection_does_not(client, world):
    from graphql import get_introspection_query

    body = await graphql(client, get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"
    of_type = "name"
    for _ in range(20):
        of_type = f"ofType {{ {of_type} }}"
    deep = await graphql(client, "{ __type(name: \"Referral\") { fields { type { " + of_type + " } } } }")
    assert error_codes(deep) == ["VALIDATION"] and "introspection" in deep["errors"][0]["message"]


async def test_nul_characters_are_refused_everywhere(client, world):
    from tests.conftest import LOGIN

    body = await graphql(client, LOGIN, {"username": "admin\x00", "password": "x"})
    assert error_codes(body) == ["VALIDATION"] and "NUL" in body["errors"][0]["message"]
    body = await graphql(client, 'query { agencies(jurisdictionCode: "41\\u0000") { name } }',
                         token=world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]
    body = await graphql(client, "query($f: ReferralFilter) { referrals(filter: $f) { totalCount } }",
                         {"f": {"domain": ["ECO\x00"]}}, world.tokens["admin"])
    assert error_codes(body) == ["VALIDATION"]


@pytest.mark.parametrize("depth, status", [(40, 200), (800, 200), (100_000, 400)])
async def test_deeply_nested_variables_are_refused_without_crashing(client, world, depth, status):
    payload = ('{"query": "query($f: ReferralFilter) { referrals(filter: $f) { totalCount } }", '
               '"variables": {"f": {"intersects": ' + "[" * depth + "]" * depth + "}}}")
    response = await client.post("/graphql", content=payload, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {world.tokens['admin']}"})
    assert response.status_code == status
    if status == 400:  # too deep for the JSON parser itself
        assert "JSON" in response.text
    else:
        assert error_codes(response.json()) == ["VALIDATION"]
        assert "nested" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("content, content_type, status, code", [
    (b"{not json", "application/json", 400, "VALIDATION"),
    (b'{"variables": {}}', "application/json", 400, "VALIDATION"),
    (b"query=%7B%7D", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b"{ me { username } }", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
])
async def test_unreadable_requests_get_graphql_shaped_errors(client, world, content, content_type, status, code):
    response = await client.post("/graphql", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert error_codes(response.json()) == [code]
    assert response.headers["x-request-id"]


async def test_broken_multipart_body_is_a_validation_error(client, world):
    response = await client.post("/graphql", content=b"--x\r\ngarbage", headers={
        "Content-Type": "multipart/form-data; boundary=x", "Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert response.status_code == 400 and error_codes(response.json()) == ["VALIDATION"]


def test_operator_commands_refuse_demo_secrets_in_production(monkeypatch):
    from app.manage import main
    from app.settings import get_settings

    monkeypatch.setenv("PIL_ENV", "production")
    get_settings.cache_clear()
    try:
        # The test stack's database and store credentials are real; its token and data keys are
        # the demo ones: commands that serve the app refuse them.
        with pytest.raises(RuntimeError, match="refusing to start in production.*PIL_AUTH_TOKEN_SECRET"):
            main(["prepare", "--no-demo"])
        # The store-and-database commands need no token or data keys, but refuse demo store keys.
        monkeypatch.delenv("PIL_S3_ACCESS_KEY")
        get_settings.cache_clear()
        with pytest.raises(RuntimeError, match="refusing to start in production.*PIL_S3_ACCESS_KEY"):
            main(["migrate"])
    finally:
        get_settings.cache_clear()


async def test_a_failing_root_field_leaves_the_others_answered(client, world):
    body = await graphql(client, '{ me { username } referral(id: "no-such-id") { id } }',
                         token=world.tokens["liaison-a"])
    assert body["data"] == {"me": {"username": "liaison-a"}, "referral": None}
    assert error_codes(body) == ["NOT_FOUND"] and body["errors"][0]["path"] == ["referral"]

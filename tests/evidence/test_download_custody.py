"""Downloads: authorised, logged, large ones a short-lived presigned URL issued after the checks
and logged as such; assessors never get contents by any path."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.evidence.custody_helpers import auth, detail, log_of, upload
from tests.referral.test_submit import PNG


@pytest.fixture
def presign_over_1_kib(resources, monkeypatch):
    monkeypatch.setattr(resources.settings.storage, "presign_download_over_bytes", 1024)
    monkeypatch.setattr(resources.settings.storage, "presign_ttl_seconds", 60)


async def test_a_large_file_is_a_presigned_redirect_logged_as_such(client, world, resources, presign_over_1_kib):
    content = PNG + b"\x07" * 4096
    [evidence] = (await upload(client, world, files=[("无人机.png", content, "image/png")]))["evidence"]
    response = await client.get(evidence["downloadPath"], headers=auth(world, "prosecutor-1"))
    assert response.status_code == 307 and response.headers["cache-control"] == "private, no-store"
    url = response.headers["location"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"] and query["versionId"]
    # The client fetches the pinned version straight from the store.
    async with httpx.AsyncClient(trust_env=False) as store_client:
        fetched = await store_client.get(url)
    assert fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == evidence["sha256"]
    assert "attachment" in fetched.headers["content-disposition"]

    _, issued = await log_of(resources, evidence["id"])
    assert issued.action.value == "DOWNLOAD_URL_ISSUED" and issued.actor_name == "prosecutor-1"
    assert detail(issued)["versionId"] == query["versionId"][0] and detail(issued)["expiresAt"]


async def test_a_small_file_still_streams_through_the_app(client, world, resources, presign_over_1_kib):
    [evidence] = (await upload(client, world, files=[("small.png", PNG, "image/png")]))["evidence"]
    response = await client.get(evidence["downloadPath"], headers=auth(world, "liaison-a"))
    assert response.status_code == 200 and response.content == PNG
    assert [entry.action.value for entry in await log_of(resources, evidence["id"])] == ["UPLOADED", "DOWNLOADED"]


@pytest.mark.parametrize("user, status, code", [("assessor-1", 403, "FORBIDDEN"), ("admin", 403, "FORBIDDEN"),
                                                ("liaison-b", 404, "NOT_FOUND"), ("prosecutor-2", 404, "NOT_FOUND")])
async def test_no_url_and_no_bytes_for_whoever_may_not_open_it(client, world, resources, presign_over_1_kib,
                                                               user, status, code):
    referral = await upload(client, world, files=[("big.png", PNG + b"\x00" * 4096, "image/png"),
                                                  ("small.png", PNG, "image/png")])
    for evidence in referral["evidence"]:
        response = await client.get(evidence["downloadPath"], headers=auth(world, user))
        assert response.status_code == status, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == code
        assert "location" not in response.headers and "X-Amz" not in response.text
        assert [entry.action.value for entry in await log_of(resources, evidence["id"])] == ["UPLOADED"]

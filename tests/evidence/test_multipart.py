"""Upload requests as raw multipart bodies: streamed into the store, and every malformed or hostile
body refused with a code (never INTERNAL, never a plain 500), leaving nothing behind."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from evidence.models import Evidence
from referral.models import Referral
from tests.conftest import error_codes
from tests.evidence.test_durability import run_janitor
from tests.referral.test_submit import PNG, SUBMIT, count_rows, referral_input, store_keys

BOUNDARY = "pil-test-boundary"


def part(name: str, content: bytes, filename: bytes | str | None = None, content_type: str | None = None) -> bytes:
    disposition = b'form-data; name="' + name.encode() + b'"'
    if filename is not None:
        disposition += b'; filename="' + (filename.encode() if isinstance(filename, str) else filename) + b'"'
    headers = b"Content-Disposition: " + disposition + b"\r\n"
    if content_type:
        headers += b"Content-Type: " + content_type.encode() + b"\r\n"
    return b"--" + BOUNDARY.encode() + b"\r\n" + headers + b"\r\n" + content + b"\r\n"


def body(*parts: bytes, close: bool = True) -> bytes:
    return b"".join(parts) + (b"--" + BOUNDARY.encode() + b"--\r\n" if close else b"")


def operations(evidence_count: int = 1, **variables) -> bytes:
    return json.dumps({"query": SUBMIT, "variables": {
        "input": referral_input(), "evidence": [{"file": None} for _ in range(evidence_count)], **variables}}).encode()


def file_map(**entries: list[str]) -> bytes:
    return json.dumps(entries).encode()


def png(name: str, filename: bytes | str = "a.png", content: bytes = PNG) -> bytes:
    return part(name, content, filename, "image/png")


async def post(client, world, content: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
               **headers: str):
    return await client.post("/graphql", content=content, headers={
        "Content-Type": content_type, "Authorization": f"Bearer {world.tokens['liaison-a']}", **headers})


async def assert_refused(response, resources, code: str = "VALIDATION", field: str | None = None) -> dict:
    answer = response.json()
    assert error_codes(answer) == [code], answer
    if field is not None:
        assert answer["errors"][0]["extensions"].get("field") == field, answer
    assert await count_rows(resources, Referral) == 0
    assert await count_rows(resources, Evidence) == 0
    # What reached the store before the fault is the janitor's to remove, and it does.
    await run_janitor(resources)
    assert store_keys(resources) == []
    return answer


async def test_a_well_formed_upload_is_stored(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
        png("0", "现场.png")))
    answer = response.json()
    assert "errors" not in answer, answer
    [evidence] = answer["data"]["submitReferral"]["evidence"]
    assert evidence["filename"] == "现场.png" and evidence["sizeBytes"] == len(PNG)
    assert len(store_keys(resources)) == 1


async def test_a_file_no_resolver_reads_is_drained_and_the_request_succeeds(client, world, resources):
    # `spare` is no variable of the operation, so nothing reads its file; the body is still read to the end.
    response = await post(client, world, body(
        part("operations", operations(spare=None)),
        part("map", file_map(**{"0": ["variables.evidence.0.file"], "1": ["variables.spare"]})),
        png("0"), png("1", content=PNG * 1000)))
    answer = response.json()
    assert "errors" not in answer, answer
    assert len(store_keys(resources)) == 1


async def test_map_that_is_a_list(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations()), part("map", b'[["variables.evidence.0.file"]]'), png("0")))
    await assert_refused(response, resources, field="map")
    assert response.status_code == 400


@pytest.mark.parametrize("path", [
    "variables.evidence.1.file",  # past the end of the list
    "variables.evidence.-1.file",
    "variables.evidence.99999999999999999999.file",
    "variables.evidence.first.file",  # a name where the list wants an index
    "variables.input.title.0",  # into a string
    "variables.nothing.file",
    "query",  # not a variable at all
])
async def test_map_path_that_leads_nowhere(client, world, resources, path):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": [path]})), png("0")))
    await assert_refused(response, resources, field="map")


@pytest.mark.parametrize("entry", ["variables.evidence.0.file", [], [7], {"path": "x"}])
async def test_map_entry_that_is_no_list_of_paths(client, world, resources, entry):
    response = await post(client, world, body(
        part("operations", operations()), part("map", json.dumps({"0": entry}).encode()), png("0")))
    await assert_refused(response, resources, field="map")


async def test_repeated_part_name(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
        png("0"), png("0")))
    # The first file was stored while the body arrived; the second "0" fails the request, which
    # removes it again.
    await assert_refused(response, resources, field="map")


async def test_more_files_than_allowed(client, world, resources):
    count = 21
    response = await post(client, world, body(
        part("operations", operations(count)),
        part("map", file_map(**{str(index): [f"variables.evidence.{index}.file"] for index in range(count)})),
        *[png(str(index)) for index in range(count)]))
    answer = await assert_refused(response, resources, field="map")
    assert answer["errors"][0]["extensions"]["limitFiles"] == 20


async def test_one_file_at_more_paths_than_allowed(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations(21)),
        part("map", file_map(**{"0": [f"variables.evidence.{index}.file" for index in range(21)]})), png("0")))
    await assert_refused(response, resources, field="map")


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=",
                                          "multipart/form-data; boundary=" + "x" * 300])
async def test_multipart_without_a_usable_boundary(client, world, resources, content_type):
    response = await post(client, world, body(part("operations", operations())), content_type=content_type)
    await assert_refused(response, resources)


async def test_other_multipart_types_are_unsupported(client, world, resources):
    response = await post(client, world, body(part("operations", operations())),
                          content_type=f"multipart/mixed; boundary={BOUNDARY}")
    await assert_refused(response, resources, code="UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("filename", [
    b"a\x00.png",  # NUL
    b"a\x1b[31m.png",  # a terminal escape
    b"\xed\xa0\x80.png",  # a lone UTF-16 surrogate, encoded as if it were a character
    b"\xff\xfe.png",  # not UTF-8 at all
])
async def test_file_name_that_is_not_clean_text(client, world, resources, filename):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
        png("0", filename)))
    await assert_refused(response, resources, field="evidence.0.file")


async def test_file_name_that_is_not_clean_text_in_a_file_nobody_reads(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations(spare=None)),
        part("map", file_map(**{"0": ["variables.evidence.0.file"], "1": ["variables.spare"]})),
        png("0"), png("1", b"b\x00.png")))
    await assert_refused(response, resources)


@pytest.mark.parametrize("value", [b"{not json", b"\xff\xfe", b'"a string"', b"[]", b"42", b"[" * 100_000])
async def test_operations_that_are_not_a_json_object(client, world, resources, value):
    response = await post(client, world, body(
        part("operations", value), part("map", file_map(**{"0": ["variables.evidence.0.file"]})), png("0")))
    await assert_refused(response, resources, field="operations")


async def test_map_that_is_not_json(client, world, resources):
    response = await post(client, world, body(part("operations", operations()), part("map", b"{'0': 1}"), png("0")))
    await assert_refused(response, resources, field="map")


@pytest.mark.parametrize("parts", [
    lambda: [part("map", file_map()), part("operations", operations())],  # map first
    lambda: [png("0"), part("operations", operations()), part("map", file_map())],  # a file first
    lambda: [part("operations", operations()), png("0")],  # no map at all
])
async def test_operations_and_map_must_come_first(client, world, resources, parts):
    response = await post(client, world, body(*parts()))
    await assert_refused(response, resources)


async def test_file_part_the_map_does_not_mention(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
        png("0"), png("stowaway")))
    await assert_refused(response, resources, field="map")


async def test_map_entry_naming_a_part_that_never_comes(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]}))))
    await assert_refused(response, resources, field="evidence.0.file")


async def test_map_entry_naming_a_part_that_never_comes_and_nobody_reads(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations(spare=None)),
        part("map", file_map(**{"0": ["variables.evidence.0.file"], "1": ["variables.spare"]})), png("0")))
    await assert_refused(response, resources, field="map")


async def test_files_in_another_order_than_they_are_read(client, world, resources):
    response = await post(client, world, body(
        part("operations", operations(2)),
        part("map", file_map(**{"0": ["variables.evidence.0.file"], "1": ["variables.evidence.1.file"]})),
        png("1"), png("0")))
    await assert_refused(response, resources, field="evidence.0.file")


@pytest.mark.parametrize("tail", [b"", b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data; na"])
async def test_body_that_ends_early(client, world, resources, tail):
    response = await post(client, world, body(
        part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
        png("0")[:-10], close=False) + tail)
    await assert_refused(response, resources)


async def test_part_without_a_name_or_disposition(client, world, resources):
    nameless = b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
    response = await post(client, world, body(nameless))
    await assert_refused(response, resources)
    headerless = b"--" + BOUNDARY.encode() + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    response = await post(client, world, body(headerless))
    await assert_refused(response, resources)


async def test_operations_larger_than_the_json_limit(client, world, resources, settings, monkeypatch):
    monkeypatch.setattr(settings.api, "max_json_bytes", 4096)
    padded = json.dumps({"query": SUBMIT, "variables": {"pad": "x" * 8192}}).encode()
    response = await post(client, world, body(part("operations", padded), part("map", file_map())))
    await assert_refused(response, resources, code="PAYLOAD_TOO_LARGE", field="operations")
    assert response.status_code == 413


async def test_body_limit_counts_the_bytes_read_not_the_declared_length(client, world, resources, settings,
                                                                        monkeypatch):
    monkeypatch.setattr(settings.api, "max_request_bytes", 64 * 1024)
    content = body(part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
                   png("0", content=PNG + bytes(256 * 1024)))

    async def chunks():
        for offset in range(0, len(content), 16 * 1024):
            yield content[offset:offset + 16 * 1024]

    # The header claims less than the limit; the body brings more.
    response = await post(client, world, chunks(), **{"Content-Length": "1000"})
    await assert_refused(response, resources, code="PAYLOAD_TOO_LARGE")


async def test_a_file_may_be_the_wrong_variable_type_and_is_still_refused_cleanly(client, world, resources):
    # An Upload where the schema wants a string: variable coercion refuses it.
    response = await post(client, world, body(
        part("operations", operations(0)), part("map", file_map(**{"0": ["variables.input.title"]})), png("0")))
    await assert_refused(response, resources)


async def test_a_body_that_stalls_fails_the_request(client, world, resources, monkeypatch):
    from app.graphql import PlatformRouter

    monkeypatch.setattr(PlatformRouter, "body_idle_timeout_seconds", 0.5)
    head = body(part("operations", operations()), part("map", file_map(**{"0": ["variables.evidence.0.file"]})),
                close=False) + png("0")[:-len(PNG) // 2]

    async def stalling():
        yield head
        await asyncio.sleep(30)  # a client that stopped sending
        yield b"never"

    started = time.monotonic()
    response = await post(client, world, stalling(), **{"Content-Length": str(len(head) + 1000)})
    assert time.monotonic() - started < 10
    await assert_refused(response, resources)

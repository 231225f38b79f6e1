"""attachEvidence: a file added to a referral later, through the streamed path, by the referring
agency's liaison while the referral is open and by prosecutors of the receiving procuratorate."""

from __future__ import annotations

import asyncio
import hashlib

from evidence.models import CustodyEvent, Evidence, PendingUpload
from tests.conftest import error_codes, graphql, graphql_upload
from tests.evidence import samples
from tests.referral.test_return_and_decline import DECLINE, REGISTER, WITHDRAW, submitted
from tests.referral.test_submit import count_rows

__all__ = ["attach", "submitted"]

ATTACH = """mutation($referralId: ID!, $file: Upload!, $kind: EvidenceKind, $description: String, $key: String) {
  attachEvidence(referralId: $referralId, file: $file, kind: $kind, description: $description,
                 idempotencyKey: $key) {
    id filename kind mediaType sizeBytes sha256 description downloadPath } }"""
EVIDENCE_OF = "query($id: ID!) { referral(id: $id) { evidence { id filename kind } } }"


async def attach(client, token: str, referral_id: str, file: tuple[str, bytes], kind: str | None = None,
                 description: str | None = None, key: str | None = None) -> dict:
    filename, content = file
    response = await graphql_upload(
        client, ATTACH, {"referralId": referral_id, "file": None, "kind": kind, "description": description,
                         "key": key},
        {"variables.file": (filename, content, "application/octet-stream")}, token)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_referring_liaison_adds_a_file_to_an_open_referral(client, world, resources):
    referral_id = await submitted(client, world)
    report = samples.PDF
    body = await attach(client, world.tokens["liaison-a"], referral_id, ("补充材料.pdf", report), kind="DOCUMENT",
                        description=" 补充的鉴定意见 ")
    assert "errors" not in body, body
    evidence = body["data"]["attachEvidence"]
    assert (evidence["filename"], evidence["kind"], evidence["description"]) == ("补充材料.pdf", "DOCUMENT", "补充的鉴定意见")
    assert evidence["sha256"] == hashlib.sha256(report).hexdigest() and evidence["sizeBytes"] == len(report)
    download = await client.get(evidence["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]
    shown = await graphql(client, EVIDENCE_OF, {"id": referral_id}, world.tokens["prosecutor-1"])
    assert [item["id"] for item in shown["data"]["referral"]["evidence"]] == [evidence["id"]]
    assert await count_rows(resources, PendingUpload) == 0
    assert await count_rows(resources, CustodyEvent) == 2  # uploaded, downloaded


async def test_prosecutors_of_the_receiving_procuratorate_add_files_after_registration(client, world):
    referral_id = await submitted(client, world)
    await graphql(client, REGISTER, {"id": referral_id}, world.tokens["prosecutor-1"])
    body = await attach(client, world.tokens["prosecutor-1"], referral_id, ("现场.jpg", samples.jpeg()), kind="PHOTO")
    assert body["data"]["attachEvidence"]["kind"] == "PHOTO"
    # The agency sees what the procuratorate added: it is the referral's evidence.
    shown = await graphql(client, EVIDENCE_OF, {"id": referral_id}, world.tokens["liaison-a"])
    assert [item["filename"] for item in shown["data"]["referral"]["evidence"]] == ["现场.jpg"]


async def test_nobody_else_may_add_files(client, world, resources):
    referral_id = await submitted(client, world)
    expected = {"liaison-b": "NOT_FOUND", "liaison-c": "NOT_FOUND", "prosecutor-2": "NOT_FOUND",
                "prosecutor-city": "FORBIDDEN",  # sees its districts' referrals, does not receive them
                "assessor-1": "FORBIDDEN", "admin": "FORBIDDEN"}
    for user, code in expected.items():
        body = await attach(client, world.tokens[user], referral_id, ("a.pdf", samples.PDF), kind="DOCUMENT")
        assert error_codes(body) == [code], (user, body)
        assert str(referral_id) not in body["errors"][0]["message"]
    body = await attach(client, world.tokens["liaison-a"], "not-an-id", ("a.pdf", samples.PDF), kind="DOCUMENT")
    assert error_codes(body) == ["NOT_FOUND"]
    assert await count_rows(resources, Evidence) == 0


async def test_a_closed_referral_takes_no_more_files(client, world, resources):
    withdrawn = await submitted(client, world)
    await graphql(client, WITHDRAW, {"id": withdrawn, "reason": "重复移送"}, world.tokens["liaison-a"])
    body = await attach(client, world.tokens["liaison-a"], withdrawn, ("a.pdf", samples.PDF), kind="DOCUMENT")
    assert error_codes(body) == ["INVALID_TRANSITION"]
    assert body["errors"][0]["extensions"]["reason"] == "REFERRAL_CLOSED"
    assert body["errors"][0]["extensions"]["status"] == "WITHDRAWN"

    declined = await submitted(client, world)
    await graphql(client, REGISTER, {"id": declined}, world.tokens["prosecutor-1"])
    await graphql(client, DECLINE, {"id": declined, "reason": "不属于公益诉讼范围"}, world.tokens["prosecutor-1"])
    for user in ("liaison-a", "prosecutor-1"):
        body = await attach(client, world.tokens[user], declined, ("a.pdf", samples.PDF), kind="DOCUMENT")
        assert body["errors"][0]["extensions"]["reason"] == "REFERRAL_CLOSED"
    assert await count_rows(resources, Evidence) == 0


async def test_a_file_sent_as_json_is_refused(client, world):
    referral_id = await submitted(client, world)
    body = await graphql(client, ATTACH, {"referralId": referral_id, "file": "not a file"}, world.tokens["liaison-a"])
    assert error_codes(body) == ["VALIDATION"]


async def test_a_retried_attachment_with_its_key_adds_nothing_new(client, world, resources):
    referral_id = await submitted(client, world)
    token = world.tokens["liaison-a"]
    first = await attach(client, token, referral_id, ("a.pdf", samples.PDF), kind="DOCUMENT", key="att-1")
    again = await attach(client, token, referral_id, ("a.pdf", samples.PDF), kind="DOCUMENT", key="att-1")
    assert again["data"]["attachEvidence"]["id"] == first["data"]["attachEvidence"]["id"]
    other = await attach(client, token, referral_id, ("a.pdf", samples.PDF + b"\n"), kind="DOCUMENT", key="att-1")
    assert error_codes(other) == ["CONFLICT"]
    assert other["errors"][0]["extensions"]["field"] == "idempotencyKey"
    # Keys are per referral: the same key on another referral is another file.
    elsewhere = await submitted(client, world)
    assert "errors" not in await attach(client, token, elsewhere, ("a.pdf", samples.PDF), kind="DOCUMENT", key="att-1")
    assert await count_rows(resources, Evidence) == 2


async def test_concurrent_retries_with_one_key_add_one_file(client, world, resources):
    referral_id = await submitted(client, world)
    answers = await asyncio.gather(*(attach(client, world.tokens["liaison-a"], referral_id, ("a.jpg", samples.jpeg()),
                                            kind="PHOTO", key="same") for _ in range(3)))
    assert len({answer["data"]["attachEvidence"]["id"] for answer in answers}) == 1, answers
    assert await count_rows(resources, Evidence) == 1

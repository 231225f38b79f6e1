"""The presigned path for every owner attachEvidence-like paths take: a reply to a recommendation
and a rectification report (the addressee agency's files), a rectification check (the
procuratorate's), scoped like their streamed attachments."""

from __future__ import annotations

import hashlib

from tests.conftest import error_codes, graphql
from tests.evidence.test_presigned import PROGRESS, part_of, put_part, video
from tests.recommendations.steps import RECOMMENDATION, check, ok, reply, served_recommendation

REQUEST = """mutation($input: RequestEvidenceUploadInput!) { requestEvidenceUpload(input: $input) {
  id referralId ownerKind ownerId status partUrls { number url } partSizeBytes } }"""
CONFIRM = """mutation($id: ID!) { confirmEvidenceUpload(id: $id) {
  id filename kind sha256 positionSource declaredAccuracyMeters metadataStatus } }"""


def upload_input(owner_id: str, owner_kind: str, content: bytes, **overrides) -> dict:
    return {"owner": owner_id, "ownerKind": owner_kind, "filename": "drone.mp4", "sizeBytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(), "kind": "VIDEO", **overrides}


async def send(client, world, owner_id: str, owner_kind: str, content: bytes, user: str, **overrides) -> dict:
    body = await graphql(client, REQUEST, {"input": upload_input(owner_id, owner_kind, content, **overrides)},
                         world.tokens[user])
    upload = ok(body, "requestEvidenceUpload")
    for part in upload["partUrls"]:
        response = await put_part(part["url"], part_of(content, upload, part["number"]))
        assert response.status_code == 200, response.text
    return upload


async def replied(client, world) -> tuple[str, str]:
    """(recommendation id, reply id): B's reply to a recommendation of a case referred by A."""
    _, recommendation_id = await served_recommendation(client, world)
    ok(await reply(client, world, recommendation_id), "replyToRecommendation")
    shown = ok(await graphql(client, RECOMMENDATION, {"id": recommendation_id}, world.tokens["liaison-b"]),
               "recommendation")
    return recommendation_id, shown["reply"]["id"]


async def test_the_addressee_sends_a_large_reply_attachment_through_the_store(client, world):
    recommendation_id, reply_id = await replied(client, world)
    content = video(6 * 1024 * 1024 + 17)
    declared = {"point": {"type": "Point", "coordinates": [113.205, 34.505]}, "accuracyMeters": 8}
    upload = await send(client, world, reply_id, "REPLY", content, "liaison-b", declaredPosition=declared)
    assert (upload["ownerKind"], upload["ownerId"], upload["referralId"]) == ("REPLY", reply_id, None)
    # The upload is the addressee's: the referring agency does not even see it.
    body = await graphql(client, PROGRESS, {"id": upload["id"]}, world.tokens["liaison-a"])
    assert error_codes(body) == ["NOT_FOUND"]

    evidence = ok(await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["liaison-b"]),
                  "confirmEvidenceUpload")
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    assert (evidence["positionSource"], evidence["declaredAccuracyMeters"]) == ("DECLARED", 8)
    shown = ok(await graphql(client, RECOMMENDATION, {"id": recommendation_id}, world.tokens["liaison-b"]),
               "recommendation")
    assert [item["id"] for item in shown["reply"]["attachments"]] == [evidence["id"]]
    download = await client.get(shown["reply"]["attachments"][0]["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['prosecutor-1']}"})
    assert hashlib.sha256(download.content).hexdigest() == evidence["sha256"]
    # The referring agency, not the addressee, sees neither the reply's files nor their contents.
    download = await client.get(shown["reply"]["attachments"][0]["downloadPath"],
                                headers={"Authorization": f"Bearer {world.tokens['liaison-a']}"})
    assert download.status_code == 404


async def test_only_the_addressee_agency_adds_to_a_reply(client, world):
    _, reply_id = await replied(client, world)
    content = video(1024)
    expected = {"liaison-a": "NOT_FOUND", "liaison-c": "NOT_FOUND", "prosecutor-2": "NOT_FOUND",
                "prosecutor-1": "FORBIDDEN", "assessor-1": "FORBIDDEN", "admin": "FORBIDDEN"}
    for user, code in expected.items():
        body = await graphql(client, REQUEST, {"input": upload_input(reply_id, "REPLY", content)},
                             world.tokens[user])
        assert error_codes(body) == [code], (user, body)
    # A reply's id given as another kind of owner is no such owner.
    body = await graphql(client, REQUEST, {"input": upload_input(reply_id, "RECTIFICATION_CHECK", content)},
                         world.tokens["prosecutor-1"])
    assert error_codes(body) == ["NOT_FOUND"]


async def test_prosecutors_add_large_files_to_their_rectification_check(client, world):
    recommendation_id, _ = await replied(client, world)
    check_id = ok(await check(client, world, recommendation_id), "recordRectificationCheck")["id"]
    for user in ("liaison-b", "liaison-a"):  # the addressee sees the check, but it is not its record
        body = await graphql(client, REQUEST, {"input": upload_input(check_id, "RECTIFICATION_CHECK", video(1024))},
                             world.tokens[user])
        assert error_codes(body) == ["FORBIDDEN" if user == "liaison-b" else "NOT_FOUND"], (user, body)
    content = video(2048)
    upload = await send(client, world, check_id, "RECTIFICATION_CHECK", content, "prosecutor-1")
    evidence = ok(await graphql(client, CONFIRM, {"id": upload["id"]}, world.tokens["prosecutor-1"]),
                  "confirmEvidenceUpload")
    shown = ok(await graphql(client, RECOMMENDATION, {"id": recommendation_id}, world.tokens["prosecutor-1"]),
               "recommendation")
    assert evidence["sha256"] in [item["sha256"] for item in shown["checks"][0]["evidence"]]

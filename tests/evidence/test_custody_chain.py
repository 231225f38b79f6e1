"""The custody log: every access is an entry, the database keeps it append-only and hash-chains it,
verifyEvidence and `manage verify-custody` find a changed, removed or reordered entry."""

from __future__ import annotations

import asyncio
import hashlib
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from agencies.models import Role
from agencies.principal import Principal
from evidence import custody
from evidence.chain import GENESIS, link_sha256
from evidence.models import CustodyAction
from tests.conftest import error_codes
from tests.evidence.custody_helpers import as_superuser, auth, detail, log_of, run_manage, upload, verify
from tests.referral.test_submit import PNG


async def test_upload_and_download_are_chained_entries_that_verify(client, world, resources):
    referral = await upload(client, world)
    [evidence] = referral["evidence"]
    assert (await client.get(evidence["downloadPath"], headers=auth(world, "prosecutor-1"))).status_code == 200

    uploaded, downloaded = await log_of(resources, evidence["id"])
    assert (uploaded.action.value, uploaded.actor_name) == ("UPLOADED", "liaison-a")
    assert detail(uploaded)["sha256"] == evidence["sha256"] and detail(uploaded)["sizeBytes"] == evidence["sizeBytes"]
    assert (downloaded.action.value, downloaded.actor_name) == ("DOWNLOADED", "prosecutor-1")
    assert (uploaded.seq, downloaded.seq) == (1, 2)
    assert uploaded.previous_sha256 == uploaded.evidence_previous_sha256 == GENESIS
    assert downloaded.previous_sha256 == uploaded.chain_sha256
    assert downloaded.evidence_previous_sha256 == uploaded.evidence_chain_sha256
    assert downloaded.chain_sha256 == link_sha256(2, uploaded.chain_sha256, downloaded.content_sha256)

    body = await verify(client, world, evidence["id"])
    assert "errors" not in body, body
    assert body["data"]["verifyEvidence"] == {
        "evidenceId": evidence["id"], "intact": True, "status": "INTACT", "recordedSha256": evidence["sha256"],
        "storedSha256": evidence["sha256"], "storedSizeBytes": evidence["sizeBytes"], "chainIntact": True,
        "chainProblem": None, "custodyEntries": 2}
    # The check itself is in the log, with its result, and the item's status is kept.
    *_, verified = await log_of(resources, evidence["id"])
    assert verified.action.value == "VERIFIED" and detail(verified)["status"] == "INTACT"
    shown = await client.post("/graphql", json={"query": "query($id: ID!) { referral(id: $id) { evidence { "
                                                "integrityStatus integrityCheckedAt } } }",
                                                "variables": {"id": referral["id"]}}, headers=auth(world, "liaison-a"))
    [seen] = shown.json()["data"]["referral"]["evidence"]
    assert seen["integrityStatus"] == "INTACT" and seen["integrityCheckedAt"]


@pytest.mark.parametrize("user, code", [("prosecutor-2", "NOT_FOUND"), ("liaison-b", "NOT_FOUND"),
                                        ("liaison-c", "NOT_FOUND"), ("liaison-a", "FORBIDDEN"),
                                        ("assessor-1", "FORBIDDEN"), ("admin", "FORBIDDEN")])
async def test_only_prosecutors_in_scope_verify(client, world, resources, user, code):
    [evidence] = (await upload(client, world))["evidence"]
    body = await verify(client, world, evidence["id"], user)
    assert error_codes(body) == [code] and body["data"] is None
    assert [entry.action.value for entry in await log_of(resources, evidence["id"])] == ["UPLOADED"]
    assert error_codes(await verify(client, world, "not-an-id")) == ["NOT_FOUND"]


async def test_the_database_refuses_to_change_or_remove_an_entry(client, world, resources):
    [evidence] = (await upload(client, world))["evidence"]
    statements = ["UPDATE custody_event SET actor_name = 'someone else'", "DELETE FROM custody_event",
                  "UPDATE custody_chain_head SET seq = 0", "DELETE FROM custody_chain_head"]
    for statement in statements:
        async with resources.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
    [entry] = await log_of(resources, evidence["id"])
    assert entry.actor_name == "liaison-a"


async def test_a_changed_entry_is_found_by_verify_evidence_and_the_operator_command(client, world, resources, caplog):
    [evidence] = (await upload(client, world))["evidence"]
    for _ in range(2):
        await client.get(evidence["downloadPath"], headers=auth(world, "liaison-a"))
    assert await run_manage("verify-custody") == 0
    _, changed, _ = await log_of(resources, evidence["id"])
    await as_superuser(resources, "UPDATE custody_event SET actor_name = 'liaison-b' WHERE id = :id", id=changed.id)

    result = (await verify(client, world, evidence["id"]))["data"]["verifyEvidence"]
    assert result["status"] == "INTACT" and result["intact"] is False and result["chainIntact"] is False
    assert f"entry #{changed.seq}" in result["chainProblem"] and "content" in result["chainProblem"]
    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("verify-custody") == 1
    assert f"entry #{changed.seq} ({changed.id}, evidence {evidence['id']})" in caplog.text


async def test_a_recomputed_entry_still_breaks_the_chain(client, world, resources, caplog):
    """A tamperer who also rewrites the entry's own content hash is caught by the next link."""
    [evidence] = (await upload(client, world))["evidence"]
    await client.get(evidence["downloadPath"], headers=auth(world, "liaison-a"))
    first, second = await log_of(resources, evidence["id"])
    forged_content = hashlib.sha256(b"forged").hexdigest()
    await as_superuser(resources, "UPDATE custody_event SET content_sha256 = :c, chain_sha256 = :h, "
                                  "evidence_chain_sha256 = :h WHERE id = :id", c=forged_content,
                       h=link_sha256(first.seq, GENESIS, forged_content), id=first.id)
    result = (await verify(client, world, evidence["id"]))["data"]["verifyEvidence"]
    assert result["chainIntact"] is False and f"entry #{first.seq}" in result["chainProblem"]


async def test_a_removed_entry_and_a_removed_tail_are_found(client, world, resources, caplog):
    [evidence] = (await upload(client, world))["evidence"]
    for _ in range(3):
        await client.get(evidence["downloadPath"], headers=auth(world, "liaison-a"))
    entries = await log_of(resources, evidence["id"])
    await as_superuser(resources, "DELETE FROM custody_event WHERE id = :id", id=entries[1].id)
    result = (await verify(client, world, evidence["id"]))["data"]["verifyEvidence"]
    assert result["chainIntact"] is False and f"entry #{entries[2].seq}" in result["chainProblem"]
    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("verify-custody") == 1
    assert f"entries #{entries[1].seq} to #{entries[1].seq} are missing" in caplog.text

    caplog.clear()
    # Put it back as it was (the chain is whole again), then cut the last entry instead.
    async with resources.session_factory() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        columns = ", ".join(column.name for column in entries[1].__table__.columns)
        await session.execute(text(f"INSERT INTO custody_event ({columns}) VALUES "
                                   f"({', '.join(':' + column.name for column in entries[1].__table__.columns)})"),
                              {column.name: getattr(entries[1], column.key) for column in entries[1].__table__.columns})
        await session.commit()
    assert await run_manage("verify-custody") == 0
    *_, before_last, last = await log_of(resources)
    await as_superuser(resources, "DELETE FROM custody_event WHERE id = :id", id=last.id)
    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("verify-custody") == 1
    assert f"the log ends at entry #{before_last.seq} but its head says #{last.seq}" in caplog.text


async def test_a_changed_evidence_hash_is_found_against_its_upload_entry(client, world, resources, caplog):
    [evidence] = (await upload(client, world))["evidence"]
    await as_superuser(resources, "UPDATE evidence SET sha256 = :forged WHERE id = :id",
                       forged="0" * 64, id=evidence["id"])
    result = (await verify(client, world, evidence["id"]))["data"]["verifyEvidence"]
    assert result["chainIntact"] is False and "sha256" in result["chainProblem"]
    assert result["status"] == "ALTERED"  # the stored bytes no longer hash to what the row now claims
    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("verify-custody") == 1
    assert f"evidence {evidence['id']}: the evidence row's sha256 differ" in caplog.text


async def test_concurrent_appends_line_up_on_the_chain_head(client, world, resources):
    referral = await upload(client, world, files=[(f"{n}.png", PNG + bytes([n]) * 64, "image/png") for n in range(3)])
    paths = [item["downloadPath"] for item in referral["evidence"]]
    responses = await asyncio.gather(*(client.get(paths[n % 3], headers=auth(world, "prosecutor-1"))
                                       for n in range(24)))
    assert {response.status_code for response in responses} == {200}
    log = await log_of(resources)
    assert [entry.seq for entry in log] == list(range(1, 28))
    assert await run_manage("verify-custody") == 0


async def test_an_append_waits_for_the_transaction_holding_the_chain_head(client, world, resources):
    [evidence] = (await upload(client, world))["evidence"]
    principal = Principal(role=Role.PROSECUTOR, username="clerk")
    async with resources.session_factory() as first, resources.session_factory() as second:
        custody.record(first, evidence_id=evidence["id"], action=CustodyAction.DOWNLOADED, principal=principal)
        await first.flush()  # holds the head row until it commits

        async def append_second() -> None:
            custody.record(second, evidence_id=evidence["id"], action=CustodyAction.EXPORTED, principal=principal)
            await second.flush()
            await second.commit()

        waiting = asyncio.create_task(append_second())
        await asyncio.sleep(0.5)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, 10)
    entries = await log_of(resources, evidence["id"])
    assert [(entry.seq, entry.action.value) for entry in entries] == [(1, "UPLOADED"), (2, "DOWNLOADED"), (3, "EXPORTED")]
    assert entries[2].evidence_previous_sha256 == entries[1].evidence_chain_sha256
    assert await run_manage("verify-custody") == 0


async def test_a_fully_recomputed_entry_is_found_by_the_next_link_of_the_log_and_of_its_item(client, world, resources,
                                                                                          caplog):
    """A tamperer who rewrites an entry and all three of its hashes consistently leaves the entries
    after it pointing at the old hashes: the set-based verifier names the next one."""
    from evidence.chain import content_sha256, timestamp_text

    [evidence] = (await upload(client, world))["evidence"]
    for _ in range(2):
        await client.get(evidence["downloadPath"], headers=auth(world, "liaison-a"))
    first, second, _ = await log_of(resources, evidence["id"])
    forged = content_sha256(entry_id=str(first.id), evidence_id=str(first.evidence_id), action=first.action.value,
                            actor_user_id=first.actor_user_id and str(first.actor_user_id), actor_api_key_id=None,
                            actor_name="someone-else", occurred_at=timestamp_text(first.occurred_at),
                            detail=first.detail)
    await as_superuser(resources, "UPDATE custody_event SET actor_name = 'someone-else', content_sha256 = :c, "
                                  "chain_sha256 = :h, evidence_chain_sha256 = :h WHERE id = :id",
                       c=forged, h=link_sha256(first.seq, GENESIS, forged), id=first.id)
    with caplog.at_level(logging.ERROR, logger="app.manage"):
        assert await run_manage("verify-custody") == 1
    assert f"entry #{second.seq} ({second.id}, evidence {evidence['id']}): it does not follow the previous entry" \
        in caplog.text

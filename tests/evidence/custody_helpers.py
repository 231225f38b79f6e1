"""What the custody tests share: evidence uploaded through the API, the log as stored, tampering as a
database superuser (bypassing the triggers) and as a store superuser (the SeaweedFS filer, which
bypasses S3 object lock), and the operator commands run as an operator would."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid

from sqlalchemy import select, text

from evidence.models import CustodyEvent
from tests.conftest import graphql
from tests.referral.test_submit import PNG, submit_with_files

VERIFY = """mutation($id: ID!) { verifyEvidence(id: $id) {
  evidenceId intact status recordedSha256 storedSha256 storedSizeBytes chainIntact chainProblem custodyEntries } }"""
REGISTER = "mutation($id: ID!) { registerReferral(id: $id) { status } }"


async def upload(client, world, files=None, user: str = "liaison-a") -> dict:
    """A referral of `user`'s agency with its evidence; returns the submitReferral payload."""
    files = files or [("现场照片.png", PNG + b"\x00" * 2048, "image/png")]
    body = await submit_with_files(client, world.tokens[user], files)
    assert "errors" not in body, body
    return body["data"]["submitReferral"]


def auth(world, user: str) -> dict:
    return {"Authorization": f"Bearer {world.tokens[user]}"}


async def verify(client, world, evidence_id: str, user: str = "prosecutor-1") -> dict:
    return await graphql(client, VERIFY, {"id": evidence_id}, world.tokens[user])


async def log_of(resources, evidence_id: str | None = None) -> list[CustodyEvent]:
    async with resources.session_factory() as session:
        query = select(CustodyEvent).order_by(CustodyEvent.seq)
        if evidence_id is not None:
            query = query.where(CustodyEvent.evidence_id == uuid.UUID(evidence_id))
        return list((await session.scalars(query)).all())


async def as_superuser(resources, statement: str, **params) -> None:
    """Run SQL with the triggers off, as only a database superuser can (session_replication_role)."""
    async with resources.session_factory() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text(statement), params)
        await session.commit()


async def run_manage(*argv: str) -> int:
    """`python -m app.manage ...` against the test stack (its environment is the process's)."""
    from app.manage import main
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        return await asyncio.to_thread(main, list(argv))
    finally:
        get_settings.cache_clear()


def _filer_url(stack) -> str:
    # The filer port is one of the flags devstack starts `weed mini` with.
    port = next(arg.split("=", 1)[1] for arg in stack.s3._process.args if arg.startswith("-filer.port="))
    return f"http://127.0.0.1:{port}"


def overwrite_in_place(stack, bucket: str, key: str, version_id: str, content: bytes) -> None:
    """Replace the bytes of one held version without changing its version id, through the SeaweedFS
    filer (a store superuser's access, below the S3 API and its object lock)."""
    path = f"{_filer_url(stack)}/buckets/{bucket}/{key}.versions/v_{version_id}"
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n").encode() \
        + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(path, data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        assert response.status in (200, 201), response.status


def detail(entry: CustodyEvent) -> dict | None:
    return None if entry.detail is None else json.loads(entry.detail)

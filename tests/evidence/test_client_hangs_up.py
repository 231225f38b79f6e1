"""A client that hangs up in the middle of an upload leaves nothing behind: no referral, no
evidence row, and (once the janitor has run) no object or multipart part in the store."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import uvicorn

from devstack.ports import LOOPBACK, free_port
from evidence.models import Evidence
from referral.models import Referral
from tests.conftest import graphql
from tests.evidence.test_durability import pending_uploads, run_janitor
from tests.referral.test_submit import PNG, SUBMIT, count_rows, referral_input, store_keys

BOUNDARY = "hangup-boundary"


def multipart_head(file_size: int) -> tuple[bytes, int]:
    """The start of a GraphQL multipart request whose one file is `file_size` bytes long, and
    the Content-Length the whole body would have."""
    operations = json.dumps({"query": SUBMIT, "variables": {"input": referral_input(), "evidence": [{"file": None}]}})
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.evidence.0.file"]}\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="drone.png"\r\n'
        "Content-Type: image/png\r\n\r\n",
    ]
    head = "".join(parts).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, len(head) + file_size + len(tail)


async def test_a_client_hanging_up_mid_upload_leaves_nothing_behind(app, world, resources):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=LOOPBACK, port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        file_size = 40 * 1024 * 1024
        head, length = multipart_head(file_size)
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        writer.write((f"POST /graphql HTTP/1.1\r\nHost: {LOOPBACK}\r\n"
                      f"Authorization: Bearer {world.tokens['liaison-a']}\r\n"
                      f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                      f"Content-Length: {length}\r\n\r\n").encode() + head + PNG)
        sent = len(PNG)
        chunk = bytes(1024 * 1024)
        while sent < 24 * 1024 * 1024:  # more than one store part, then the field office loses signal
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
        writer.transport.abort()

        # The server notices, gives up on the request, and carries on serving others.
        for _ in range(100):
            await asyncio.sleep(0.1)
            if all(abandoned for _, abandoned in await pending_uploads(resources)):
                break
        import httpx

        async with httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{port}") as client:
            me = await graphql(client, "{ me { username } }", token=world.tokens["liaison-a"])
        assert me["data"]["me"]["username"] == "liaison-a"
    finally:
        server.should_exit = True
        await serving
    assert await count_rows(resources, Referral) == 0
    assert await count_rows(resources, Evidence) == 0
    await run_janitor(resources, grace=timedelta(0))
    assert store_keys(resources) == []
    assert await resources.store.incomplete_uploads("referrals/") == []
    assert await pending_uploads(resources) == []

"""A real HTTP receiver for webhook tests: uvicorn on a free loopback port, in the test's own
event loop (so the test must await, not sleep, while it is to answer)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn


@dataclass
class Receiver:
    base: str
    requests: list[dict] = field(default_factory=list)
    failures_left: dict[str, int] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    """POST /ok answers 200; /flaky answers 503 once, then 200; /hang never answers."""
    port = _free_port()
    state = Receiver(base=f"http://127.0.0.1:{port}", failures_left={"/flaky": 1})

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        state.requests.append({"path": scope["path"], "body": body,
                               "headers": {key.decode(): value.decode() for key, value in scope["headers"]}})
        if scope["path"] == "/hang":
            await asyncio.sleep(60)
        status = 200
        if state.failures_left.get(scope["path"], 0) > 0:
            state.failures_left[scope["path"]] -= 1
            status = 503
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield state
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)



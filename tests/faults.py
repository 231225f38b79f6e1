"""Faults as they happen on a network: a TCP proxy between the app and a real service that can
freeze (accept and never answer) or cut a PostgreSQL connection right after the server answered a
COMMIT, so that the server has committed and the app never hears of it."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from devstack.ports import LOOPBACK

# asyncpg ends a transaction with a simple-protocol Query message "COMMIT;" ('Q', length, text,
# NUL); the server answers CommandComplete "COMMIT" ('C', length, tag, NUL) and ReadyForQuery.
_COMMIT_QUERY = re.compile(rb"Q\x00\x00\x00.COMMIT;?\x00", re.DOTALL)
_COMMIT_COMPLETE = b"C\x00\x00\x00\x0bCOMMIT\x00"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream port, with switchable faults:
    - `frozen = True`: new and existing connections stop moving bytes (a hung peer);
    - `refusing = True` with `drop_connections()`: a restarting server;
    - `cut_commit_after(b"INSERT INTO referral ")`: on the next connection that sends that SQL,
      the answer to its following COMMIT is dropped and the connection closed, after the
      server has committed."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = 0
        self.frozen = False
        self.refusing = False
        self._cut_marker: bytes | None = None
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop_connections(self) -> None:
        """Close every open connection, as a server restart does."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def cut_commit_after(self, sql: bytes) -> None:
        self._cut_marker = sql

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.refusing:  # a server that is restarting: the connection opens and closes at once
            client_writer.close()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}
        state = {"marked": False, "commit_sent": False}
        for coroutine in (self._pump(client_reader, server_writer, client_writer, state, upstream=True),
                          self._pump(server_reader, client_writer, server_writer, state, upstream=False)):
            task = asyncio.create_task(coroutine)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, reader, writer, other_writer, state, *, upstream: bool) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                while self.frozen:
                    await asyncio.sleep(0.05)
                if upstream and self._cut_marker is not None and self._cut_marker in data:
                    state["marked"] = True
                if upstream and state["marked"] and _COMMIT_QUERY.search(data):
                    state["commit_sent"] = True
                if not upstream and state["commit_sent"] and _COMMIT_COMPLETE in data:
                    # The server has committed and said so; the app never hears it.
                    self._cut_marker = None
                    state["marked"] = state["commit_sent"] = False
                    self.cuts += 1
                    writer.close()
                    other_writer.close()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


@contextlib.asynccontextmanager
async def app_behind_proxies(settings) -> AsyncIterator[tuple[httpx.AsyncClient, TcpProxy, TcpProxy]]:
    """An app of its own whose database and object-store connections go through TcpProxies:
    (client, database proxy, store proxy)."""
    from app.main import create_app

    db_port = urlsplit(settings.db.url.replace("+asyncpg", "")).port
    store_host, store_port = settings.storage.endpoint.rsplit(":", 1)
    db_proxy = await TcpProxy(db_port).start()
    store_proxy = await TcpProxy(int(store_port)).start()
    proxied = settings.model_copy(update={
        "db": settings.db.model_copy(update={"url": settings.db.url.replace(f":{db_port}/", f":{db_proxy.port}/")}),
        "storage": settings.storage.model_copy(update={"endpoint": f"{store_host}:{store_proxy.port}"}),
    })
    application = create_app(proxied)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client, db_proxy, store_proxy
    finally:
        await db_proxy.stop()
        await store_proxy.stop()

"""Liveness and readiness."""

from __future__ import annotations

import uuid

import httpx

import devstack
from app.main import create_app


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_reports_database_and_store(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "objectStore": True}


async def test_readyz_turns_503_when_the_store_stops(settings, tmp_path):
    private_store = devstack.start_seaweed(tmp_path)
    try:
        own = settings.model_copy(update={"storage": settings.storage.model_copy(update={
            "endpoint": private_store.endpoint, "access_key": private_store.access_key,
            "secret_key": private_store.secret_key})})
        application = create_app(own)
        async with application.router.lifespan_context(application):
            await application.state.resources.store.ensure_bucket()
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                assert (await client.get("/readyz")).status_code == 200
                private_store.stop()
                response = await client.get("/readyz")
                assert response.status_code == 503
                assert response.json()["checks"] == {"database": True, "objectStore": False}
    finally:
        private_store.stop()


async def test_database_down_is_a_clear_error_and_not_ready(settings, world):
    from devstack.ports import free_port
    from tests.conftest import error_codes

    closed = settings.model_copy(update={"db": settings.db.model_copy(update={
        "url": f"postgresql+asyncpg://postgres:x@127.0.0.1:{free_port()}/pil"})})
    application = create_app(closed)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            readiness = await client.get("/readyz")
            assert readiness.status_code == 503 and readiness.json()["checks"]["database"] is False
            body = (await client.post("/graphql", json={"query": "{ me { username } }"},
                                      headers={"Authorization": f"Bearer {world.tokens['admin']}"})).json()
            assert error_codes(body) == ["DATABASE_UNAVAILABLE"]
            assert "database" in body["errors"][0]["message"]
            login = (await client.post("/graphql", json={"query": 'mutation { login(username: "admin", '
                                                                  'password: "x") { token } }'})).json()
            assert error_codes(login) == ["DATABASE_UNAVAILABLE"]
            download = await client.get(f"/evidence/{uuid.uuid4()}/content",
                                        headers={"Authorization": f"Bearer {world.tokens['admin']}"})
            assert download.status_code == 503 and download.headers["retry-after"] == "5"
            assert download.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"

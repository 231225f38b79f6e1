"""The worker in compose: the app's image, the database and the app's own store user (photos'
metadata), and the production check."""

from __future__ import annotations

import os

import pytest

from tests.app.test_compose import COMPOSE, resolved


def test_compose_runs_the_worker_from_the_apps_image_with_the_database_and_the_apps_store_user():
    worker, janitor, app = (COMPOSE["services"][name] for name in ("worker", "janitor", "app"))
    assert worker["build"] == janitor["build"] == app["build"]
    assert worker["command"][-2:] == ["app.manage", "worker"]
    assert worker["depends_on"]["app"]["condition"] == "service_healthy"  # migrated, queue schema included
    environment = resolved("worker")
    store = {"PIL_S3_ENDPOINT", "PIL_S3_SECURE", "PIL_S3_ACCESS_KEY", "PIL_S3_SECRET_KEY"}
    assert set(environment) == {"PIL_ENV", "PIL_DB_URL"} | store
    # The app's own store user (it reads evidence and writes previews, never deletes), not the janitor's.
    assert {key: environment[key] for key in store | {"PIL_DB_URL"}} == {
        key: resolved("app")[key] for key in store | {"PIL_DB_URL"}}
    assert "PIL_S3_BUCKET" in worker["environment"]


def test_the_worker_refuses_the_demo_database_password_in_production(monkeypatch):
    from app import settings as settings_module
    from app.manage import main

    for key in list(os.environ):
        if key.startswith("PIL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIL_ENV", "production")
    settings_module.get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="demo database password"):
            main(["worker"])
        monkeypatch.setenv("PIL_DB_URL", "postgresql+asyncpg://pil:a-real-password@db:5432/pil")
        settings_module.get_settings.cache_clear()
        with pytest.raises(RuntimeError, match="PIL_S3_ACCESS_KEY is the demo value"):
            main(["worker"])
    finally:
        settings_module.get_settings.cache_clear()

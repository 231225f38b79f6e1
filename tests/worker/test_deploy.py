"""The worker in compose: the app's image, the database only, and the production check."""

from __future__ import annotations

import os

import pytest

from tests.app.test_compose import COMPOSE, resolved


def test_compose_runs_the_worker_from_the_apps_image_with_the_database_only():
    worker, janitor, app = (COMPOSE["services"][name] for name in ("worker", "janitor", "app"))
    assert worker["build"] == janitor["build"] == app["build"]
    assert worker["command"][-2:] == ["app.manage", "worker"]
    assert worker["depends_on"]["app"]["condition"] == "service_healthy"  # migrated, queue schema included
    environment = resolved("worker")
    assert set(environment) == {"PIL_ENV", "PIL_DB_URL"}
    assert environment["PIL_DB_URL"] == resolved("app")["PIL_DB_URL"]


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
    finally:
        settings_module.get_settings.cache_clear()

"""docker-compose.yml, the Dockerfile and its entry script, checked without a Docker engine.

The compose file is parsed as YAML and `${...}` references are interpolated the way compose does
it, so these tests catch a renamed setting, a defaulted secret or a wrong service host before a
deployment does. No services are needed.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from app import settings as app_settings
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint"

# What an operator must provide; sample values for interpolation.
REQUIRED_VARIABLES = {
    "PIL_DB_PASSWORD": "db-password-from-the-operator",
    "PIL_MINIO_ROOT_USER": "operator-root-user",
    "PIL_MINIO_ROOT_PASSWORD": "operator-root-password-0123456789",
    "PIL_S3_ACCESS_KEY": "operator-app-access-key",
    "PIL_S3_SECRET_KEY": "operator-app-secret-key-0123456789",
    "PIL_JANITOR_S3_ACCESS_KEY": "operator-janitor-access-key",
    "PIL_JANITOR_S3_SECRET_KEY": "operator-janitor-secret-key-0123456789",
    "PIL_AUTH_TOKEN_SECRET": "operator-token-secret-0123456789abcdef",
    "PIL_PROTECT_DATA_KEY": base64.b64encode(b"operator-data-key-32-bytes-long!").decode(),
    "PIL_PROTECT_INDEX_KEY": base64.b64encode(b"operator-index-key-32-bytes-long").decode(),
    "PIL_BUNDLE_SIGNING_KEY": base64.b64encode(b"operator-bundle-signing-key-32b!").decode(),
}
# App settings whose values are secrets: each must be a required `${VAR:?...}` reference.
SECRET_SETTINGS = ("PIL_S3_ACCESS_KEY", "PIL_S3_SECRET_KEY", "PIL_AUTH_TOKEN_SECRET", "PIL_PROTECT_DATA_KEY",
                   "PIL_PROTECT_INDEX_KEY", "PIL_BUNDLE_SIGNING_KEY")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY")
# ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:?word}, ${NAME?word}, ${NAME:+word}, ${NAME+word}
REFERENCE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<word>[^}]*)\}"
                       r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")


class MissingVariable(Exception):
    """A ${NAME:?…} reference whose variable is not set: compose would refuse to start."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable interpolation (the subset above), raising where compose refuses."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, word = match.group("op"), match.group("word") or ""
        present = name in env
        non_empty = bool(env.get(name))
        if op in (":?", "?") and not (non_empty if op == ":?" else present):
            raise MissingVariable(f"{name}: {word}")
        if op in (":-", "-") and not (non_empty if op == ":-" else present):
            return word
        if op in (":+", "+"):
            return word if (non_empty if op == ":+" else present) else ""
        return env.get(name, "")

    return REFERENCE.sub(replace, value)


def references(value: str) -> list[re.Match[str]]:
    return [match for match in REFERENCE.finditer(value) if match.group(0) != "$$"]


def environment(service: str) -> dict[str, str | None]:
    """A service's environment as a mapping, whichever syntax (list or mapping) it uses."""
    raw = COMPOSE["services"][service].get("environment") or {}
    if isinstance(raw, list):
        pairs = (entry.split("=", 1) if "=" in entry else (entry, None) for entry in raw)
        return {key: value for key, value in pairs}
    return {key: None if value is None else str(value) for key, value in raw.items()}


def resolved(service: str) -> dict[str, str]:
    """Interpolated with the required variables set; keys passed through (no value) left out."""
    return {
        key: interpolate(value, REQUIRED_VARIABLES)
        for key, value in environment(service).items()
        if value is not None
    }


def setting_names() -> set[str]:
    """Every environment variable app.settings.Settings reads: PIL_ENV and the nested ones."""
    top_prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            prefix = nested.model_config.get("env_prefix", "")
            names |= {f"{prefix}{sub}".upper() for sub in nested.model_fields}
        else:
            names.add(f"{top_prefix}{name}".upper())
    return names


def container_port(entry: str | dict) -> int:
    if isinstance(entry, dict):
        return int(entry["target"])
    return int(str(entry).split("/")[0].rsplit(":", 1)[-1])


def test_the_services_exist_with_health_checks():
    services = COMPOSE["services"]
    assert {"db", "objectstore", "objectstore-setup", "app", "janitor"} <= services.keys()
    for name in ("db", "objectstore", "app"):
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert check["test"] not in (["NONE"], "NONE")
    assert services["db"]["image"].startswith("postgis/postgis:15-")
    assert "pg_isready" in str(services["db"]["healthcheck"]["test"])
    assert services["objectstore"]["image"].startswith("minio/minio")
    assert "/healthz" in str(services["app"]["healthcheck"]["test"])


def test_setting_names_are_derived_from_the_settings_classes():
    names = setting_names()
    assert {"PIL_ENV", "PIL_DB_URL", "PIL_S3_ENDPOINT", "PIL_AUTH_TOKEN_SECRET"} <= names


@pytest.mark.parametrize("service", ["app", "janitor"])
def test_every_app_environment_variable_is_a_setting(service):
    unknown = set(environment(service)) - setting_names()
    assert not unknown, f"not read by app.settings.Settings: {sorted(unknown)}"


def test_the_app_runs_in_production_against_the_compose_services():
    env = resolved("app")
    assert env["PIL_ENV"] == "production"
    database = urlsplit(env["PIL_DB_URL"])
    assert database.scheme == "postgresql+asyncpg"
    assert database.hostname == "db"
    assert env["PIL_S3_ENDPOINT"] == "objectstore:9000"


def test_the_app_and_the_services_share_credentials():
    app, db = resolved("app"), resolved("db")
    database = urlsplit(app["PIL_DB_URL"])
    assert database.username == db["POSTGRES_USER"]
    assert database.password == db["POSTGRES_PASSWORD"]
    assert database.path == f"/{db['POSTGRES_DB']}"
    assert resolved("janitor")["PIL_DB_URL"] == app["PIL_DB_URL"]


def test_the_app_and_the_janitor_use_their_own_store_users_never_root():
    app, janitor, store, setup = (resolved("app"), resolved("janitor"), resolved("objectstore"),
                                  resolved("objectstore-setup"))
    root = {store["MINIO_ROOT_USER"], store["MINIO_ROOT_PASSWORD"]}
    assert not root & {app["PIL_S3_ACCESS_KEY"], app["PIL_S3_SECRET_KEY"]}
    assert not root & {janitor["PIL_S3_ACCESS_KEY"], janitor["PIL_S3_SECRET_KEY"]}
    assert janitor["PIL_S3_ACCESS_KEY"] != app["PIL_S3_ACCESS_KEY"]
    # The set-up creates exactly these users, as root.
    assert (setup["MINIO_ROOT_USER"], setup["MINIO_ROOT_PASSWORD"]) == (store["MINIO_ROOT_USER"],
                                                                        store["MINIO_ROOT_PASSWORD"])
    assert (setup["APP_ACCESS_KEY"], setup["APP_SECRET_KEY"]) == (app["PIL_S3_ACCESS_KEY"], app["PIL_S3_SECRET_KEY"])
    assert (setup["JANITOR_ACCESS_KEY"], setup["JANITOR_SECRET_KEY"]) == (janitor["PIL_S3_ACCESS_KEY"],
                                                                          janitor["PIL_S3_SECRET_KEY"])
    assert COMPOSE["services"]["app"]["depends_on"]["objectstore-setup"]["condition"] == \
        "service_completed_successfully"
    assert COMPOSE["services"]["janitor"]["command"][-4:] == ["app.manage", "sweep", "--every", "300"]


def policy(role: str) -> dict:
    import json

    return json.loads((ROOT / "deploy" / "minio" / f"{role}-policy.json").read_text().replace("BUCKET", "b"))


def actions(document: dict, effect: str) -> set[str]:
    return {action for statement in document["Statement"] if statement["Effect"] == effect
            for action in statement["Action"]}


# What could destroy or unprotect evidence once it is in the store.
DESTRUCTIVE = {"s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention",
               "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning", "s3:PutBucketPolicy",
               "s3:PutLifecycleConfiguration", "s3:DeleteBucket"}


def test_the_app_policy_can_never_delete_a_version_or_loosen_the_bucket():
    app = policy("app")
    allowed, denied = actions(app, "Allow"), actions(app, "Deny")
    assert not any("*" in action for action in allowed)
    assert not allowed & (DESTRUCTIVE | {"s3:DeleteObject"})
    assert DESTRUCTIVE | {"s3:DeleteObject"} <= denied  # explicit: a broader grant added later cannot undo it
    assert {"s3:PutObject", "s3:GetObjectVersion", "s3:PutObjectLegalHold"} <= allowed


def test_the_janitor_policy_deletes_versions_but_never_writes_or_loosens_the_bucket():
    janitor = policy("janitor")
    allowed, denied = actions(janitor, "Allow"), actions(janitor, "Deny")
    assert not any("*" in action for action in allowed)
    assert {"s3:DeleteObjectVersion", "s3:PutObjectLegalHold", "s3:AbortMultipartUpload"} <= allowed
    assert not allowed & (DESTRUCTIVE - {"s3:DeleteObjectVersion"})
    assert DESTRUCTIVE - {"s3:DeleteObjectVersion"} | {"s3:PutObject"} <= denied


def test_the_store_setup_attaches_both_policies_and_makes_a_locked_bucket():
    script = (ROOT / "deploy" / "minio" / "setup.sh").read_text()
    assert "mc mb --ignore-existing --with-lock" in script
    for role in ("app", "janitor"):
        assert f"mc admin policy attach store pil-{role}" in script
        assert "mc admin policy entities store" in script


def test_secrets_are_required_not_defaulted():
    for service in COMPOSE["services"]:
        for key, value in environment(service).items():
            for match in references(value or ""):
                name = match.group("name") or match.group("bare")
                if SECRET_NAME.search(name):
                    assert match.group("op") == ":?", f"{service}.{key}: ${name} must be ${{{name}:?...}}"
    app = environment("app")
    for key in SECRET_SETTINGS:
        value = app[key] or ""
        matches = references(value)
        assert len(matches) == 1 and matches[0].group(0) == value, f"{key} must be one ${{...}}"
        assert matches[0].group("op") == ":?", f"{key} must be required (${{VAR:?...}})"
    # The password inside PIL_DB_URL comes from the (required, checked above) PIL_DB_PASSWORD.
    marked = {**REQUIRED_VARIABLES, "PIL_DB_PASSWORD": "marker-password"}
    assert urlsplit(interpolate(app["PIL_DB_URL"] or "", marked)).password == "marker-password"


@pytest.mark.parametrize("variable", sorted(REQUIRED_VARIABLES))
def test_compose_refuses_to_start_without_each_secret(variable):
    partial = {key: value for key, value in REQUIRED_VARIABLES.items() if key != variable}
    with pytest.raises(MissingVariable, match=variable):
        for service in COMPOSE["services"]:
            for value in environment(service).values():
                interpolate(value or "", partial)


def test_no_demo_secret_is_written_into_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("DEMO_TOKEN_SECRET", "DEMO_S3_ACCESS_KEY", "DEMO_S3_SECRET_KEY", "DEMO_DB_PASSWORD",
                 "DEMO_PROTECT_DATA_KEY", "DEMO_PROTECT_INDEX_KEY", "DEMO_BUNDLE_SIGNING_KEY"):
        assert getattr(app_settings, name) not in text, name


def test_the_compose_environment_is_an_accepted_production_configuration(monkeypatch):
    for key in list(os.environ):
        if key.startswith("PIL_"):
            monkeypatch.delenv(key)
    for key, value in resolved("app").items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    settings.check_production()  # raises on a demo secret or a short signing key
    assert settings.is_production
    assert settings.storage.endpoint == "objectstore:9000"


@pytest.mark.parametrize("variable, value", [
    ("PIL_PROTECT_DATA_KEY", app_settings.DEMO_PROTECT_DATA_KEY),
    ("PIL_PROTECT_INDEX_KEY", app_settings.DEMO_PROTECT_INDEX_KEY),
    ("PIL_PROTECT_INDEX_KEY", REQUIRED_VARIABLES["PIL_PROTECT_DATA_KEY"]),  # one key for both jobs
])
def test_production_refuses_demo_or_shared_protection_keys(monkeypatch, variable, value):
    for key in list(os.environ):
        if key.startswith("PIL_"):
            monkeypatch.delenv(key)
    for key, resolved_value in resolved("app").items():
        monkeypatch.setenv(key, resolved_value)
    monkeypatch.setenv(variable, value)
    with pytest.raises(RuntimeError, match="PIL_PROTECT_"):
        Settings().check_production()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"sixteen bytes!!!").decode()])
def test_a_protection_key_must_be_base64_of_32_bytes(monkeypatch, value):
    monkeypatch.setenv("PIL_PROTECT_DATA_KEY", value)
    with pytest.raises(ValueError, match="base64"):
        Settings()


def test_only_the_app_publishes_a_port_and_it_is_the_one_the_image_exposes():
    publishing = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert publishing == {"app"}
    published = {container_port(entry) for entry in COMPOSE["services"]["app"]["ports"]}
    exposed = {int(port.split("/")[0]) for line in re.findall(r"^EXPOSE\s+(.+)$", DOCKERFILE, re.M)
               for port in line.split()}
    assert published == exposed == {8000}


def test_the_app_waits_for_healthy_services():
    depends = COMPOSE["services"]["app"]["depends_on"]
    assert isinstance(depends, dict), "use the long depends_on syntax with conditions"
    for name in ("db", "objectstore"):
        assert depends[name]["condition"] == "service_healthy"


def test_the_image_runs_as_a_non_root_user_and_prepares_without_demo_data():
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0"), "the image must end with a non-root USER"
    assert "scripts/docker-entrypoint" in DOCKERFILE
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    script = ENTRYPOINT.read_text()
    assert "app.manage prepare --no-demo" in script
    assert re.search(r"exec .*uvicorn --factory app\.main:create_app --host 0\.0\.0\.0 --port 8000", script)


def test_production_refuses_the_demo_bundle_signing_key(monkeypatch):
    for key in list(os.environ):
        if key.startswith("PIL_"):
            monkeypatch.delenv(key)
    for key, value in resolved("app").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PIL_BUNDLE_SIGNING_KEY", app_settings.DEMO_BUNDLE_SIGNING_KEY)
    with pytest.raises(RuntimeError, match="PIL_BUNDLE_SIGNING_KEY"):
        Settings().check_production()


def test_the_bucket_retention_is_the_apps_and_compliance(monkeypatch):
    setup = resolved("objectstore-setup")
    assert setup["RETENTION_DAYS"] == resolved("app")["PIL_S3_RETENTION_DAYS"] == "3650"
    script = (ROOT / "deploy" / "minio" / "setup.sh").read_text()
    assert 'mc retention set --default COMPLIANCE "${RETENTION_DAYS}d"' in script


def test_the_janitor_starts_in_production_with_only_the_database_and_its_store_user(monkeypatch):
    from app.manage import main

    janitor = resolved("janitor")
    # Least privilege: the janitor is given no token or data key, and needs none.
    assert not {"PIL_AUTH_TOKEN_SECRET", "PIL_PROTECT_DATA_KEY", "PIL_PROTECT_INDEX_KEY"} & set(janitor)
    for key in list(os.environ):
        if key.startswith("PIL_"):
            monkeypatch.delenv(key)
    for key, value in janitor.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    settings.check_production(serving=False)  # accepted as the janitor
    with pytest.raises(RuntimeError):
        settings.check_production()  # but not as the app
    # The command itself gets past the check and fails only on reaching the database.
    from app import settings as settings_module

    settings_module.get_settings.cache_clear()
    monkeypatch.setenv("PIL_DB_URL", "postgresql+asyncpg://pil:x@127.0.0.1:1/pil")
    monkeypatch.setenv("PIL_DB_CONNECT_TIMEOUT_SECONDS", "1")
    try:
        with pytest.raises(Exception) as failure:
            main(["hold-evidence"])
        assert "refusing to start" not in str(failure.value)
    finally:
        settings_module.get_settings.cache_clear()


def test_the_store_setup_script_runs_with_a_plain_posix_shell(tmp_path):
    """Run deploy/minio/setup.sh under dash with a stand-in `mc` that records its calls: the
    minio/mc image has a shell and mc, not sed or grep."""
    import json
    import shutil
    import subprocess

    shell = shutil.which("dash") or shutil.which("sh")
    calls = tmp_path / "calls"
    fake_mc = tmp_path / "mc"
    fake_mc.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n'
                       'case "$*" in *"--user app-key"*) echo pil-app ;; *"--user jan-key"*) echo pil-janitor ;; esac\n')
    fake_mc.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "POLICIES": str(ROOT / "deploy" / "minio"),
           "MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "root-password", "BUCKET": "evidence-bucket",
           "APP_ACCESS_KEY": "app-key", "APP_SECRET_KEY": "app-secret",
           "JANITOR_ACCESS_KEY": "jan-key", "JANITOR_SECRET_KEY": "jan-secret"}
    result = subprocess.run([shell, str(ROOT / "deploy" / "minio" / "setup.sh")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    assert "mb --ignore-existing --with-lock store/evidence-bucket" in lines
    assert "admin policy attach store pil-app --user app-key" in lines
    assert "admin policy attach store pil-janitor --user jan-key" in lines
    written = json.loads(open("/tmp/pil-app.json").read())
    assert {resource for statement in written["Statement"] for resource in statement["Resource"]} == {
        "arn:aws:s3:::evidence-bucket", "arn:aws:s3:::evidence-bucket/*"}


def test_the_image_installs_every_package_of_the_project():
    # `pip install .` in the Dockerfile installs only the packages pyproject.toml lists.
    import tomllib

    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert {f"{name}*" for name in packages} <= set(listed), sorted(packages)

"""How the app serves the portal's bundle: index.html revalidated on every visit, the hashed files
under /assets/ cached for a year, nothing outside the bundle's directory, a page that says what to
do when the bundle is not built."""

from __future__ import annotations

import re

from app.settings import PortalSettings


async def test_index_is_revalidated_and_names_hashed_assets_cached_for_a_year(client, portal_dist):
    index = await client.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index.text)
    assert any(name.endswith(".js") for name in assets) and any(name.endswith(".css") for name in assets)
    # Nothing is loaded from elsewhere: every script and stylesheet is the bundle's own.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', index.text)
    for name in assets:
        assert re.search(r"-[A-Za-z0-9_-]{8}\.(?:js|css)$", name), name  # content-hashed
        asset = await client.get(name)
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript", "text/css")


async def test_only_the_bundles_own_files_are_served(client, portal_dist):
    for path in ("/assets/missing-12345678.js", "/assets/.sources.sha256", "/assets/..%2E"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # An encoded slash never reaches a file outside the bundle's directory.
    for path in ("/assets/..%2F..%2Fpyproject.toml", "/assets/..%2Findex.html"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "[project]" not in response.text and "<html" not in response.text


async def test_without_a_bundle_the_page_says_how_to_build_it(app, client, tmp_path):
    built = app.state.portal_settings
    app.state.portal_settings = PortalSettings(dist_dir=tmp_path)
    try:
        response = await client.get("/")
    finally:
        app.state.portal_settings = built
    assert response.status_code == 503
    assert "scripts/run" in response.text


async def test_the_portal_is_told_the_configured_basemap_or_none(app, client):
    assert (await client.get("/portal/config.json")).json() == {"basemapUrl": None}
    built = app.state.portal_settings
    app.state.portal_settings = PortalSettings(basemap_url="https://tiles.example/{z}/{x}/{y}.png")
    try:
        body = (await client.get("/portal/config.json")).json()
    finally:
        app.state.portal_settings = built
    assert body == {"basemapUrl": "https://tiles.example/{z}/{x}/{y}.png"}

"""The web portal (portal/): its built bundle served at `/`. The bundle's files under /assets/ have
content-hashed names, so they are cached for a year; index.html names the current ones and is
revalidated on every visit."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from app.http import error_response
from app.settings import PortalSettings
from core.errors import NotFound

router = APIRouter()
IMMUTABLE = "public, max-age=31536000, immutable"
# Without the bundle the app still serves its API; the page says how to get the portal.
NOT_BUILT_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>公益诉讼线索移送平台</title></head><body>
<h1>公益诉讼线索移送平台</h1>
<p>门户尚未构建：请运行 <code>scripts/run</code>（或在 portal/ 中 <code>npm ci &amp;&amp; npm run build</code>）。</p>
<p>The portal is not built: run <code>scripts/run</code> (or <code>npm ci &amp;&amp; npm run build</code> in portal/).</p>
<p><a href="/graphql">GraphQL API</a></p>
</body></html>"""


def _settings(request: Request) -> PortalSettings:
    return request.app.state.portal_settings


def _dist(request: Request) -> Path:
    return _settings(request).dist_dir


@router.get("/", include_in_schema=False)
async def portal_index(request: Request) -> Response:
    index = _dist(request) / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT_PAGE, status_code=503, headers={"Cache-Control": "no-store"})
    return FileResponse(index, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/assets/{name}", include_in_schema=False)
async def portal_asset(name: str, request: Request) -> Response:
    assets = _dist(request) / "assets"
    # Only a plain file name of the bundle's own directory: no path may climb out of it.
    path = assets / name
    if "/" in name or name.startswith(".") or not path.is_file():
        return error_response(NotFound("没有该文件 / no such file", field="name"))
    return FileResponse(path, headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"})


@router.get("/portal/config.json", include_in_schema=False)
async def portal_config(request: Request) -> JSONResponse:
    return JSONResponse({"basemapUrl": _settings(request).basemap_url},
                        headers={"Cache-Control": "no-cache"})

"""GraphiQL for development, served entirely from this server (no CDN: the platform runs
offline), opening on an example that shows how to sign in."""

from __future__ import annotations

import mimetypes
import re
import tarfile
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

# The npm files GraphiQL's page loads, kept as they were published, in one archive (see
# graphiql-assets.md beside it); read into memory on first use, in development only.
ASSETS_ARCHIVE = Path(__file__).parent / "static" / "graphiql-assets.tar.gz"
ASSETS_URL = "/graphiql-static/"
CDN = "https://unpkg.com/"

EXAMPLE = """# 公益诉讼线索移送平台 · GraphQL API
#
# 1. Sign in (demo accounts and passwords are in the README):
#
#      mutation { login(username: "weidong.prosecutor", password: "demo-password-2026") { token } }
#
# 2. Open "Headers" below and put:  { "Authorization": "Bearer <the token>" }
# 3. Run (Ctrl-Enter):

{
  me { username role jurisdiction { name } }
  referrals(first: 10) {
    totalCount
    edges { node { title status areaMu submittedAt agency { name } evidence { filename downloadPath } } }
  }
}
"""


def local_graphiql_html(template: str) -> str:
    """strawberry's GraphiQL page with its CDN files served from ASSETS_URL and our example."""
    html = template.replace(CDN, ASSETS_URL)
    example = EXAMPLE.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return re.sub(r"const EXAMPLE_QUERY = `.*?`;", lambda _: f"const EXAMPLE_QUERY = `{example}`;", html,
                  count=1, flags=re.S)


@cache
def _assets() -> dict[str, bytes]:
    with tarfile.open(ASSETS_ARCHIVE) as archive:
        return {member.name.removeprefix("./"): archive.extractfile(member).read()
                for member in archive.getmembers() if member.isfile()}


assets_router = APIRouter()


@assets_router.get(ASSETS_URL + "{path:path}", include_in_schema=False)
async def graphiql_asset(path: str) -> Response:
    content = _assets().get(path)
    if content is None:
        raise HTTPException(status_code=404)
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

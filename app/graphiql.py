"""GraphiQL for development, served entirely from this server (no CDN: the platform runs
offline), opening on an example that shows how to sign in."""

from __future__ import annotations

import re
from pathlib import Path

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
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

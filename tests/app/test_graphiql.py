"""GraphiQL works offline: every file its page loads comes from this server, intact."""

from __future__ import annotations

import base64
import hashlib
import re


async def test_graphiql_loads_nothing_from_elsewhere(client):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "login(username" in page.text  # our example, not the stock welcome text
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    external = [url for url in references if url.startswith(("http:", "https:", "//"))]
    assert external == []
    assets = re.findall(r'(?:src|href)="(/[^"]+)"\s+integrity="(sha384-[^"]+)"', page.text)
    assert len(assets) == 7
    for url, integrity in assets:
        response = await client.get(url)
        assert response.status_code == 200, url
        digest = "sha384-" + base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert digest == integrity, url

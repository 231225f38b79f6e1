"""The portal in a real browser: Debian's chromium driven by Playwright (from PyPI, no browser
download) against a real uvicorn serving the test app, on the test databases. Every page fails its
test on a console error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from devstack.ports import LOOPBACK, free_port
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
DIST = Path(__file__).resolve().parents[2] / "portal" / "dist"


@pytest.fixture(scope="session")
def portal_dist() -> Path:
    assert (DIST / "index.html").is_file(), "the portal is not built: run scripts/test (or scripts/bootstrap)"
    return DIST


@pytest.fixture(scope="session")
async def live_url(app, portal_dist) -> AsyncIterator[str]:
    """The test app behind a real HTTP server, as a browser reaches it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=LOOPBACK, port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://{LOOPBACK}:{port}"
    server.should_exit = True
    await serving


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@dataclass
class Portal:
    """Browser sessions of the portal, one per signed-in user; collects every console error."""

    browser: Browser
    url: str
    errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    async def page(self) -> Page:
        context = await self.browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
        self.contexts.append(context)
        page = await context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: uncaught {error}"))
        await page.goto(self.url + "/")
        return page

    async def signed_in(self, username: str) -> Page:
        page = await self.page()
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码").fill(PASSWORD)
        await page.keyboard.press("Enter")  # the form is usable from the keyboard
        await page.locator("header.top").wait_for()
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def portal(browser, live_url, world) -> AsyncIterator[Portal]:
    session = Portal(browser=browser, url=live_url)
    try:
        yield session
    finally:
        await session.close()
    assert session.errors == [], "console errors in the portal:\n" + "\n".join(session.errors)


# Generous: on a busy CI machine the first tiles of a cold server take a while.
MAP_READY_TIMEOUT_MS = 90_000


async def map_ready(page: Page, name: str) -> None:
    """Wait until the named map has drawn all it has loaded (tiles included)."""
    await page.wait_for_function(
        "name => { const m = window.__portalMaps && window.__portalMaps[name];"
        " return m && m.isStyleLoaded() && m.areTilesLoaded(); }", arg=name, timeout=MAP_READY_TIMEOUT_MS)
    await page.evaluate("name => new Promise(done => { const m = window.__portalMaps[name];"
                        " if (m.loaded()) done(); else m.once('idle', () => done()); })", name)


async def rendered_referral_ids(page: Page, name: str) -> set[str]:
    """The referral ids the named map draws, read from MapLibre (not from pixels)."""
    await map_ready(page, name)
    ids = await page.evaluate(
        "name => { const m = window.__portalMaps[name];"
        " const layers = ['referrals-fill', 'referrals-line', 'referrals-point'].filter(l => m.getLayer(l));"
        " return m.queryRenderedFeatures({layers}).map(f => f.properties.id); }", name)
    return set(ids)


async def look_at(page: Page, name: str, center: tuple[float, float], zoom: float) -> None:
    await map_ready(page, name)
    await page.evaluate("([name, center, zoom]) => window.__portalMaps[name].jumpTo({center, zoom})",
                        [name, list(center), zoom])
    await map_ready(page, name)

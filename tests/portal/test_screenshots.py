"""Each role's main screens render in Chinese at 1366×768 without a console error; with
PIL_PORTAL_SCREENSHOTS=1 they are also saved as docs/screenshots/*.png (the README shows them):
`PIL_PORTAL_SCREENSHOTS=1 scripts/test tests/portal/test_screenshots.py`."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page, expect

from tests.conftest import graphql
from tests.enforcement.helpers import record
from tests.enforcement.test_import import csv_file, row
from tests.portal.conftest import look_at, map_ready
from tests.portal.test_scenario import SITE, ZOOM, draw_polygon
from tests.referral.test_submit import PIT, SUBMIT, referral_input

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def capture(page: Page, name: str) -> None:
    await page.wait_for_load_state("networkidle")
    if os.environ.get("PIL_PORTAL_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"{name}.png")


async def test_the_main_screens_of_each_role(portal, client, world):
    ids = []
    for title, shift in (("河滩非法采砂", 0.0), ("林地违规占用", 0.02)):
        pit = {"type": "Polygon", "coordinates": [[[x + shift, y] for x, y in PIT["coordinates"][0]]]}
        body = await graphql(client, SUBMIT, {"input": referral_input(title=title, geometry=pit)},
                             token=world.tokens["liaison-a"])
        ids.append(body["data"]["submitReferral"]["id"])
    first_id = ids[0]
    await graphql(client, "mutation($id: ID!) { registerReferral(id: $id) { id } }", {"id": first_id},
                  token=world.tokens["prosecutor-1"])

    page = await portal.page()
    await expect(page.get_by_role("button", name="登录")).to_be_visible()
    await capture(page, "login")

    liaison = await portal.signed_in("liaison-a")
    await look_at(liaison, "submit", SITE, ZOOM - 1)
    await liaison.get_by_label("标题").fill("河道旁非法堆放建筑垃圾")
    await liaison.get_by_role("button", name="画面").click()
    await draw_polygon(liaison, "submit")
    await expect(liaison.locator("#duplicates li")).to_have_count(1)  # the first pit is nearby
    await capture(liaison, "liaison-submit")
    await liaison.goto(portal.url + "/#/mine")
    await expect(liaison.locator("#referral-list tbody tr")).to_have_count(2)
    await capture(liaison, "liaison-my-referrals")
    assert "errors" not in await record(client, world)
    await liaison.goto(portal.url + "/#/enforcement")
    # A file with a problem is refused whole, with its rows and columns named.
    await liaison.get_by_label("文件（CSV 或 XLSX）").set_input_files(
        [{"name": "执法办案.csv", "mimeType": "text/csv",
          "buffer": csv_file([row("农罚〔2025〕7号"), row("农罚〔2025〕8号", decided_on="2025-13-01")])}])
    await liaison.get_by_role("button", name="导入", exact=True).click()
    await expect(liaison.locator("#import-report .error")).to_contain_text("未导入")
    await expect(liaison.locator("#import-errors tbody tr")).to_have_count(1)
    await expect(liaison.locator("#enforcement-list tbody tr")).to_have_count(1)
    await capture(liaison, "liaison-enforcement-import")

    prosecutor = await portal.signed_in("prosecutor-1")
    await prosecutor.get_by_label("状态").select_option("")
    await prosecutor.get_by_role("button", name="筛选").click()
    await expect(prosecutor.locator("#referral-list tbody tr")).to_have_count(2)
    await capture(prosecutor, "prosecutor-queue")
    await prosecutor.goto(portal.url + "/#/map")
    await look_at(prosecutor, "overview", SITE, ZOOM - 1)
    await capture(prosecutor, "prosecutor-map")
    await prosecutor.goto(portal.url + f"/#/referral/{first_id}")
    await map_ready(prosecutor, "referral")
    await expect(prosecutor.locator("#referral-status")).to_contain_text("已登记")
    await capture(prosecutor, "prosecutor-referral")

    await prosecutor.get_by_role("button", name="English").click()
    await expect(prosecutor.locator("#referral-status")).to_contain_text("Registered")
    await capture(prosecutor, "prosecutor-referral-en")

    assessor = await portal.signed_in("assessor-1")
    await assessor.goto(portal.url + "/#/enforcement")
    await expect(assessor.locator("#enforcement-list tbody tr")).to_contain_text("机关A")
    await capture(assessor, "assessor-enforcement")

"""The portal's main path in a real browser, as its users take it: a liaison draws a polygon on the
map, attaches a photo and submits; a prosecutor finds the clue on the map, registers it, files a
case and issues a recommendation (and records its service); the liaison replies; the assessor sees
the agency's score change. A liaison's map and list never show another agency's referral."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.portal.conftest import look_at, map_ready, rendered_referral_ids
from tests.referral.test_submit import PNG

# In agency A's district (tests/conftest.py: district 410101, 113.0–113.5°E, 34.2–35.0°N).
SITE = (113.2, 34.5)
ZOOM = 14


async def draw_polygon(page: Page, name: str) -> None:
    """Click the corners of a square around the map's centre, then its first corner to close it."""
    box = await page.locator(f"#{name}-map canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [(cx - 80, cy - 60), (cx + 80, cy - 60), (cx + 80, cy + 60), (cx - 80, cy + 60), (cx - 80, cy - 60)]
    for x, y in corners:
        await page.mouse.move(x, y, steps=4)
        await page.mouse.click(x, y)
        await page.wait_for_timeout(150)


async def submit_referral(page: Page, title: str) -> str:
    await page.get_by_label("领域").select_option(index=0)
    await page.get_by_label("标题").fill(title)
    await page.get_by_label("线索事实").fill("巡查发现河道旁非法采砂，堆料占用河滩。")
    await page.get_by_label("地址").fill("卫东区东环路以东河滩")
    await page.get_by_label("发现日期").fill("2026-10-01")
    await look_at(page, "submit", SITE, ZOOM)
    await page.get_by_role("button", name="画面").click()
    await draw_polygon(page, "submit")
    area = page.locator("#area-mu")
    await expect(area).to_have_text(re.compile(r"^\d+\.\d\d 亩$"))
    assert float((await area.text_content()).split()[0]) > 100
    await expect(page.locator("#duplicates")).to_contain_text("未发现可能重复的线索")
    await page.get_by_label("证据文件").set_input_files([{"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG}])
    await page.get_by_role("button", name="提交移送").click()
    link = page.locator("#submitted-link")
    await link.wait_for()
    await expect(page.locator(".progress progress")).to_have_attribute("value", "100")
    return (await link.get_attribute("href")).rsplit("/", 1)[1]


async def agency_score(page: Page, url: str, agency: str) -> str:
    """The agency's total on the assessment screen (this quarter)."""
    await page.goto(url + "/#/assessment")
    await page.reload()  # drawn afresh even when the page was already there (the same hash is no navigation)
    row = page.locator("#score-table tbody tr", has_text=agency)
    await expect(row).to_be_visible()
    return await row.locator("td.num").nth(1).inner_text()


async def test_a_referral_from_the_map_to_a_reply_to_the_recommendation(portal, rubric):
    assessor = await portal.signed_in("assessor-1")
    score_before = await agency_score(assessor, portal.url, "机关A")
    liaison = await portal.signed_in("liaison-a")
    referral_id = await submit_referral(liaison, "河滩非法采砂")

    prosecutor = await portal.signed_in("prosecutor-1")
    await prosecutor.goto(portal.url + "/#/map")
    await look_at(prosecutor, "overview", SITE, ZOOM)
    assert referral_id in await rendered_referral_ids(prosecutor, "overview")
    # Found on the map: a click on the drawn polygon opens the referral.
    point = await prosecutor.evaluate("c => { const p = window.__portalMaps.overview.project(c); return [p.x, p.y]; }",
                                      list(SITE))
    canvas = await prosecutor.locator("#overview-map canvas").bounding_box()
    await prosecutor.mouse.click(canvas["x"] + point[0], canvas["y"] + point[1])
    await expect(prosecutor).to_have_url(re.compile(f"#/referral/{referral_id}$"))
    await expect(prosecutor.locator("#referral-status")).to_contain_text("已移送")
    await expect(prosecutor.locator("#evidence-gallery")).to_contain_text("现场照片.png")
    # Only the transitions a prosecutor may take from SUBMITTED are offered.
    await expect(prosecutor.locator(".actions-panel button")).to_have_text(["登记", "退回"])

    await prosecutor.get_by_role("button", name="登记").click()
    await expect(prosecutor.locator("#referral-status")).to_contain_text("已登记")
    await expect(prosecutor.locator(".actions-panel .actions button")).to_have_text(["立案", "退回", "不予立案"])
    await prosecutor.get_by_role("button", name="立案", exact=True).click()
    await prosecutor.get_by_label("案件类型").select_option("ADMINISTRATIVE")
    await prosecutor.get_by_role("button", name="确认立案").click()
    await expect(prosecutor.locator("#case-status")).to_have_text("已立案")

    await prosecutor.get_by_label("建议内容").fill("依法履行河道管理职责，责令停止非法采砂并恢复河滩原状。")
    await prosecutor.get_by_label("建议措施").fill("一、立即制止；二、清理堆料；三、恢复河滩。")
    await prosecutor.get_by_role("button", name="制发", exact=True).click()
    await expect(prosecutor.locator("#recommendation-status")).to_have_text("已制发")
    await prosecutor.get_by_label("见证人").fill("张三")
    await prosecutor.get_by_role("button", name="记录送达").last.click()
    await expect(prosecutor.locator("#recommendation-status")).to_have_text("已送达")

    await liaison.goto(portal.url + "/#/recommendations")
    await expect(liaison.locator("#recommendation-list")).to_contain_text("个工作日")
    await liaison.locator("#recommendation-list a").first.click()
    await liaison.get_by_label("已采取的措施").fill("已责令停止采砂，清理堆料，河滩恢复方案已制定。")
    await liaison.get_by_label("附件").set_input_files([{"name": "整改照片.png", "mimeType": "image/png", "buffer": PNG}])
    await liaison.get_by_role("button", name="提交回复").click()
    await expect(liaison.locator("#recommendation-status")).to_have_text("已回复")
    await expect(liaison.locator("#reply")).to_contain_text("已责令停止采砂")

    # The liaison's header tells of the recommendation it received.
    await liaison.reload()
    await expect(liaison.locator("#unread-count")).not_to_have_text("0")

    # The referral became a case this quarter: agency A's clue-referral indicator, and its total, move.
    assert await agency_score(assessor, portal.url, "机关A") != score_before
    clue_referral = assessor.locator("#score-table tbody tr", has_text="机关A").locator("details", has_text="线索移送立案")
    await clue_referral.locator("summary").click()
    await expect(clue_referral.locator("tbody tr")).not_to_have_count(0)


async def test_a_liaisons_map_and_list_never_show_another_agencys_referral(portal):
    liaison_a = await portal.signed_in("liaison-a")
    referral_id = await submit_referral(liaison_a, "A 机关的线索")
    await liaison_a.goto(portal.url + "/#/submit")
    await look_at(liaison_a, "submit", SITE, ZOOM)
    assert referral_id in await rendered_referral_ids(liaison_a, "submit")

    # Agency B sits in the same district: the same view of its map draws nothing of A's.
    liaison_b = await portal.signed_in("liaison-b")
    await map_ready(liaison_b, "submit")
    await look_at(liaison_b, "submit", SITE, ZOOM)
    assert await rendered_referral_ids(liaison_b, "submit") == set()
    await liaison_b.goto(portal.url + "/#/mine")
    await expect(liaison_b.locator("main")).to_contain_text("没有线索")
    await liaison_b.goto(portal.url + f"/#/referral/{referral_id}")
    await expect(liaison_b.locator("main .error")).to_be_visible()
    assert "A 机关的线索" not in await liaison_b.locator("main").inner_text()

"""The demo data: loaded once, and completed by the next run when a run was interrupted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from agencies.models import Jurisdiction, Procuratorate
from app.demo import DEMO_PASSWORD, load_demo
from cases.models import Case, CaseKind
from core import clock, unit_of_work
from core.errors import StorageUnavailable
from evidence.models import Evidence
from geo.models import ReferenceLayer
from referral.flows import ReferralStatus
from referral.models import Referral
from tests.conftest import LOGIN, graphql


async def counts(resources) -> tuple[int, int]:
    async with resources.session_factory() as session:
        return (await session.scalar(select(func.count()).select_from(Referral)),
                await session.scalar(select(func.count()).select_from(Evidence)))


@pytest.fixture
async def no_admin_username(resources):
    """The demo creates an `admin`, and so did the test world: lend the name for the test."""
    async with resources.session_factory() as session:
        await session.execute(text("UPDATE user_account SET username = 'world-admin' WHERE username = 'admin'"))
        await session.commit()
    yield
    async with resources.session_factory() as session:
        # The demo's own admin goes with the rest of what the test added.
        await session.execute(text("UPDATE user_account SET username = 'demo-admin' WHERE username = 'admin'"))
        await session.execute(text("UPDATE user_account SET username = 'admin' WHERE username = 'world-admin'"))
        await session.commit()


async def test_a_load_interrupted_by_a_store_outage_is_completed_by_the_next(world, resources, stack,
                                                                             no_admin_username):
    stack.s3.stop()
    try:
        async with resources.session_factory() as session:
            with pytest.raises(StorageUnavailable):
                await load_demo(session, resources.store)
            await unit_of_work.rollback(session)
    finally:
        stack.s3.start()
    assert await counts(resources) == (0, 0)
    async with resources.session_factory() as session:
        assert await load_demo(session, resources.store) is False  # the accounts were kept
        await unit_of_work.commit(session)
    # Four referrals; the files of three of them, the reply's, the progress report's and the two checks'.
    assert await counts(resources) == (4, 8)
    async with resources.session_factory() as session:
        assert await load_demo(session, resources.store) is False
        await unit_of_work.commit(session)
    assert await counts(resources) == (4, 8)
    async with resources.session_factory() as session:
        # The map's protected areas came with the accounts; the mining pit lies in the red line.
        assert await session.scalar(select(func.count()).select_from(ReferenceLayer)) == 5
        mining_in_red_line = await session.scalar(text(
            "SELECT count(*) FROM referral r JOIN reference_feature f ON ST_Intersects(r.geometry, f.geometry) "
            "JOIN reference_layer l ON l.id = f.layer_id "
            "WHERE r.idempotency_key = 'demo-mining-pit' AND l.kind = 'ECOLOGICAL_RED_LINE'"))
        assert mining_in_red_line == 1
    async with resources.session_factory() as session:
        codes = dict((await session.execute(select(Jurisdiction.code, Procuratorate.document_code).join(
            Procuratorate, Procuratorate.jurisdiction_id == Jurisdiction.id))).all())
        mining = await session.scalar(select(Referral).where(Referral.idempotency_key == "demo-mining-pit"))
        cases = (await session.execute(select(Case.number, Case.kind).where(Case.referral_id == mining.id))).all()
    assert {code: codes[code] for code in ("410400", "410403", "410402", "410411")} == {
        "410400": "平顶山检", "410403": "卫东检", "410402": "新华检", "410411": "湛河检"}
    # Registered once, by the first complete run, and numbered by the Weidong procuratorate; then
    # the Weidong case itself: criminal, with an incidental civil claim, filed once.
    year = clock.today().year
    assert mining.status is ReferralStatus.CASE_FILED
    assert mining.number == f"卫东检公益线〔{year}〕1号"
    assert [tuple(row) for row in cases] == [(f"卫东检公益立〔{year}〕1号", CaseKind.CRIMINAL_INCIDENTAL_CIVIL)]


WEIDONG_RECOMMENDATIONS = """query { recommendations { totalCount edges { node {
  number status urgent servedOn serviceWitnesses { role } addressee { name } case { number kind status }
  replied rectification rectificationVerifiedOn dueOn isOverdue
  reply { accepted stages { milestone percentComplete } attachments { filename mediaType } }
  progressReports { stageUpdates { milestone fromPercent toPercent } attachments { filename } }
  checks { result openItems { description } followUpOfId evidence { filename } } } } } }"""


async def demo_token(client, username: str) -> str:
    body = await graphql(client, LOGIN, {"username": username, "password": DEMO_PASSWORD})
    return body["data"]["login"]["token"]


async def test_the_weidong_mining_case_runs_through_recommendation_reply_and_checks(world, resources, client,
                                                                                   no_admin_username):
    for _ in range(2):  # and a second load changes nothing
        async with resources.session_factory() as session:
            await load_demo(session, resources.store)
            await unit_of_work.commit(session)
    year = clock.today().year
    body = await graphql(client, WEIDONG_RECOMMENDATIONS, {}, await demo_token(client, "weidong.prosecutor"))
    assert "errors" not in body, body
    assert body["data"]["recommendations"]["totalCount"] == 1
    seen = body["data"]["recommendations"]["edges"][0]["node"]
    # The administrative track of the case: filed from the ecology bureau's clue, the recommendation
    # to the geology and mining bureau, which did not refer it.
    assert seen["number"] == f"卫东检公益建〔{year}〕1号" and seen["status"] == "CHECKED"
    assert seen["case"] == {"number": f"卫东检公益立〔{year}〕2号", "kind": "ADMINISTRATIVE", "status": "FOLLOW_UP"}
    assert seen["addressee"] == {"name": "平顶山市卫东区自然资源和地质矿产局"}
    assert seen["servedOn"] == clock.today().isoformat() and seen["dueOn"] > seen["servedOn"]
    assert [witness["role"] for witness in seen["serviceWitnesses"]] == ["人大代表", "人民监督员"]
    assert (seen["replied"], seen["rectification"], seen["isOverdue"]) == (True, "RECTIFIED", False)
    assert seen["rectificationVerifiedOn"] == clock.today().isoformat()
    assert seen["reply"]["accepted"] is True
    assert [(stage["milestone"], stage["percentComplete"]) for stage in seen["reply"]["stages"]] == [
        ("委托第三方评估", 100), ("编制并批复修复方案", 100), ("完成生态修复", 100)]
    assert seen["reply"]["attachments"] == [{"filename": "assessment-contract.pdf", "mediaType": "application/pdf"}]
    assert seen["progressReports"] == [{"stageUpdates": [{"milestone": "完成生态修复", "fromPercent": 60,
                                                          "toPercent": 100}],
                                        "attachments": [{"filename": "east-slope-green.png"}]}]
    partial, rectified = seen["checks"]
    assert (partial["result"], partial["openItems"], partial["followUpOfId"]) == (
        "PARTIAL", [{"description": "东侧边坡复绿"}], None)
    assert (rectified["result"], rectified["openItems"]) == ("RECTIFIED", [])
    assert rectified["followUpOfId"] is not None and rectified["evidence"] == [{"filename": "check-rectified.png"}]

    # The bureau sees it; the ecology bureau, which referred the clue, does not.
    for username, total in (("weidong.natural-resources", 1), ("weidong.ecology-environment", 0),
                            ("xinhua.natural-resources", 0)):
        body = await graphql(client, "{ recommendations { totalCount } }", {}, await demo_token(client, username))
        assert body["data"]["recommendations"]["totalCount"] == total, username

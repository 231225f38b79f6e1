"""The demo's clue model: the Weidong procuratorate's farmland screening, run once, which queued
the bureau's penalty on the district's farmland and not the one elsewhere; loading again adds nothing."""

from __future__ import annotations

from app.demo import load_demo
from core import unit_of_work
from tests.app.test_demo import demo_token, no_admin_username  # noqa: F401 (a fixture)
from tests.conftest import graphql

QUEUE = """query { clueModels { edges { node { name status currentVersion runs { hitsFound trigger }
  funnel { hits } } } } clueHits { totalCount edges { node { status enforcementCase { caseNumber } } } } }"""


async def test_the_demo_farmland_model_found_the_penalty_on_the_farmland(world, resources, client,
                                                                          no_admin_username):  # noqa: F811
    for _ in range(2):
        async with resources.session_factory() as session:
            await load_demo(session, resources.store)
            await unit_of_work.commit(session)
    body = await graphql(client, QUEUE, {}, await demo_token(client, "weidong.prosecutor"))
    assert "errors" not in body, body
    [model] = [edge["node"] for edge in body["data"]["clueModels"]["edges"]]
    assert model == {"name": "占用耕地处罚后未恢复", "status": "ACTIVE", "currentVersion": 1,
                     "runs": [{"hitsFound": 1, "trigger": "ON_DEMAND"}], "funnel": {"hits": 1}}
    assert body["data"]["clueHits"]["edges"] == [
        {"node": {"status": "NEW", "enforcementCase": {"caseNumber": "卫自然资罚〔2026〕7号"}}}]
    # The bureau may try the model on its own records; another district's bureau does not see it.
    tried = await graphql(client, "query { clueModels { totalCount } }",
                          {}, await demo_token(client, "weidong.natural-resources"))
    assert tried["data"]["clueModels"]["totalCount"] == 1
    other = await graphql(client, "query { clueModels { totalCount } }",
                          {}, await demo_token(client, "xinhua.natural-resources"))
    assert other["data"]["clueModels"]["totalCount"] == 0

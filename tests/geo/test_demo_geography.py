"""The demo's referrals lie in their districts, over the demo layers, which propose who answers."""

from __future__ import annotations

from app.demo import DEMO_PASSWORD, load_demo
from core import unit_of_work
from tests.app.test_demo import no_admin_username  # noqa: F401 (a fixture)
from tests.conftest import LOGIN, graphql

REFERRALS = """{ referrals { edges { node { title jurisdiction { code } spansJurisdictions { code }
  overlaps { layer { kind } shareOfReferral }
  proposedResponsibleAgency { agency { name } layer { kind } } } } } }"""


async def test_the_demo_mining_pit_lies_under_the_red_line_and_a_mining_right(client, world, resources,
                                                                              no_admin_username):  # noqa: F811
    async with resources.session_factory() as session:
        await load_demo(session, resources.store)
        await unit_of_work.commit(session)
    token = (await graphql(client, LOGIN, {"username": "weidong.prosecutor", "password": DEMO_PASSWORD})
             )["data"]["login"]["token"]
    body = await graphql(client, REFERRALS, token=token)
    referrals = {edge["node"]["title"]: edge["node"] for edge in body["data"]["referrals"]["edges"]}
    # The mining pit, the river, and the ecology bureau's report that the pit was never restored.
    assert len(referrals) == 3
    assert {node["jurisdiction"]["code"] for node in referrals.values()} == {"410403"}
    mining = next(node for title, node in referrals.items() if "页岩" in title)
    assert mining["jurisdiction"] == {"code": "410403"} and mining["spansJurisdictions"] == []
    assert {overlap["layer"]["kind"] for overlap in mining["overlaps"]} >= {"ECOLOGICAL_RED_LINE", "MINING_RIGHTS"}
    assert mining["proposedResponsibleAgency"]["agency"]["name"] == "平顶山市卫东区自然资源和地质矿产局"

"""Evidence is scoped by its own agency and jurisdiction, not through its owner: a reply's
attachments will belong to the addressee agency, which need not be the referring one."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import graphql
from tests.referral.test_submit import PNG, submit_with_files


async def test_a_file_is_seen_by_its_own_agency_not_by_its_owners(client, world, resources):
    body = await submit_with_files(client, world.tokens["liaison-a"], [("a.png", PNG, "image/png")])
    referral = body["data"]["submitReferral"]
    [evidence] = referral["evidence"]
    # As a reply's attachment of agency B on agency A's referral will be.
    async with resources.session_factory() as session:
        await session.execute(text("UPDATE evidence SET agency_id = :b WHERE id = :id"),
                              {"b": world.ids["agency:B"], "id": evidence["id"]})
        await session.commit()

    def download(user):
        return client.get(evidence["downloadPath"], headers={"Authorization": f"Bearer {world.tokens[user]}"})

    assert (await download("liaison-b")).status_code == 200
    assert (await download("liaison-a")).status_code == 404
    assert (await download("prosecutor-1")).status_code == 200  # same jurisdiction
    listed = await graphql(client, "query($id: ID!) { referral(id: $id) { evidence { id } } }",
                           {"id": referral["id"]}, world.tokens["liaison-a"])
    assert listed["data"]["referral"]["evidence"] == []

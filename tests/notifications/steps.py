"""What the notification tests share: reading a user's notifications through the API, and a
recommendation whose reply period is moved to fixed dates of 2026 (around Spring Festival)."""

from __future__ import annotations

import uuid
from datetime import date

from deadlines.service import open_deadline
from recommendations.models import Recommendation
from recommendations.service import reply_rule
from tests.conftest import graphql
from tests.recommendations.steps import ok, served_recommendation

NOTIFICATIONS = """query($unreadOnly: Boolean!, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    totalCount unreadCount pageInfo { hasNextPage endCursor }
    edges { node { id kind subjectKind subjectId message readAt } } } }"""
READ = "mutation($id: ID!) { markNotificationRead(id: $id) { id readAt } }"
READ_ALL = "mutation { markAllNotificationsRead }"


async def inbox(client, world, user: str, unread_only: bool = False, first: int = 100, after: str | None = None
                ) -> dict:
    return ok(await graphql(client, NOTIFICATIONS, {"unreadOnly": unread_only, "first": first, "after": after},
                            world.tokens[user]), "notifications")


async def messages(client, world, user: str, *kinds: str) -> list[dict]:
    """The user's notifications (of `kinds` when given), oldest first."""
    nodes = [edge["node"] for edge in (await inbox(client, world, user))["edges"]]
    return [node for node in reversed(nodes) if not kinds or node["kind"] in kinds]


async def recommendation_served_on(client, world, resources, served_on: date, urgent: bool = True) -> str:
    """A recommendation to agency B (issued by prosecutor-1) whose reply period runs from
    `served_on`: served today through the API, its start then corrected to `served_on` through
    the deadlines package (a service date cannot precede the case, which is filed today)."""
    _, recommendation_id = await served_recommendation(client, world, urgent=urgent)
    async with resources.session_factory() as session:
        recommendation = await session.get(Recommendation, uuid.UUID(recommendation_id))
        await open_deadline(session, rule=reply_rule(recommendation), start_on=served_on,
                            subject_kind="RECOMMENDATION", subject_id=recommendation.id,
                            agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id)
        await session.commit()
    return recommendation_id

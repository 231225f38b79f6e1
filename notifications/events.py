"""The events other packages report, one call each, in the transaction of the act itself.

Each message names only what every recipient may already see: a referral's title and number to
its own agency and to the receiving procuratorate; a recommendation's number and dates to its
addressee (never the case's facts, notes or other parties)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.models import Deadline
from notifications.escalation import Audience
from notifications.models import NotificationKind
from notifications.service import Event, Scope, notify_audience
from recommendations.models import Recommendation, RectificationCheck, RectificationResult
from referral.enums import ReferralAction
from referral.models import Referral

_REFERRAL_OUTCOMES = {
    ReferralAction.REGISTER: (NotificationKind.REFERRAL_REGISTERED, "已登记", "registered"),
    ReferralAction.RETURN: (NotificationKind.REFERRAL_RETURNED, "被退回补充材料", "returned for more material"),
    ReferralAction.DECLINE: (NotificationKind.REFERRAL_DECLINED, "不予立案", "declined"),
    ReferralAction.FILE_CASE: (NotificationKind.CASE_FILED, "已立案", "filed as a case"),
}
_RESULTS = {RectificationResult.RECTIFIED: "整改到位 / rectified", RectificationResult.PARTIAL: "部分整改 / partly rectified",
            RectificationResult.NOT_RECTIFIED: "未整改 / not rectified"}


def _referral_payload(referral: Referral) -> dict:
    return {"referral": {"id": str(referral.id), "title": referral.title, "number": referral.number,
                         "status": referral.status.value}}


async def referral_submitted(session: AsyncSession, referral: Referral) -> None:
    """A new referral: the prosecutors of the procuratorate that receives it."""
    event = Event(kind=NotificationKind.REFERRAL_SUBMITTED, subject_kind="REFERRAL", subject_id=referral.id,
                  message=f"新移送线索：{referral.title} / New referral: {referral.title}",
                  payload=_referral_payload(referral))
    await notify_audience(session, event, Audience.PROCURATORATE,
                          Scope(agency_id=referral.agency_id, jurisdiction_id=referral.jurisdiction_id))


async def referral_status_changed(session: AsyncSession, referral: Referral, action: ReferralAction) -> None:
    """Registered, returned, declined, filed as a case: the referring agency's liaisons (and its
    webhooks). Other actions are the agency's own and tell nobody."""
    outcome = _REFERRAL_OUTCOMES.get(action)
    if outcome is None:
        return
    kind, zh, en = outcome
    number = f"（{referral.number}）" if referral.number else ""
    event = Event(kind=kind, subject_kind="REFERRAL", subject_id=referral.id,
                  message=f"移送线索“{referral.title}”{zh}{number} / Referral “{referral.title}” {en}"
                          + (f" ({referral.number})" if referral.number else ""),
                  payload=_referral_payload(referral))
    await notify_audience(session, event, Audience.AGENCY_LIAISONS,
                          Scope(agency_id=referral.agency_id, jurisdiction_id=referral.jurisdiction_id))


def _recommendation_payload(recommendation: Recommendation) -> dict:
    return {"recommendation": {"id": str(recommendation.id), "number": recommendation.number,
                               "servedOn": recommendation.served_on and recommendation.served_on.isoformat()}}


async def recommendation_served(session: AsyncSession, recommendation: Recommendation) -> None:
    """A recommendation served: its addressee's liaisons, with the reply's due date."""
    due_on = await session.scalar(select(Deadline.due_on).where(
        Deadline.subject_kind == "RECOMMENDATION", Deadline.subject_id == recommendation.id).limit(1))
    due = f"，请于 {due_on} 前书面回复" if due_on else ""
    due_en = f"; reply due by {due_on}" if due_on else ""
    event = Event(kind=NotificationKind.RECOMMENDATION_RECEIVED, subject_kind="RECOMMENDATION",
                  subject_id=recommendation.id,
                  message=f"收到检察建议 {recommendation.number}（{recommendation.served_on} 送达）{due} / "
                          f"Recommendation {recommendation.number} served on {recommendation.served_on}{due_en}",
                  payload={**_recommendation_payload(recommendation),
                           "dueOn": due_on and due_on.isoformat()})
    await notify_audience(session, event, Audience.AGENCY_LIAISONS,
                          Scope(agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id))


async def rectification_checked(session: AsyncSession, recommendation: Recommendation,
                                check: RectificationCheck) -> None:
    """A rectification check recorded: the addressee's liaisons, with its result and date."""
    result = _RESULTS[check.result]
    event = Event(kind=NotificationKind.RECTIFICATION_CHECKED, subject_kind="RECOMMENDATION",
                  subject_id=recommendation.id,
                  message=f"检察建议 {recommendation.number} 整改检查（{check.checked_on}）：{result} / "
                          f"Rectification check of {recommendation.number} on {check.checked_on}: {result}",
                  payload={**_recommendation_payload(recommendation),
                           "check": {"id": str(check.id), "result": check.result.value,
                                     "checkedOn": check.checked_on.isoformat()}})
    await notify_audience(session, event, Audience.AGENCY_LIAISONS,
                          Scope(agency_id=recommendation.agency_id, jurisdiction_id=recommendation.jurisdiction_id))

"""Queries and mutations for recommendations, replies, progress reports and rectification checks."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.connection import Connection, selects
from core.pagination import page_request
from evidence.service import bomb_limits
from evidence.types import EvidenceInput, incoming_files
from parties.protection import protection_for
from recommendations import rectification, service
from recommendations.types import (
    IssueRecommendationInput,
    Recommendation,
    RecommendationFilter,
    RecommendationOrder,
    RecordRecommendationServedInput,
    RecordRectificationCheckInput,
    RectificationCheck,
    RectificationResult,
    ReplyToRecommendationInput,
    ReportRectificationProgressInput,
)


@strawberry.type
class RecommendationQuery:
    @strawberry.field(description="Recommendations the caller may see, newest first unless `orderBy` says otherwise.")
    async def recommendations(self, info: Info, filter: RecommendationFilter | None = None, first: int | None = None,
                              after: str | None = None,
                              order_by: RecommendationOrder = service.RecommendationOrder.ISSUED_AT_DESC,
                              ) -> Connection[Recommendation] | None:
        request = page_request(info.context.settings.api, first, after,
                               with_total_count=selects(info, "totalCount"))
        page = await service.list_recommendations(info.context.session, principal=info.context.principal,
                                                  filters=(filter or RecommendationFilter()).to_service(),
                                                  page=request, order=service.RecommendationOrder(order_by),
                                                  protection=protection_for(info.context.settings.protection))
        return Connection.from_page(page, Recommendation.from_model)

    @strawberry.field
    async def recommendation(self, info: Info, id: strawberry.ID) -> Recommendation | None:
        return Recommendation.from_model(await service.get_recommendation(
            info.context.session, principal=info.context.principal, recommendation_id=id))


@strawberry.type
class RecommendationMutation:
    @strawberry.mutation(description="The procuratorate issues a pre-litigation recommendation (诉前检察建议) in an "
                                     "administrative case, numbered 公益建; the case moves to "
                                     "RECOMMENDATION_ISSUED (a further one to another agency leaves it there).")
    async def issue_recommendation(self, info: Info, case_id: strawberry.ID,
                                   input: IssueRecommendationInput) -> Recommendation:
        return Recommendation.from_model(await service.issue_recommendation(
            info.context.session, principal=info.context.principal, case_id=case_id, draft=input.to_service()))

    @strawberry.mutation(description="The procuratorate records the service (宣告送达): the date the agency received "
                                     "the recommendation, which starts the reply period, and its witnesses. "
                                     "Once; the same date again is accepted.")
    async def record_recommendation_served(self, info: Info, id: strawberry.ID,
                                           input: RecordRecommendationServedInput) -> Recommendation:
        return Recommendation.from_model(await service.record_served(
            info.context.session, principal=info.context.principal, recommendation_id=id,
            served_on=input.served_on, witnesses=input.witnesses_to_service()))

    @strawberry.mutation(description="The addressee agency replies in writing, once: accepted or not, the measures "
                                     "taken, a staged rectification plan, attachments. All saved, or none.")
    async def reply_to_recommendation(self, info: Info, recommendation_id: strawberry.ID,
                                      input: ReplyToRecommendationInput,
                                      attachments: list[EvidenceInput] | None = None) -> Recommendation:
        return Recommendation.from_model(await rectification.reply_to_recommendation(
            info.context.session, principal=info.context.principal, store=info.context.store,
            recommendation_id=recommendation_id, draft=input.to_service(),
            files=incoming_files(attachments, "attachments"),
            max_upload_bytes=info.context.settings.api.max_upload_bytes,
            limits=bomb_limits(info.context.settings.api)))

    @strawberry.mutation(description="The addressee agency reports progress on its rectification plan after "
                                     "replying: stages' new percentages, a note, supporting files.")
    async def report_rectification_progress(self, info: Info, recommendation_id: strawberry.ID,
                                            input: ReportRectificationProgressInput,
                                            attachments: list[EvidenceInput] | None = None) -> Recommendation:
        return Recommendation.from_model(await rectification.report_progress(
            info.context.session, principal=info.context.principal, store=info.context.store,
            recommendation_id=recommendation_id, report=input.to_service(),
            files=incoming_files(attachments, "attachments"),
            max_upload_bytes=info.context.settings.api.max_upload_bytes,
            limits=bomb_limits(info.context.settings.api)))

    @strawberry.mutation(description="A prosecutor records a rectification check with geotagged evidence. The first "
                                     "check moves the case to FOLLOW_UP; a follow-up check (回头看) names the check "
                                     "it follows up and may reopen follow-up of a closed case.")
    async def record_rectification_check(self, info: Info, recommendation_id: strawberry.ID,
                                         result: RectificationResult, input: RecordRectificationCheckInput,
                                         evidence: list[EvidenceInput] | None = None) -> RectificationCheck:
        return RectificationCheck.from_model(await rectification.record_check(
            info.context.session, principal=info.context.principal, store=info.context.store,
            recommendation_id=recommendation_id, record=input.to_service(result), files=incoming_files(evidence),
            max_upload_bytes=info.context.settings.api.max_upload_bytes,
            limits=bomb_limits(info.context.settings.api)))

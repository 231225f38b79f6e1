"""Queries and mutations for cases."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from cases import hearings, procedure, service
from cases.types import (
    AnnounceCaseInput,
    AnnouncementOutcomeInput,
    Case,
    CaseFilter,
    CaseNote,
    CaseOrder,
    CloseCaseInput,
    ConsultationMeeting,
    ConsultationMeetingInput,
    FileCaseInput,
    FileLitigationInput,
    Hearing,
    HearingConclusionInput,
    OpenCaseInput,
    ScheduleHearingInput,
    StartConsultationInput,
)
from core.connection import Connection, selects
from core.pagination import page_request
from parties.protection import protection_for


@strawberry.type
class CaseQuery:
    @strawberry.field(description="Cases the caller may see, newest first unless `orderBy` says otherwise.")
    async def cases(self, info: Info, filter: CaseFilter | None = None, first: int | None = None,
                    after: str | None = None, order_by: CaseOrder = service.CaseOrder.FILED_AT_DESC,
                    ) -> Connection[Case] | None:
        request = page_request(info.context.settings.api, first, after,
                               with_total_count=selects(info, "totalCount"))
        page = await service.list_cases(info.context.session, principal=info.context.principal,
                                        filters=(filter or CaseFilter()).to_service(), page=request,
                                        order=service.CaseOrder(order_by),
                                        protection=protection_for(info.context.settings.protection))
        return Connection.from_page(page, Case.from_model)

    @strawberry.field
    async def case(self, info: Info, id: strawberry.ID) -> Case | None:
        return Case.from_model(await service.get_case(info.context.session, principal=info.context.principal,
                                                      case_id=id))


def _session_and_principal(info: Info) -> dict:
    return {"session": info.context.session, "principal": info.context.principal}


@strawberry.type
class CaseMutation:
    @strawberry.mutation(description="The procuratorate files a case (立案) from a registered referral: the "
                                     "referral becomes CASE_FILED and the case is numbered by the "
                                     "procuratorate that received it.")
    async def file_case(self, info: Info, referral_id: strawberry.ID, input: FileCaseInput) -> Case:
        return Case.from_model(await service.file_case(info.context.session, principal=info.context.principal,
                                                       referral_id=referral_id, filing=input.to_service()))

    @strawberry.mutation(description="A prosecutor opens a case from the procuratorate's own clue (no referring "
                                     "agency), numbered by their procuratorate.")
    async def open_case(self, info: Info, input: OpenCaseInput) -> Case:
        return Case.from_model(await service.open_case(
            info.context.session, principal=info.context.principal, opening=input.to_service(),
            protection=protection_for(info.context.settings.protection)))

    @strawberry.mutation(description="The procuratorate records when the filing decision was served on the "
                                     "referring agency (once; the same date again is accepted).")
    async def record_case_decision_served(self, info: Info, case_id: strawberry.ID, served_on: date) -> Case:
        return Case.from_model(await service.record_decision_served(
            info.context.session, principal=info.context.principal, case_id=case_id, served_on=served_on))

    @strawberry.mutation(description="A prosecutor's internal note on a case, never shown outside the "
                                     "procuratorate.")
    async def add_case_note(self, info: Info, case_id: strawberry.ID, text: str) -> CaseNote:
        return CaseNote.from_model(await service.add_note(**_session_and_principal(info), case_id=case_id,
                                                          text=text))

    @strawberry.mutation(description="An administrative case goes to pre-litigation consultation (诉前磋商) with "
                                     "the agency (FILED → CONSULTATION).")
    async def start_consultation(self, info: Info, case_id: strawberry.ID,
                                 input: StartConsultationInput | None = None) -> Case:
        return Case.from_model(await procedure.start_consultation(
            **_session_and_principal(info), case_id=case_id, start=(input or StartConsultationInput()).to_service()))

    @strawberry.mutation(description="Record a consultation meeting: when, where, who, the agreed facts.")
    async def record_consultation_meeting(self, info: Info, case_id: strawberry.ID,
                                          input: ConsultationMeetingInput) -> ConsultationMeeting:
        return ConsultationMeeting.from_model(await procedure.record_consultation_meeting(
            **_session_and_principal(info), case_id=case_id, meeting=input.to_service()))

    @strawberry.mutation(description="Publish the 30-day announcement (公告) of a civil claim (FILED → ANNOUNCED).")
    async def announce_case(self, info: Info, case_id: strawberry.ID, input: AnnounceCaseInput) -> Case:
        return Case.from_model(await procedure.announce_case(
            **_session_and_principal(info), case_id=case_id, published_on=input.published_on, medium=input.medium))

    @strawberry.mutation(description="Whether an organisation came forward within the announcement (none: only "
                                     "once the period is over). Recorded once.")
    async def record_announcement_outcome(self, info: Info, case_id: strawberry.ID,
                                          input: AnnouncementOutcomeInput) -> Case:
        return Case.from_model(await procedure.record_announcement_outcome(
            **_session_and_principal(info), case_id=case_id, organisation_came_forward=input.organisation_came_forward,
            organisation=input.organisation, recorded_on=input.recorded_on))

    @strawberry.mutation(description="Sue (→ LITIGATION): an administrative case from follow-up, a civil claim "
                                     "after its announcement period.")
    async def file_litigation(self, info: Info, case_id: strawberry.ID, input: FileLitigationInput) -> Case:
        return Case.from_model(await procedure.file_litigation(
            **_session_and_principal(info), case_id=case_id, court=input.court, filed_on=input.filed_on,
            claims=input.claims))

    @strawberry.mutation(description="Close a case (→ CLOSED) with its outcome and a summary.")
    async def close_case(self, info: Info, case_id: strawberry.ID, input: CloseCaseInput) -> Case:
        return Case.from_model(await procedure.close_case(**_session_and_principal(info), case_id=case_id,
                                                          closing=input.to_service()))

    @strawberry.mutation(description="Schedule a hearing (听证) on a case; public unless said otherwise.")
    async def schedule_hearing(self, info: Info, case_id: strawberry.ID, input: ScheduleHearingInput) -> Hearing:
        return Hearing.from_model(await hearings.schedule_hearing(**_session_and_principal(info), case_id=case_id,
                                                                  plan=input.to_service()))

    @strawberry.mutation(description="Record that a hearing was held and its conclusion (once).")
    async def record_hearing_conclusion(self, info: Info, hearing_id: strawberry.ID,
                                        input: HearingConclusionInput) -> Hearing:
        return Hearing.from_model(await hearings.record_conclusion(
            **_session_and_principal(info), hearing_id=hearing_id, held_on=input.held_on,
            conclusion=input.conclusion))

"""GraphQL types of enforcement cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry
from geoalchemy2.shape import to_shape
from strawberry.types import Info

from agencies.loaders import agency_loader
from agencies.types import Agency
from cases.types import Case
from core.loaders import loader
from enforcement import importer, models
from enforcement import service as enforcement_service
from enforcement.models import EnforcementCase as EnforcementCaseModel
from geo.types import CoordinateSystem, GeoJSON
from parties.protection import protection_for
from parties.types import Party, PartyFilterInput, PartyInput
from referral.types import Referral, ReferralDomain, _domain_loader

EnforcementKind = strawberry.enum(models.EnforcementKind, description="What kind of enforcement act (执法行为).")


@strawberry.type(description="An agency's administrative enforcement case (执法办案信息), shared with the "
                             "procuratorate for screening.")
class EnforcementCase:
    id: strawberry.ID
    case_number: str = strawberry.field(description="The agency's own number, unique within the agency.")
    kind: EnforcementKind
    decided_on: date
    amount: Decimal | None = strawberry.field(description="Yuan, to the fen.")
    summary: str
    entered_on: date = strawberry.field(description="The Beijing date the case was entered.")
    entered_at: datetime
    entry_due_on: date = strawberry.field(
        description="The last day to enter it on time: the 7th working day after the decision (rule "
                    "ENFORCEMENT_ENTRY, the district's 2023 notice on enforcement-information sharing).")
    entered_on_time: bool
    entry_working_days_late: int = strawberry.field(
        description="Working days between the due date and the entry; 0 when on time.")
    entry_rule_version: str
    entry_calendar_version: str = strawberry.field(description="The working calendar the due date was computed on.")
    entry_provisional: bool = strawberry.field(
        description="True when the calendar lacked a year the computation reached (counted Monday to Friday).")
    row: strawberry.Private[EnforcementCaseModel]

    @classmethod
    def from_model(cls, row: EnforcementCaseModel) -> EnforcementCase:
        return cls(id=strawberry.ID(str(row.id)), case_number=row.case_number, kind=row.kind,
                   decided_on=row.decided_on, amount=row.amount, summary=row.summary, entered_on=row.entered_on,
                   entered_at=row.entered_at, entry_due_on=row.entry_due_on, entered_on_time=row.entered_on_time,
                   entry_working_days_late=row.entry_working_days_late, entry_rule_version=row.entry_rule_version,
                   entry_calendar_version=row.entry_calendar_version, entry_provisional=row.entry_provisional,
                   row=row)

    @strawberry.field(description="Where it happened, WGS84, when given.")
    def location(self) -> GeoJSON | None:
        return to_shape(self.row.location) if self.row.location is not None else None

    @strawberry.field
    async def domain(self, info: Info) -> ReferralDomain:
        return ReferralDomain.from_model(await _domain_loader(info).load(self.row.domain_code))

    @strawberry.field(description="The agency that entered it.")
    async def agency(self, info: Info) -> Agency | None:
        row = await agency_loader(info).load(self.row.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field(description="The persons and enterprises the decision is against; identity numbers in full "
                                  "only for prosecutors of the record's jurisdiction, masked for everyone else.")
    async def parties(self, info: Info) -> list[Party]:
        principal = info.context.principal
        protection = protection_for(info.context.settings.protection)

        async def load(ids: list[uuid.UUID]) -> dict:
            return await enforcement_service.parties_of(info.context.session, principal=principal,
                                                        protection=protection, case_ids=ids)

        views = await loader(info.context, "enforcement_parties", load, default=[]).load(self.row.id)
        return [Party(kind=view.kind, name=view.name, role=view.role, id_number=view.id_number, uscc=view.uscc)
                for view in views]

    @strawberry.field(description="The referrals made from this record that the caller may see.")
    async def referrals(self, info: Info) -> list[Referral]:
        principal = info.context.principal

        async def load(ids: list[uuid.UUID]) -> dict:
            return await enforcement_service.referrals_of(info.context.session, principal=principal, case_ids=ids)

        rows = await loader(info.context, "enforcement_referrals", load, default=[]).load(self.row.id)
        return [Referral.from_model(row) for row in rows]


    @strawberry.field(description="The cases prosecutors opened from this record as their own clue, as far as the "
                                  "caller may see them (agencies see none: such cases have no referring agency).")
    async def cases(self, info: Info) -> list[Case]:
        principal = info.context.principal

        async def load(ids: list[uuid.UUID]) -> dict:
            return await enforcement_service.cases_of(info.context.session, principal=principal, record_ids=ids)

        rows = await loader(info.context, "enforcement_cases_opened", load, default=[]).load(self.row.id)
        return [Case.from_model(row) for row in rows]


@strawberry.input
class RecordEnforcementCaseInput:
    case_number: str
    kind: EnforcementKind
    domain: str = strawberry.field(description="A referral domain code, see `referralDomains`.")
    decided_on: date
    summary: str
    amount: Decimal | None = strawberry.field(default=None, description="Yuan, at most two decimals.")
    parties: list[PartyInput] | None = strawberry.field(default=None, description="At most 50.")
    location: GeoJSON | None = None
    crs: CoordinateSystem = CoordinateSystem.WGS84

    def to_service(self) -> enforcement_service.EnforcementEntry:
        return enforcement_service.EnforcementEntry(
            case_number=self.case_number, kind=self.kind, domain_code=self.domain, decided_on=self.decided_on,
            summary=self.summary, amount=self.amount,
            parties=tuple(party.to_service() for party in self.parties or ()), location=self.location,
            crs=self.crs)


@strawberry.input(description="Screening enforcement cases: every filter given must match.")
class EnforcementCaseFilter:
    domain: list[str] | None = None
    kind: list[EnforcementKind] | None = None
    agency_id: strawberry.ID | None = None
    jurisdiction_code: str | None = strawberry.field(default=None,
                                                     description="A jurisdiction and everything below it.")
    decided_from: date | None = None
    decided_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    party: PartyFilterInput | None = None
    entered_on_time: bool | None = None
    referred: bool | None = strawberry.field(
        default=None, description="Whether a clue came of the record: a referral by its agency or a case opened by "
                                  "a prosecutor.")

    def to_service(self) -> enforcement_service.EnforcementFilter:
        return enforcement_service.EnforcementFilter(
            domain_codes=tuple(self.domain or ()), kinds=tuple(self.kind or ()), agency_id=self.agency_id,
            jurisdiction_code=self.jurisdiction_code, decided_from=self.decided_from, decided_to=self.decided_to,
            amount_min=self.amount_min, amount_max=self.amount_max,
            party=self.party.to_service() if self.party else None, entered_on_time=self.entered_on_time,
            referred=self.referred)


@strawberry.type(description="One problem of an import: where (row as the spreadsheet numbers it, header = 1; "
                             "column key) and what.")
class ImportRowError:
    row: int
    column: str | None
    code: str
    message: str


@strawberry.type(description="What an import did: all of the file (accepted) or nothing.")
class EnforcementImportReport:
    accepted: bool
    rows: int
    created: int
    unchanged: int = strawberry.field(description="Rows already entered with the same content (left as they are).")
    error_count: int
    errors: list[ImportRowError] = strawberry.field(description=f"At most {importer.MAX_REPORTED_ERRORS}.")

    @classmethod
    def from_report(cls, report: importer.ImportReport) -> EnforcementImportReport:
        return cls(accepted=report.accepted, rows=report.rows, created=report.created, unchanged=report.unchanged,
                   error_count=report.error_count,
                   errors=[ImportRowError(row=error.row, column=error.column, code=error.code, message=error.message)
                           for error in report.errors])

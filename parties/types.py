"""GraphQL types of parties."""

from __future__ import annotations

import strawberry

from parties import service

PartyKind = strawberry.enum(service.PartyKind, description="A natural person or an enterprise (单位).")


@strawberry.type(description="A person or enterprise a referral is against (当事人).")
class Party:
    kind: PartyKind
    name: str
    role: str | None = strawberry.field(description="e.g. 违法行为人, 法定代表人.")
    id_number: str | None = strawberry.field(
        description="A person's identity number (公民身份号码): in full only for prosecutors of the receiving "
                    "procuratorate, masked (4104**********223X) for everyone else.")
    uscc: str | None = strawberry.field(description="An enterprise's unified social credit code.")


@strawberry.input(description="A person (with `idNumber`) or an enterprise (with `uscc`); both numbers are "
                              "optional and checked when given.")
class PartyInput:
    kind: PartyKind
    name: str
    id_number: str | None = strawberry.field(
        default=None, description="GB 11643, 18 characters; the check character may be a lower-case x.")
    uscc: str | None = strawberry.field(default=None, description="GB 32100, 18 characters.")
    role: str | None = None

    def to_service(self) -> service.PartyData:
        return service.PartyData(kind=self.kind, name=self.name, id_number=self.id_number, uscc=self.uscc,
                                 role=self.role)


@strawberry.input(description="Referrals with a party matching every term given.")
class PartyFilterInput:
    uscc: str | None = strawberry.field(default=None, description="Exactly this unified social credit code.")
    id_number: str | None = strawberry.field(default=None, description="Exactly this identity number.")
    name: str | None = strawberry.field(
        default=None, description="A name starting with this, ignoring case (the whole name matches too).")

    def to_service(self) -> service.PartySearch:
        return service.PartySearch(uscc=self.uscc, id_number=self.id_number, name=self.name)

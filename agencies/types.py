"""GraphQL types of jurisdictions, agencies, accounts and keys."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from strawberry.types import Info

from agencies import models
from agencies.loaders import (
    agency_loader,
    jurisdiction_loader,
    procuratorate_by_jurisdiction_loader,
    procuratorate_loader,
)
from agencies.models import Agency as AgencyModel
from agencies.models import Jurisdiction as JurisdictionModel
from agencies.models import Procuratorate as ProcuratorateModel
from geo.types import Areal, CoordinateSystem, GeoJSON

Role = strawberry.enum(models.Role, description="What an account may do.")
JurisdictionLevel = strawberry.enum(models.JurisdictionLevel)
AgencyKind = strawberry.enum(models.AgencyKind, description="Kind of administrative law-enforcement agency.")


@strawberry.type(description="A procuratorate (人民检察院) and the jurisdiction it serves.")
class Procuratorate:
    id: strawberry.ID
    name: str
    document_code: str = strawberry.field(description="机关代字: what its document numbers start with, "
                                                      "e.g. 卫东检 in 卫东检公益线〔2026〕3号.")
    jurisdiction_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: ProcuratorateModel) -> Procuratorate:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, document_code=row.document_code,
                   jurisdiction_id=row.jurisdiction_id)

    @strawberry.field
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.jurisdiction_id))


@strawberry.type(description="An administrative division (GB/T 2260): a city or a district.")
class Jurisdiction(Areal):
    id: strawberry.ID
    code: str
    name: str
    level: JurisdictionLevel
    parent_id: strawberry.Private[uuid.UUID | None]
    row: strawberry.Private[JurisdictionModel]

    @classmethod
    def from_model(cls, row: JurisdictionModel) -> Jurisdiction:
        return cls(id=strawberry.ID(str(row.id)), code=row.code, name=row.name, level=row.level,
                   parent_id=row.parent_id, row=row)

    @strawberry.field
    async def parent(self, info: Info) -> Jurisdiction | None:
        if self.parent_id is None:
            return None
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.parent_id))

    @strawberry.field
    async def procuratorate(self, info: Info) -> Procuratorate | None:
        row = await procuratorate_by_jurisdiction_loader(info).load(uuid.UUID(self.id))
        return Procuratorate.from_model(row) if row else None

    def shape(self) -> BaseGeometry:
        return to_shape(self.row.boundary)

    @strawberry.field(description="The boundary, WGS84.")
    def boundary(self) -> GeoJSON:
        return self.shape()


@strawberry.type(description="An administrative law-enforcement agency (行政执法机关).")
class Agency:
    id: strawberry.ID
    name: str
    kind: AgencyKind
    uscc: str = strawberry.field(description="Unified social credit code (统一社会信用代码).")
    jurisdiction_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: AgencyModel) -> Agency:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, kind=row.kind, uscc=row.uscc,
                   jurisdiction_id=row.jurisdiction_id)

    @strawberry.field
    async def jurisdiction(self, info: Info) -> Jurisdiction:
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.jurisdiction_id))


@strawberry.type(description="An account.")
class User:
    id: strawberry.ID
    username: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    row: strawberry.Private[models.UserAccount]

    @classmethod
    def from_model(cls, row: models.UserAccount) -> User:
        return cls(id=strawberry.ID(str(row.id)), username=row.username, display_name=row.display_name,
                   role=row.role, is_active=row.is_active, created_at=row.created_at, row=row)

    @strawberry.field
    async def agency(self, info: Info) -> Agency | None:
        if self.row.agency_id is None:
            return None
        row = await agency_loader(info).load(self.row.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field
    async def procuratorate(self, info: Info) -> Procuratorate | None:
        if self.row.procuratorate_id is None:
            return None
        return Procuratorate.from_model(await procuratorate_loader(info).load(self.row.procuratorate_id))

    @strawberry.field
    async def jurisdiction(self, info: Info) -> Jurisdiction | None:
        if self.row.jurisdiction_id is None:
            return None
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.row.jurisdiction_id))


@strawberry.type(description="Who is asking: a signed-in account or an agency's API key.")
class Viewer:
    username: str
    role: Role
    is_api_key: bool
    user: User | None
    agency_id: strawberry.Private[uuid.UUID | None]
    jurisdiction_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field
    async def agency(self, info: Info) -> Agency | None:
        if self.agency_id is None:
            return None
        row = await agency_loader(info).load(self.agency_id)
        return Agency.from_model(row) if row else None

    @strawberry.field(description="The jurisdiction a prosecutor or assessor acts for.")
    async def jurisdiction(self, info: Info) -> Jurisdiction | None:
        if self.jurisdiction_id is None:
            return None
        return Jurisdiction.from_model(await jurisdiction_loader(info).load(self.jurisdiction_id))


@strawberry.type(description="An agency system's key; the secret itself is never shown again.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    agency_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: models.ApiKey) -> ApiKey:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, prefix=row.prefix,
                   created_at=row.created_at, revoked_at=row.revoked_at, last_used_at=row.last_used_at,
                   agency_id=row.agency_id)

    @strawberry.field
    async def agency(self, info: Info) -> Agency | None:
        row = await agency_loader(info).load(self.agency_id)
        return Agency.from_model(row) if row else None


@strawberry.type
class IssuedApiKey:
    api_key: ApiKey
    key: str = strawberry.field(description="The key in plain text. Shown only now: store it safely.")


@strawberry.type
class LoginResult:
    token: str
    expires_at: datetime
    user: User


@strawberry.input
class CreateJurisdictionInput:
    code: str = strawberry.field(description="Six-digit GB/T 2260 code, e.g. 410403.")
    name: str
    level: JurisdictionLevel
    boundary: GeoJSON
    procuratorate_name: str
    parent_code: str | None = None
    crs: CoordinateSystem = CoordinateSystem.WGS84
    procuratorate_code: str | None = strawberry.field(
        default=None, description="The procuratorate's 机关代字 for document numbers (卫东检); by default "
                                  "the jurisdiction's name without 区/县/市… and with 检 (卫东区 → 卫东检).")


@strawberry.input
class CreateAgencyInput:
    name: str
    kind: AgencyKind
    uscc: str
    jurisdiction_code: str


@strawberry.input
class CreateUserInput:
    username: str
    display_name: str
    password: str
    role: Role
    agency_id: strawberry.ID | None = None
    procuratorate_id: strawberry.ID | None = None
    jurisdiction_code: str | None = None

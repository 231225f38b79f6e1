"""Queries and mutations for jurisdictions, agencies, accounts and API keys."""

from __future__ import annotations

import strawberry
from fastapi import Request
from strawberry.types import Info

from agencies import auth, service
from agencies.types import (
    Agency,
    ApiKey,
    CreateAgencyInput,
    CreateJurisdictionInput,
    CreateUserInput,
    IssuedApiKey,
    Jurisdiction,
    LoginResult,
    Role,
    User,
    Viewer,
)


def client_address(request: Request) -> str:
    """Who is knocking, for the login throttle: the peer address. Behind a reverse proxy, run
    uvicorn with --proxy-headers and --forwarded-allow-ips naming the proxy, and uvicorn puts the
    client's address here; X-Forwarded-For is never read directly, since any client can send one."""
    return request.client.host if request.client else "unknown"


@strawberry.type
class AgencyQuery:
    # Root fields are nullable (as GraphQL advises): a field that fails is null with its error,
    # and the other fields of the same request still answer.
    @strawberry.field(description="Who is asking.")
    async def me(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        account = await service.account_of(info.context.session, principal=principal)
        return Viewer(username=principal.username, role=principal.role, is_api_key=principal.is_api_key,
                      user=User.from_model(account) if account else None, agency_id=principal.agency_id,
                      jurisdiction_id=principal.jurisdiction_id)

    @strawberry.field(description="All jurisdictions, cities first by code.")
    async def jurisdictions(self, info: Info) -> list[Jurisdiction] | None:
        rows = await service.list_jurisdictions(info.context.session, principal=info.context.principal)
        return [Jurisdiction.from_model(row) for row in rows]

    @strawberry.field(description="Agencies the caller may see, optionally of one jurisdiction.")
    async def agencies(self, info: Info, jurisdiction_code: str | None = None) -> list[Agency] | None:
        rows = await service.list_agencies(info.context.session, principal=info.context.principal,
                                           jurisdiction_code=jurisdiction_code)
        return [Agency.from_model(row) for row in rows]

    @strawberry.field
    async def agency(self, info: Info, id: strawberry.ID) -> Agency | None:
        return Agency.from_model(await service.get_agency(
            info.context.session, principal=info.context.principal, agency_id=id))

    @strawberry.field(description="Accounts, for administrators.")
    async def users(self, info: Info, role: Role | None = None, agency_id: strawberry.ID | None = None) -> list[User] | None:
        rows = await service.list_users(info.context.session, principal=info.context.principal, role=role,
                                        agency_id=agency_id)
        return [User.from_model(row) for row in rows]

    @strawberry.field(description="An agency's API keys (administrators and the agency's liaisons).")
    async def api_keys(self, info: Info, agency_id: strawberry.ID) -> list[ApiKey] | None:
        rows = await service.list_api_keys(info.context.session, principal=info.context.principal,
                                           agency_id=agency_id)
        return [ApiKey.from_model(row) for row in rows]


@strawberry.type
class AgencyMutation:
    @strawberry.mutation(description="Exchange a username and password for a bearer token.")
    async def login(self, info: Info, username: str, password: str) -> LoginResult:
        user, token, expires_at = await auth.login(
            info.context.session, settings=info.context.settings.auth,
            throttle=info.context.resources.login_throttle, source=client_address(info.context.request),
            username=username, password=password)
        return LoginResult(token=token, expires_at=expires_at, user=User.from_model(user))

    @strawberry.mutation
    async def create_jurisdiction(self, info: Info, input: CreateJurisdictionInput) -> Jurisdiction:
        data = service.NewJurisdiction(code=input.code, name=input.name, level=input.level,
                                       boundary=input.boundary, crs=input.crs,
                                       parent_code=input.parent_code,
                                       procuratorate_name=input.procuratorate_name,
                                       procuratorate_code=input.procuratorate_code)
        return Jurisdiction.from_model(await service.create_jurisdiction(
            info.context.session, principal=info.context.principal, data=data))

    @strawberry.mutation
    async def create_agency(self, info: Info, input: CreateAgencyInput) -> Agency:
        return Agency.from_model(await service.create_agency(
            info.context.session, principal=info.context.principal, name=input.name, kind=input.kind,
            uscc=input.uscc, jurisdiction_code=input.jurisdiction_code))

    @strawberry.mutation
    async def create_user(self, info: Info, input: CreateUserInput) -> User:
        data = service.NewUser(username=input.username, display_name=input.display_name,
                               password=input.password, role=input.role, agency_id=input.agency_id,
                               procuratorate_id=input.procuratorate_id,
                               jurisdiction_code=input.jurisdiction_code)
        return User.from_model(await service.create_user(
            info.context.session, principal=info.context.principal, data=data))

    @strawberry.mutation(description="Change your own password.")
    async def change_password(self, info: Info, current_password: str, new_password: str) -> User:
        return User.from_model(await service.change_password(
            info.context.session, principal=info.context.principal, current_password=current_password,
            new_password=new_password))

    @strawberry.mutation(description="Disable or re-enable an account; a disabled account's tokens "
                                     "stop working at once.")
    async def set_user_active(self, info: Info, user_id: strawberry.ID, active: bool) -> User:
        return User.from_model(await service.set_user_active(
            info.context.session, principal=info.context.principal, user_id=user_id, active=active))

    @strawberry.mutation
    async def issue_api_key(self, info: Info, agency_id: strawberry.ID, name: str) -> IssuedApiKey:
        key, plaintext = await service.issue_api_key(
            info.context.session, principal=info.context.principal, agency_id=agency_id, name=name)
        return IssuedApiKey(api_key=ApiKey.from_model(key), key=plaintext)

    @strawberry.mutation
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        return ApiKey.from_model(await service.revoke_api_key(
            info.context.session, principal=info.context.principal, key_id=id))

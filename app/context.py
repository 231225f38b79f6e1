"""Per-request GraphQL context: the request's database session, who is asking, shared clients,
DataLoaders. Built by a FastAPI dependency; the transaction itself is ended by
app.graphql.RequestTransaction once the operation has run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext

from agencies.auth import principal_from_bearer
from agencies.principal import Principal
from agencies.throttle import LoginThrottle
from app.settings import Settings
from core import unit_of_work
from core.db import database_unreachable
from core.errors import AppError, DatabaseUnavailable, Unauthenticated
from evidence.storage import EvidenceStore


@dataclass
class Resources:
    """Clients made once at startup and shared by every request."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    store: EvidenceStore
    login_throttle: LoginThrottle


class Context(BaseContext):
    def __init__(self, *, resources: Resources, session: AsyncSession, request_id: str,
                 principal: Principal | None, auth_error: AppError | None):
        super().__init__()
        self.resources = resources
        self.settings = resources.settings
        self.store = resources.store
        self.session = session
        self.request_id = request_id
        self._principal = principal
        self._auth_error = auth_error
        self.loaders: dict[str, Any] = {}

    @property
    def principal(self) -> Principal:
        if self._auth_error is not None:
            raise self._auth_error
        if self._principal is None:
            raise Unauthenticated()
        return self._principal


def bearer_credential(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("Authorization 头应为 Bearer 令牌 / use 'Authorization: Bearer <token>'")
    return credential.strip()


async def authenticate_request(request: Request, session: AsyncSession,
                               settings: Settings) -> tuple[Principal | None, AppError | None]:
    """The principal, or the error to answer with when a resolver asks for it."""
    try:
        credential = bearer_credential(request)
        if credential is None:
            return None, None
        return await principal_from_bearer(session, settings.auth, credential), None
    except Unauthenticated as error:
        return None, error
    except Exception as error:
        if database_unreachable(error):
            return None, DatabaseUnavailable()
        raise


async def get_context(request: Request) -> AsyncIterator[Context]:
    resources: Resources = request.app.state.resources
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    async with resources.session_factory() as session:
        principal, auth_error = await authenticate_request(request, session, resources.settings)
        context = Context(resources=resources, session=session, request_id=request_id,
                          principal=principal, auth_error=auth_error)
        try:
            yield context
        finally:
            # Normally RequestTransaction has committed or rolled back already; this is the net
            # for a request that ended some other way.
            if session.in_transaction():
                await unit_of_work.rollback(session)
            else:
                await unit_of_work.run_undo(session)

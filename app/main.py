"""The application: settings, shared clients, routes and GraphQL put together."""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agencies.throttle import LoginThrottle
from app.context import Resources, get_context
from app.graphiql import assets_router as graphiql_assets_router
from app.graphql import INTERNAL_MESSAGE, PlatformRouter, build_schema
from app.http import error_response
from app.http import router as http_router
from app.planned import PlannedGraphQL, planned_queries
from app.portal import router as portal_router
from app.settings import ApiSettings, Settings, get_settings
from assessment.routes import router as assessment_router
from core.db import database_unreachable, make_engine, make_session_factory
from core.errors import AppError, BodyOverLimit, DatabaseUnavailable, PayloadTooLarge, Unauthenticated, ValidationFailed
from deadlines.routes import router as deadlines_router
from enforcement.routes import router as enforcement_router
from evidence.storage import EvidenceStore
from geo.routes import router as tile_router

logger = logging.getLogger("app.main")


class RequestGuard:
    """Checks made before a body is read: a request id for the logs, the size limit, and
    multipart (upload) requests only with a bearer token. Browsers never attach a bearer token
    on their own, so a cross-site form cannot post an upload (the CSRF risk of multipart).
    The size limit is checked again on the bytes as they are read: a chunked body has no
    Content-Length, and a Content-Length can lie."""

    def __init__(self, app: ASGIApp, api_settings: ApiSettings):
        self.app = app
        self.api_settings = api_settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_request_id(message) -> None:
            # Returned to the client so a support request can point at the server's log lines.
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        problem = self._problem(scope, headers)
        if problem is not None:
            await error_response(problem)(scope, receive, send_with_request_id)
            return
        limit = self._limit(headers)
        received = 0
        response_started = False

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyOverLimit(too_large(limit))
            return message

        async def send_tracked(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send_with_request_id(message)

        try:
            await self.app(scope, receive_within_limit, send_tracked)
        except BodyOverLimit as over:
            if response_started:  # too late to answer: let the server drop the connection
                raise
            await error_response(over.error)(scope, receive, send_with_request_id)

    def _limit(self, headers: dict[str, str]) -> int:
        if headers.get("content-type", "").startswith("multipart/"):
            return self.api_settings.max_request_bytes
        return self.api_settings.max_json_bytes

    def _problem(self, scope: Scope, headers: dict[str, str]) -> AppError | None:
        # RFC 9110 forbids NUL in a field value; most servers refuse it, but not every one, and a
        # credential holding one would reach the database, which cannot take it. (Headers are
        # read as Latin-1, so they never hold the lone surrogates refused elsewhere.)
        if any("\x00" in value for value in headers.values()):
            return ValidationFailed("请求头不能包含 NUL 字符 / header values may not contain NUL characters")
        if scope["method"] != "POST":
            return None
        multipart = headers.get("content-type", "").startswith("multipart/")
        limit = self._limit(headers)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return too_large(limit)
        if multipart:
            if length is None:
                return ValidationFailed("上传须带 Content-Length / uploads need a Content-Length header")
            if not headers.get("authorization", "").lower().startswith("bearer "):
                return Unauthenticated("上传需要 Bearer 令牌 / uploads need 'Authorization: Bearer <token>'")
        return None


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"请求过大 / the request is larger than {limit} bytes", limitBytes=limit)


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """The last net, for any route: a bug is logged with the request id and answered as JSON
    with a code, never as Starlette's plain-text 500. (Starlette re-raises the error after
    this answer is sent, so the server logs it as well.)"""
    request_id = request.scope.get("state", {}).get("request_id")
    if database_unreachable(error):  # not a bug: an outage, worth a retry
        logger.warning("database unreachable (request %s) on %s %s: %r", request_id, request.method,
                       request.url.path, error)
        response = error_response(DatabaseUnavailable())
        response.headers["X-Request-Id"] = request_id or ""
        return response
    logger.error("unexpected error (request %s) on %s %s", request_id, request.method, request.url.path,
                 exc_info=error)
    body = {"errors": [{"message": INTERNAL_MESSAGE,
                        "extensions": {"code": "INTERNAL", "requestId": request_id}}]}
    # This handler answers outside RequestGuard, so the request id header is set here.
    return JSONResponse(body, status_code=500, headers={"X-Request-Id": request_id or ""})


class GraphQLShapedTransportErrors:
    """strawberry answers a request it cannot even read (bad JSON, wrong content type, a broken
    multipart body) with plain text; CONTRACT.md wants every failure as a GraphQL error with a
    code, so those few answers are rewritten on their way out."""

    def __init__(self, app: ASGIApp, path: str = "/graphql"):
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        held: dict = {}
        body = bytearray()

        async def rewrite(message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if message["status"] >= 400 and headers.get(b"content-type", b"").startswith(b"text/plain"):
                    held["start"] = message
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                await self._send_as_graphql_error(held["start"], bytes(body), send)
                return
            await send(message)

        await self.app(scope, receive, rewrite)

    @staticmethod
    async def _send_as_graphql_error(start: dict, text: bytes, send: Send) -> None:
        reason = text.decode("utf-8", "replace")
        status = start["status"]
        code = "VALIDATION"
        if reason == "Unsupported content type":
            code, status = "UNSUPPORTED_MEDIA_TYPE", 415
        payload = json.dumps({"errors": [{"message": reason, "extensions": {"code": code}}]}).encode()
        headers = [(key, value) for key, value in start.get("headers", [])
                   if key.lower() not in (b"content-type", b"content-length")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Run with `uvicorn --factory app.main:create_app`; settings come from the environment."""
    settings = settings or get_settings()
    settings.check_production()
    if not logging.getLogger().handlers:  # uvicorn configures only its own loggers
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings.db)
        store = EvidenceStore(settings.storage)
        throttle = LoginThrottle(engine, settings.auth)
        app.state.resources = Resources(settings=settings, engine=engine,
                                        session_factory=make_session_factory(engine), store=store,
                                        login_throttle=throttle)
        try:
            yield
        finally:
            store.close()
            await engine.dispose()

    app = FastAPI(title="公益诉讼线索移送平台 / PIL referral platform", lifespan=lifespan,
                  docs_url=None if settings.is_production else "/docs", redoc_url=None,
                  openapi_url=None if settings.is_production else "/openapi.json")
    schema = build_schema(settings.api, production=settings.is_production)
    graphql = PlatformRouter(schema, context_getter=get_context, multipart_uploads_enabled=True,
                            graphql_ide=None if settings.is_production else "graphiql",
                            allow_queries_via_get=False)
    app.state.planned_queries = planned_queries(graphql, settings.api)
    app.include_router(graphql, prefix="/graphql")
    if not settings.is_production:
        app.include_router(graphiql_assets_router)
    app.include_router(http_router)
    app.state.portal_settings = settings.portal
    app.include_router(portal_router)
    app.include_router(tile_router)
    app.include_router(deadlines_router)
    app.include_router(enforcement_router)
    app.include_router(assessment_router)
    app.add_middleware(PlannedGraphQL)
    app.add_middleware(GraphQLShapedTransportErrors)
    app.add_middleware(RequestGuard, api_settings=settings.api)
    app.add_exception_handler(Exception, unexpected_error)
    return app


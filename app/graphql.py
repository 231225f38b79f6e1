"""GraphQL schema assembly: each domain's Query and Mutation merged, plus the cross-cutting
extensions — one transaction per operation, error codes and masking, document limits, caches."""

from __future__ import annotations

import json
import logging
from functools import cached_property

import orjson
import strawberry
from cross_web import StarletteRequestAdapter
from graphql import GraphQLError
from sqlalchemy.exc import DataError
from starlette.requests import Request
from strawberry.extensions import DisableIntrospection, ParserCache, SchemaExtension, ValidationCache
from strawberry.fastapi import GraphQLRouter
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.unset import UNSET

from agencies.api import AgencyMutation, AgencyQuery
from app.graphiql import local_graphiql_html
from app.http import error_response
from app.limits import LimitedParserCache, LimitedValidationCache, document_limit_rules
from app.multipart import MultipartBody
from app.settings import ApiSettings
from assessment.api import AssessmentMutation, AssessmentQuery
from cases.api import CaseMutation, CaseQuery
from clues.api import ClueMutation, ClueQuery
from core import unit_of_work
from core.db import database_unreachable
from core.errors import AppError, BodyOverLimit, DatabaseUnavailable, ValidationFailed
from deadlines.api import DeadlineMutation, DeadlineQuery
from enforcement.api import EnforcementMutation, EnforcementQuery
from evidence.api import EvidenceMutation, EvidenceQuery
from geo.api import GeoMutation, GeoQuery
from geo.types import SCALARS
from notifications.api import NotificationMutation, NotificationQuery
from recommendations.api import RecommendationMutation, RecommendationQuery
from recommendations.evidence_api import PresignedEvidenceMutation
from referral.api import ReferralMutation, ReferralQuery
from referral.evidence_api import ReferralEvidenceMutation
from referral.service import MAX_EVIDENCE_PER_SUBMISSION

logger = logging.getLogger("app.graphql")

# Each domain's root fields, in the order the schema lists them.
Query = merge_types("Query", (AgencyQuery, ReferralQuery, CaseQuery, RecommendationQuery, DeadlineQuery, GeoQuery,
                              NotificationQuery, EvidenceQuery, EnforcementQuery, ClueQuery, AssessmentQuery))
Mutation = merge_types("Mutation", (AgencyMutation, ReferralMutation, ReferralEvidenceMutation, PresignedEvidenceMutation,
                                    CaseMutation,
                                    RecommendationMutation, DeadlineMutation, GeoMutation, NotificationMutation,
                                    EnforcementMutation, EvidenceMutation, ClueMutation, AssessmentMutation))

INTERNAL_MESSAGE = "服务器内部错误 / Internal server error"


class RequestTransaction(SchemaExtension):
    """Commit the operation's work if it succeeded entirely; otherwise roll all of it back,
    including objects already written to the store. A partly failed request changes nothing."""

    async def on_operation(self):
        context = self.execution_context.context
        session = getattr(context, "session", None)
        try:
            yield
        except BaseException:
            if session is not None:
                await unit_of_work.rollback(session)
            raise
        result = self.execution_context.result
        if result is not None and not result.errors:
            await _finish_multipart_body(context, result)
        failure = await end_transaction(context, succeeded=result is not None and not result.errors)
        if failure is not None:
            result.data = None
            result.errors = [failure]


async def end_transaction(context, *, succeeded: bool) -> GraphQLError | None:
    """Commit the request's work if it succeeded, else roll it back; the error to answer with
    instead of the result if the commit failed (shared with the planned path, app.planned)."""
    session = getattr(context, "session", None)
    if session is None:
        return None
    if not succeeded:
        await unit_of_work.rollback(session)
        return None
    try:
        await unit_of_work.commit(session)
    except Exception as error:
        # The commit failed, or its answer never came back (then it may well have happened:
        # the undo steps only ever touch what a commit would have settled, so they are safe
        # either way, and a retry with the same idempotency key finds out).
        await unit_of_work.rollback(session)
        request_id = getattr(context, "request_id", None)
        if database_unreachable(error):
            logger.warning("commit in doubt (request %s): %r", request_id, error)
            return GraphQLError(DatabaseUnavailable.default_message,
                                extensions={**DatabaseUnavailable().as_extensions(), "requestId": request_id})
        logger.error("commit failed (request %s)", request_id, exc_info=error)
        return GraphQLError(INTERNAL_MESSAGE, extensions={"code": "INTERNAL", "requestId": request_id})
    return None


async def _finish_multipart_body(context, result) -> None:
    """An upload's body is read to its end before the operation may commit: files no resolver
    read are discarded, and a body that turns out malformed fails the whole request."""
    request = getattr(context, "request", None)
    body: MultipartBody | None = getattr(getattr(request, "state", None), "multipart_body", None)
    if body is None:
        return
    try:
        await body.finish()
    except (AppError, BodyOverLimit) as failure:
        error = failure.error if isinstance(failure, BodyOverLimit) else failure
        result.data = None
        result.errors = [GraphQLError(error.message, original_error=error)]
        # The body itself is at fault, as when it is refused before the operation runs.
        response = getattr(context, "response", None)
        if response is not None:
            response.status_code = error.http_status


class StreamingRequestAdapter(StarletteRequestAdapter):
    @property
    def request(self) -> Request:
        return self._request


class PlatformRouter(GraphQLRouter):
    """Serves GraphiQL without a CDN, and gives every error a code from CONTRACT.md on its way
    out: the last point every error passes, parse errors raised inside extensions included.
    Errors we raise on purpose keep their message; anything unexpected is logged with the
    request id and reaches the client masked.

    Multipart (upload) requests are streamed (app.multipart), not parsed into temporary files
    first: the operation runs once `operations` and `map` are read, and reads its files from
    the request as they arrive."""

    request_adapter_class = StreamingRequestAdapter
    max_files = MAX_EVIDENCE_PER_SUBMISSION
    body_idle_timeout_seconds: float = 60

    async def run(self, request, context=UNSET, root_value=UNSET):
        try:
            return await super().run(request, context, root_value)
        except AppError as error:  # a multipart body refused before the operation could run
            return error_response(error)

    async def parse_multipart(self, request: StreamingRequestAdapter) -> dict:
        http_request = request.request
        limits: ApiSettings = http_request.app.state.resources.settings.api
        body = MultipartBody(http_request.stream(), request.content_type or "",
                             max_bytes=limits.max_request_bytes, max_json_bytes=limits.max_json_bytes,
                             max_files=self.max_files, idle_timeout_seconds=self.body_idle_timeout_seconds)
        http_request.state.multipart_body = body
        return await body.read_operations(self.decode_json)

    def decode_json(self, data: str | bytes) -> object:
        # strawberry answers 400 for a JSONDecodeError only; anything else that json.loads raises
        # would be a 500, so it is turned into one.
        try:
            # RFC 8259 wants UTF-8 between systems; json.loads alone would also guess UTF-16/32.
            value = json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
        except RecursionError as error:
            raise json.JSONDecodeError("nested too deeply", "", 0) from error
        except json.JSONDecodeError:
            raise
        except ValueError as error:  # bytes that are not UTF-8, an integer past the digit limit
            raise json.JSONDecodeError(str(error), "", 0) from error
        if not isinstance(value, (dict, list)):  # strawberry reads fields of it without looking
            raise json.JSONDecodeError("a GraphQL request is a JSON object", "", 0)
        return value

    @cached_property
    def graphql_ide_html(self) -> str:
        return local_graphiql_html(get_graphql_ide_html(graphql_ide=self.graphql_ide))

    async def process_result(self, request, result):
        if result.errors:
            request_id = getattr(request.state, "request_id", None)
            result.errors = [present_error(error, request_id) for error in result.errors]
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        # orjson writes a 50-row page several times faster than json.dumps, and UTF-8 instead of
        # \u escapes. What it refuses (a lone surrogate in a string, an integer
        # beyond 64 bits) is still encoded, by the standard library.
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return json.dumps(data, separators=(",", ":")).encode()


def present_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if database_unreachable(original):
        original = DatabaseUnavailable()
    elif isinstance(original, DataError):
        # A value PostgreSQL would not take that no check caught first: the input's fault, but
        # worth a look, so it is logged.
        logger.warning("input refused by the database (request %s): %s", request_id, original.orig)
        original = ValidationFailed("输入中有无法保存的值 / a value in the input cannot be stored")
    if isinstance(original, AppError):
        return GraphQLError(original.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions=original.as_extensions())
    if original is None and error.extensions and "code" in error.extensions:
        return error  # already presented (a failed commit)
    if original is None or error.path is None or isinstance(original, GraphQLError):
        # Syntax, validation, limits and variable coercion (also an argument's value coerced as
        # the field runs, e.g. an explicit null for a non-null argument): the request is wrong.
        return GraphQLError(error.message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path,
                            extensions={"code": "VALIDATION"})
    logger.error("unexpected error (request %s) at %s", request_id, error.path,
                 exc_info=(type(original), original, original.__traceback__))
    return GraphQLError(INTERNAL_MESSAGE, nodes=error.nodes, path=error.path,
                        extensions={"code": "INTERNAL", "requestId": request_id})


class PlatformSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # PlatformRouter logs what is unexpected; expected errors are not worth a traceback.
        return None


def build_schema(api: ApiSettings, *, production: bool, document_limits: bool = True) -> PlatformSchema:
    """`document_limits=False` exists for the benchmark's baseline only."""
    if document_limits:
        limit_rules = document_limit_rules(api.max_query_depth, api.max_aliases)
        extensions = [RequestTransaction, lambda: LimitedParserCache(api.max_tokens),
                      lambda: LimitedValidationCache(limit_rules)]
    else:
        extensions = [RequestTransaction, ParserCache, ValidationCache]
    if production:
        extensions.append(DisableIntrospection)
    return PlatformSchema(query=Query, mutation=Mutation, extensions=extensions,
                          config=StrawberryConfig(scalar_map=SCALARS))


def schema_sdl() -> str:
    """The SDL committed as schema.graphql (limits and production switches do not change it)."""
    return build_schema(ApiSettings(), production=False).as_str() + "\n"

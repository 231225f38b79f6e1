"""The planned path, PostGraphile's way: a query whose only root field has a planner and whose
selection that planner supports is answered by one SQL statement that builds the JSON (see
core.planning, referral.planner), without strawberry executing a resolver per field.

The request is read, parsed and validated as strawberry does it (the same document limits and
rules; the plan is cached per document and operation name), and its variables and arguments
are coerced and converted by graphql-core and strawberry themselves. Anything the planners do
not take — another root field, several, a mutation, introspection, directives, fragments on
another type, a field they do not know, variables that do not coerce — goes to strawberry
unchanged, which then also reports what is wrong with it. A planned answer's errors pass
through the same presentation (codes, masking, request id) and the transaction ends as
RequestTransaction ends it."""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    OperationDefinitionNode,
    OperationType,
    ValidationRule,
    get_operation_ast,
    located_error,
    parse,
    specified_rules,
)
from graphql.execution.values import get_argument_values, get_variable_values
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.schema.schema import validate_document
from strawberry.types.arguments import convert_arguments

from app.context import Context, Resources, authenticate_request
from app.graphql import PlatformRouter, end_transaction, present_error
from app.limits import document_limit_rules, variables_problem
from app.settings import ApiSettings
from core.db import make_session_factory
from core.planning import Field, NotPlannable, collect_fields
from referral.planner import plan_referrals, plan_referrals_near


class Plan(Protocol):
    arguments: frozenset[str]  # the root field's arguments (Python names) the plan takes

    async def answer(self, context: Any, **arguments: Any) -> str:
        """The root field's value as JSON text, for its arguments as strawberry converts them."""


Planner = Callable[[Field], Plan]


@dataclass(frozen=True)
class PlannedOperation:
    key: str
    field_node: FieldNode
    operation: OperationDefinitionNode
    definition: GraphQLField
    plan: Plan


class PlannedQueries:
    """Routes the operations the `planners` (root field name → planner) take; `enabled` off sends
    everything to strawberry (a switch for operators, and for the tests comparing both paths)."""

    def __init__(self, schema: strawberry.Schema, planners: Mapping[str, Planner], *,
                 limit_rules: tuple[type[ValidationRule], ...], max_tokens: int,
                 decode_json: Callable[[bytes], object], encode_json: Callable[[object], bytes],
                 enabled: bool = True, cache_size: int = 256):
        self.schema = schema
        self.decode_json = decode_json
        self.encode_json = encode_json
        self.planners = planners
        self.rules = (*specified_rules, *limit_rules)
        self.max_tokens = max_tokens
        self.enabled = enabled
        self.cache_size = cache_size
        self._plans: OrderedDict[tuple[str, str | None], PlannedOperation | None] = OrderedDict()
        self._session_factory: async_sessionmaker[AsyncSession] | None = None

    def session_factory(self, resources: Resources) -> async_sessionmaker[AsyncSession]:
        """Sessions on the shared pool whose connections run in autocommit (made on first use)."""
        if self._session_factory is None:
            self._session_factory = make_session_factory(resources.engine.execution_options(
                isolation_level="AUTOCOMMIT"))
        return self._session_factory

    def prepare(self, query: str, operation_name: str | None) -> PlannedOperation | None:
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        prepared = self._prepare(query, operation_name)
        self._plans[key] = prepared
        if len(self._plans) > self.cache_size:
            self._plans.popitem(last=False)
        return prepared

    def _prepare(self, query: str, operation_name: str | None) -> PlannedOperation | None:
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return None
        if validate_document(self.schema._schema, document, self.rules):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY or operation.directives:
            return None
        if any(definition.directives for definition in operation.variable_definitions or ()):
            return None
        fragments = {definition.name.value: definition for definition in document.definitions
                     if isinstance(definition, FragmentDefinitionNode)}
        try:
            root = collect_fields([operation.selection_set], "Query", fragments)
            if len(root) != 1 or len(root[0].nodes) != 1 or root[0].name not in self.planners:
                return None
            [field] = root
            plan = self.planners[field.name](field)
        except NotPlannable:
            return None
        definition = self.schema._schema.query_type.fields[field.name]
        return PlannedOperation(key=field.key, field_node=field.nodes[0], operation=operation,
                                definition=definition, plan=plan)

    def requested(self, body: bytes) -> tuple[PlannedOperation, dict] | None:
        """The planned operation of a JSON request body and its root field's arguments, or None
        for strawberry to answer it."""
        try:
            data = self.decode_json(body)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        operation_name = data.get("operationName")
        if (not isinstance(query, str) or not isinstance(variables, (dict, type(None)))
                or not isinstance(operation_name, (str, type(None)))
                or not isinstance(data.get("extensions"), (dict, type(None)))
                or variables_problem(variables)):
            return None
        planned = self.prepare(query, operation_name)
        if planned is None:
            return None
        arguments = self._arguments(planned, variables or {})
        if arguments is None:
            return None
        return planned, arguments

    async def respond(self, planned: PlannedOperation, arguments: dict, context: Context) -> bytes:
        """The answer's body, ending the request's transaction as RequestTransaction does."""
        try:
            value = await planned.plan.answer(context, **arguments)
        except Exception as error:
            await end_transaction(context, succeeded=False)
            located = located_error(error, [planned.field_node], [planned.key])
            return self.encode_json({"data": {planned.key: None},
                                     "errors": [present_error(located, context.request_id).formatted]})
        failure = await end_transaction(context, succeeded=True)
        if failure is not None:
            return self.encode_json({"data": None, "errors": [present_error(failure, context.request_id).formatted]})
        return f'{{"data":{{"{planned.key}":{value}}}}}'.encode()

    def _arguments(self, planned: PlannedOperation, variables: dict) -> dict | None:
        """The root field's arguments as its strawberry resolver would receive them, or None when
        the variables or arguments do not coerce (strawberry then reports why)."""
        # Whatever fails here (a scalar's parser included) fails the same way in strawberry,
        # which reports it as it always does: the planned path never answers it.
        try:
            coerced = get_variable_values(self.schema._schema, planned.operation.variable_definitions or (),
                                          variables)
            if isinstance(coerced, list):
                return None
            values = get_argument_values(planned.definition, planned.field_node, coerced)
            strawberry_field = planned.definition.extensions["strawberry-definition"]
            arguments = convert_arguments(values, strawberry_field.arguments,
                                          scalar_registry=self.schema.schema_converter.scalar_registry,
                                          config=self.schema.config)
        except Exception:
            return None
        return arguments if arguments.keys() <= planned.plan.arguments else None


def planned_queries(router: PlatformRouter, api: ApiSettings) -> PlannedQueries:
    """The root fields that have a planner, checked with the schema's document limits, read and
    written as the router reads and writes JSON."""
    return PlannedQueries(router.schema, {"referrals": plan_referrals, "referralsNear": plan_referrals_near},
                          limit_rules=document_limit_rules(api.max_query_depth, api.max_aliases),
                          max_tokens=api.max_tokens, decode_json=router.decode_json,
                          encode_json=router.encode_json, enabled=api.planned_queries)


class PlannedGraphQL:
    """ASGI middleware in front of the GraphQL route: a JSON POST that `app.state.planned_queries`
    takes is answered here, with its own session in autocommit (a read needs no BEGIN and COMMIT
    round trips) and the principal as get_context resolves it; any other request goes on to
    strawberry with its body as it came. Runs inside RequestGuard (request id, size limits)."""

    def __init__(self, app: ASGIApp, path: str = "/graphql"):
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        planned: PlannedQueries | None = getattr(scope.get("app").state, "planned_queries", None) \
            if scope["type"] == "http" else None
        if (planned is None or not planned.enabled or scope["method"] != "POST"
                or scope["path"].rstrip("/") != self.path):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if "application/json" not in request.headers.get("content-type", ""):
            await self.app(scope, receive, send)
            return
        body = await request.body()
        requested = planned.requested(body)
        if requested is None:
            await self.app(scope, _replay(body, receive), send)
            return
        resources: Resources = scope["app"].state.resources
        async with planned.session_factory(resources)() as session:
            principal, auth_error = await authenticate_request(request, session, resources.settings)
            context = Context(resources=resources, session=session, principal=principal, auth_error=auth_error,
                              request_id=scope.get("state", {}).get("request_id") or uuid.uuid4().hex)
            answer = await planned.respond(*requested, context)
        await Response(answer, media_type="application/json")(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` with the body already read handed out first."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

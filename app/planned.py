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
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.schema import validate_document
from strawberry.types.arguments import convert_arguments

from app.graphql import end_transaction, present_error
from app.limits import document_limit_rules, variables_problem
from app.settings import ApiSettings
from core.planning import Field, NotPlannable, collect_fields
from referral.planner import plan_referrals


class Plan(Protocol):
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
                 limit_rules: tuple[type[ValidationRule], ...], max_tokens: int, enabled: bool = True,
                 cache_size: int = 256):
        self.schema = schema
        self.planners = planners
        self.rules = (*specified_rules, *limit_rules)
        self.max_tokens = max_tokens
        self.enabled = enabled
        self.cache_size = cache_size
        self._plans: OrderedDict[tuple[str, str | None], PlannedOperation | None] = OrderedDict()

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

    async def answer(self, request: Request, context: Any, decode_json: Callable[[bytes], object],
                     encode_json: Callable[[object], bytes]) -> Response | None:
        """The planned answer to the request, or None for strawberry to answer it."""
        if not self.enabled or "application/json" not in request.headers.get("content-type", ""):
            return None
        try:
            data = decode_json(await request.body())
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

        try:
            value = await planned.plan.answer(context, **arguments)
        except Exception as error:
            await end_transaction(context, succeeded=False)
            located = located_error(error, [planned.field_node], [planned.key])
            body = {"data": {planned.key: None},
                    "errors": [present_error(located, getattr(context, "request_id", None)).formatted]}
            return Response(encode_json(body), media_type="application/json")
        failure = await end_transaction(context, succeeded=True)
        if failure is not None:
            body = {"data": None, "errors": [present_error(failure, getattr(context, "request_id", None)).formatted]}
            return Response(encode_json(body), media_type="application/json")
        return Response(f'{{"data":{{"{planned.key}":{value}}}}}'.encode(), media_type="application/json")

    def _arguments(self, planned: PlannedOperation, variables: dict) -> dict | None:
        """The root field's arguments as its strawberry resolver would receive them, or None when
        the variables or arguments do not coerce (strawberry then reports why)."""
        coerced = get_variable_values(self.schema._schema, planned.operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return None
        try:
            values = get_argument_values(planned.definition, planned.field_node, coerced)
        except GraphQLError:
            return None
        strawberry_field = planned.definition.extensions["strawberry-definition"]
        return convert_arguments(values, strawberry_field.arguments,
                                 scalar_registry=self.schema.schema_converter.scalar_registry, config=self.schema.config)



def planned_queries(schema: strawberry.Schema, api: ApiSettings) -> PlannedQueries:
    """The root fields that have a planner, checked with the schema's document limits."""
    return PlannedQueries(schema, {"referrals": plan_referrals},
                          limit_rules=document_limit_rules(api.max_query_depth, api.max_aliases),
                          max_tokens=api.max_tokens, enabled=api.planned_queries)

"""Building blocks of planned queries: a GraphQL selection answered by one SQL statement in which
PostgreSQL builds the JSON itself (app.planned routes operations to them; referral.planner is one).

Only plain selections are planned: fields, aliases, `__typename`, and fragments on exactly the
type they are spread in, without directives. Anything else raises NotPlannable and strawberry
answers the operation. The values are written as strawberry writes them (`iso_datetime`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from sqlalchemy import ColumnElement, case, func, literal_column

# PostgreSQL functions take at most 100 arguments: 50 keys with their values.
MAX_OBJECT_KEYS = 50
_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class NotPlannable(Exception):
    """The selection uses something the planner does not answer itself: strawberry answers it."""


@dataclass(frozen=True)
class Field:
    """One response key of a selection: its field name and every node asking for it (a key may
    be asked for several times, through fragments; their sub-selections are merged)."""

    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    fragments: Mapping[str, FragmentDefinitionNode]

    def fields(self, type_name: str) -> list[Field]:
        """The merged sub-selection, on the object type `type_name`."""
        return collect_fields([node.selection_set for node in self.nodes if node.selection_set], type_name,
                              self.fragments)


def collect_fields(selection_sets: Iterable[SelectionSetNode], type_name: str,
                   fragments: Mapping[str, FragmentDefinitionNode]) -> list[Field]:
    """GraphQL's field collection (in the order of first appearance), for the plain cases only."""
    grouped: dict[str, list[FieldNode]] = {}

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotPlannable("directive")
            if isinstance(selection, FieldNode):
                grouped.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition and selection.type_condition.name.value != type_name:
                    raise NotPlannable("fragment on another type")
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None or fragment.directives or fragment.type_condition.name.value != type_name:
                    raise NotPlannable("fragment on another type")
                walk(fragment.selection_set)
            else:
                raise NotPlannable(type(selection).__name__)

    for selection_set in selection_sets:
        walk(selection_set)
    return [Field(key=key, name=nodes[0].name.value, nodes=tuple(nodes), fragments=fragments)
            for key, nodes in grouped.items()]


def sql_string(value: str) -> ColumnElement:
    """A constant string of the code (never a client's value but a checked GraphQL name) written
    into the statement: json_build_object's arguments are untyped, so a bound parameter would
    leave PostgreSQL unable to tell its type."""
    return literal_column("'" + value.replace("'", "''") + "'")


def json_object(pairs: list[tuple[str, ColumnElement]]) -> ColumnElement:
    if len(pairs) > MAX_OBJECT_KEYS:
        raise NotPlannable("too many keys for one json_build_object")
    arguments = []
    for key, value in pairs:
        if not _GRAPHQL_NAME.match(key):
            raise NotPlannable(f"not a GraphQL name: {key!r}")
        arguments += [sql_string(key), value]
    return func.json_build_object(*arguments)


def iso_datetime(column) -> ColumnElement:
    """A timestamptz as strawberry writes the driver's UTC datetime (`datetime.isoformat()`):
    microseconds only when there are any, all six digits, and `+00:00`."""
    utc = func.timezone(sql_string("UTC"), column)
    fraction = case((func.date_trunc(sql_string("second"), utc) == utc, sql_string("")),
                    else_=func.to_char(utc, sql_string(".US")))
    return func.to_char(utc, sql_string('YYYY-MM-DD"T"HH24:MI:SS')).concat(fraction).concat(sql_string("+00:00"))


def iso_date(column) -> ColumnElement:
    return func.to_char(column, sql_string("YYYY-MM-DD"))

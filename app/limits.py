"""Limits on GraphQL documents: nesting depth and alias count, fragments included.

They are graphql-core validation rules built once per schema (not per request), so the validation
cache keeps working: a document is checked once, and repeats cost a cache lookup. (strawberry's
QueryDepthLimiter and MaxAliasesLimiter build fresh rule classes per request and defeat it.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import ParserCache, ValidationCache


def _measure(selection_set: SelectionSetNode | None, context: ValidationContext,
             visiting: frozenset[str]) -> tuple[int, int]:
    """(depth, aliases) of a selection set, expanding fragment spreads each time they are used."""
    if selection_set is None:
        return 0, 0
    depth, aliases = 0, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            child_depth, child_aliases = _measure(selection.selection_set, context, visiting)
            depth = max(depth, 1 + child_depth if selection.selection_set else 1)
            aliases += child_aliases + (1 if selection.alias else 0)
        elif isinstance(selection, InlineFragmentNode):
            child_depth, child_aliases = _measure(selection.selection_set, context, visiting)
            depth, aliases = max(depth, child_depth), aliases + child_aliases
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is None or name in visiting:  # unknown or cyclic: other rules report it
                continue
            child_depth, child_aliases = _measure(fragment.selection_set, context, visiting | {name})
            depth, aliases = max(depth, child_depth), aliases + child_aliases
    return depth, aliases


INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
# GraphiQL's own introspection query nests 15 levels (the ofType chain); introspection only walks
# the schema, so it gets a bound of its own instead of the one for data.
MAX_INTROSPECTION_DEPTH = 16


def _root_fields(selection_set: SelectionSetNode, context: ValidationContext,
                 visiting: frozenset[str] = frozenset()) -> list[FieldNode]:
    """The operation's top-level fields, fragments at the top level expanded."""
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            fields += _root_fields(selection.selection_set, context, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in visiting:
                fields += _root_fields(fragment.selection_set, context, visiting | {name})
    return fields


NUL_MESSAGE = "文本不能包含 NUL 字符 / text may not contain NUL (\\u0000) characters"
SURROGATE_MESSAGE = ("文本不能包含孤立的 UTF-16 代理字符 / text may not contain lone UTF-16 surrogates "
                     "(\\ud800-\\udfff)")
# A JSON escape pair such as "\ud83d\ude00" arrives as one character, so any code point in this
# range is half a pair: no UTF-8 encoding exists for it and the database driver would fail on it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as PostgreSQL text, if it cannot."""
    if "\x00" in value:
        return NUL_MESSAGE
    if _LONE_SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


MAX_VARIABLE_DEPTH = 32  # a MultiPolygon inside an input object needs under 10


def variables_problem(variables: object) -> str | None:
    """What is wrong with the request's variables as a whole, if anything: a NUL character or a
    lone surrogate (PostgreSQL cannot store either, so they are refused up front for every field)
    or nesting deep enough to exhaust the interpreter's stack further on. Walked without recursion."""
    if not variables:
        return None
    level, depth = [variables], 0
    while level:
        depth += 1
        if depth > MAX_VARIABLE_DEPTH:
            return f"变量嵌套过深 / variables are nested more than {MAX_VARIABLE_DEPTH} levels deep"
        next_level = []
        for value in level:
            if isinstance(value, str):
                if problem := text_problem(value):
                    return problem
            elif isinstance(value, dict):
                next_level.extend(value)
                next_level.extend(value.values())
            elif isinstance(value, list):
                next_level.extend(value)
        level = next_level
    return None


class OnlyStorableStrings(ValidationRule):
    """String literals in the document follow the same rule as strings in the variables."""

    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        if problem := text_problem(node.value):
            self.report_error(GraphQLError(problem, node))


def document_limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ValidationRule], ...]:
    class DocumentLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            depth = introspection_depth = aliases = 0
            for field in _root_fields(node.selection_set, self.context):
                child_depth, child_aliases = _measure(field.selection_set, self.context, frozenset())
                aliases += child_aliases + (1 if field.alias else 0)
                if field.name.value in INTROSPECTION_ROOTS:
                    introspection_depth = max(introspection_depth, 1 + child_depth)
                else:
                    depth = max(depth, 1 + child_depth)
            name = node.name.value if node.name else "anonymous"
            if depth > max_depth:
                self.report_error(GraphQLError(
                    f"查询嵌套过深 / operation '{name}' is nested {depth} levels deep; the limit is "
                    f"{max_depth}", node))
            if introspection_depth > MAX_INTROSPECTION_DEPTH:
                self.report_error(GraphQLError(
                    f"内省查询嵌套过深 / the introspection in operation '{name}' is nested "
                    f"{introspection_depth} levels deep; the limit is {MAX_INTROSPECTION_DEPTH}", node))
            if aliases > max_aliases:
                self.report_error(GraphQLError(
                    f"别名过多 / operation '{name}' uses {aliases} aliases; the limit is {max_aliases}",
                    node))

    return (DocumentLimits, OnlyStorableStrings)


class LimitedParserCache(ParserCache):
    """strawberry's parser cache, parsing with a token cap. The cap rides on a hook that runs
    anyway: a separate MaxTokensLimiter extension would cost a hook of its own per request."""

    def __init__(self, max_tokens: int, maxsize: int = 256):
        super().__init__(maxsize=maxsize)
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield from super().on_parse()


class LimitedValidationCache(ValidationCache):
    """strawberry's validation cache, validating with the document-limit rules as well; the rules
    are the same classes on every request, so a repeated document is a cache hit."""

    def __init__(self, rules: tuple[type[ValidationRule], ...], maxsize: int = 256):
        super().__init__(maxsize=maxsize)
        self.rules = rules

    def on_validate(self) -> Iterator[None]:
        if problem := variables_problem(self.execution_context.variables):
            self.execution_context.pre_execution_errors = [GraphQLError(problem)]
            yield
            return
        self.execution_context.validation_rules = self.execution_context.validation_rules + self.rules
        yield from super().on_validate()

"""Limits on GraphQL documents: nesting depth and alias count, fragments included.

They are graphql-core validation rules built once per schema (not per request), so the validation
cache keeps working: a document is checked once, and repeats cost a cache lookup. (strawberry's
QueryDepthLimiter and MaxAliasesLimiter build fresh rule classes per request and defeat it.)"""

from __future__ import annotations

from graphql import (FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode,
                     OperationDefinitionNode, SelectionSetNode, ValidationContext, ValidationRule)


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


def document_limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ValidationRule], ...]:
    class DocumentLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            depth, aliases = _measure(node.selection_set, self.context, frozenset())
            name = node.name.value if node.name else "anonymous"
            if depth > max_depth:
                self.report_error(GraphQLError(
                    f"查询嵌套过深 / operation '{name}' is nested {depth} levels deep; the limit is "
                    f"{max_depth}", node))
            if aliases > max_aliases:
                self.report_error(GraphQLError(
                    f"别名过多 / operation '{name}' uses {aliases} aliases; the limit is {max_aliases}",
                    node))

    return (DocumentLimits,)

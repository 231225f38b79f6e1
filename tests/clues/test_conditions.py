"""The condition language without a database: what compiles, what is refused (VALIDATION naming the
path of the offending node), and that values only ever travel as bound parameters."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from clues.conditions import MAX_DEPTH, MAX_NODES, Vocabulary, compile_conditions
from core.errors import ValidationFailed
from enforcement.models import EnforcementCase

VOCABULARY = Vocabulary(domains=frozenset({"ECOLOGY_RESOURCES", "FOOD_DRUG"}), layer_codes=frozenset({"farmland"}))
TODAY = date(2026, 11, 29)


def compiled(conditions) -> tuple[str, dict]:
    statement = select(EnforcementCase.id).where(compile_conditions(conditions, vocabulary=VOCABULARY, today=TODAY))
    sql = statement.compile(dialect=postgresql.dialect())
    return str(sql), sql.params


def refused(conditions) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        compile_conditions(conditions, vocabulary=VOCABULARY, today=TODAY)
    return caught.value


@pytest.mark.parametrize(("conditions", "path"), [
    ({"all": [{"field": "enforcement.kind", "op": "eq", "value": "PENALTY"},
              {"field": "enforcement.secret", "op": "eq", "value": 1}]}, "conditions.all[1].field"),
    ({"all": [{"any": [{"field": "enforcement.amount", "op": "like", "value": 1}]}]}, "conditions.all[0].any[0].op"),
    ({"not": {"field": "enforcement.kind", "op": "gte", "value": "PENALTY"}}, "conditions.not.op"),
    ({"field": "enforcement.kind", "op": "eq", "value": "FINE"}, "conditions.value"),
    ({"field": "enforcement.kind", "op": "in", "value": ["PENALTY", "FINE"]}, "conditions.value[1]"),
    ({"field": "enforcement.kind", "op": "in", "value": []}, "conditions.value"),
    ({"field": "enforcement.domain", "op": "eq", "value": "NOT_A_DOMAIN"}, "conditions.value"),
    ({"field": "enforcement.amount", "op": "gte", "value": "ten"}, "conditions.value"),
    ({"field": "enforcement.amount", "op": "gte", "value": True}, "conditions.value"),
    ({"field": "enforcement.amount", "op": "gte"}, "conditions.value"),
    ({"field": "enforcement.amount", "op": "gte", "value": "1e999999"}, "conditions.value"),
    ({"field": "enforcement.summary", "op": "contains", "value": "a\x00b"}, "conditions.value"),
    ({"field": "enforcement.decided_on", "op": "lt", "value": "2025-13-01"}, "conditions.value"),
    ({"field": "enforcement.decided_on", "op": "older_than_days", "value": -1}, "conditions.value"),
    ({"field": "enforcement.amount", "op": "gte", "value": 1, "sql": "1=1"}, "conditions"),
    ({"all": []}, "conditions.all"),
    ({"any": {"field": "enforcement.kind"}}, "conditions.any"),
    ({"all": [{"overlapsLayer": "NO_SUCH_LAYER"}]}, "conditions.all[0].overlapsLayer"),
    ({"all": [{"exists": "pg_user"}]}, "conditions.all[0].exists"),
    ({"where": "1=1"}, "conditions"),
    ("PENALTY", "conditions"),
    ({"all": [{"not": {"all": [{"overlapsLayer": 3}]}}]}, "conditions.all[0].not.all[0].overlapsLayer"),
])
def test_what_is_not_of_the_language_is_refused_by_its_path(conditions, path):
    error = refused(conditions)
    assert error.code == "VALIDATION" and error.field == path
    assert path in error.message and " / " in error.message


def test_nesting_and_size_are_bounded():
    deep: dict = {"field": "enforcement.kind", "op": "eq", "value": "PENALTY"}
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    assert refused(deep).field.count(".not") == MAX_DEPTH
    wide = {"any": [{"field": "enforcement.kind", "op": "eq", "value": "PENALTY"}] * MAX_NODES}
    assert refused(wide).field == f"conditions.any[{MAX_NODES - 1}]"


def test_values_travel_as_bound_parameters_only():
    hostile = "x'); DROP TABLE enforcement_case; --"
    sql, params = compiled({"any": [
        {"field": "enforcement.summary", "op": "contains", "value": hostile},
        {"field": "enforcement.party_name", "op": "eq", "value": hostile},
        {"field": "enforcement.party_credit_code", "op": "in", "value": [hostile, "91410101MA47ENF01X"]},
        {"field": "enforcement.case_number", "op": "contains", "value": "100%_sure\\"},
    ]})
    assert "DROP" not in sql and "100%" not in sql
    assert "%x'); DROP TABLE enforcement\\_case; --%" in params.values() and hostile in params.values()
    # LIKE's wildcards in a value match themselves.
    assert "%100\\%\\_sure\\\\%" in params.values()


def test_every_kind_of_node_compiles():
    sql, params = compiled({"all": [
        {"field": "enforcement.kind", "op": "in", "value": ["PENALTY", "ORDER_TO_RECTIFY"]},
        {"field": "enforcement.domain", "op": "ne", "value": "FOOD_DRUG"},
        {"field": "enforcement.amount", "op": "lt", "value": "99999.99"},
        {"field": "enforcement.amount", "op": "is_null", "value": False},
        {"field": "enforcement.decided_on", "op": "older_than_days", "value": 90},
        {"field": "enforcement.decided_on", "op": "gte", "value": "2025-01-01"},
        {"field": "enforcement.entered_on_time", "op": "eq", "value": False},
        {"field": "enforcement.location", "op": "is_null", "value": False},
        {"field": "enforcement.agency_kind", "op": "eq", "value": "NATURAL_RESOURCES"},
        {"any": [{"overlapsLayer": "farmland"}, {"overlapsLayer": "NATURE_RESERVE"}]},
        {"not": {"exists": "referral"}}, {"not": {"exists": "case"}},
        {"not": {"exists": "recommendation"}}, {"not": {"exists": "rectified"}},
    ]})
    assert "ST_Intersects" in sql and "enforcement_party" not in sql and "referral" in sql
    # Every follow-up subquery refers to the outer record, however deep (none reads the table anew).
    assert len(re.findall(r"FROM enforcement_case\b", sql)) == 1
    # 90 days before the run's day, the anchor of relative dates.
    assert date(2026, 8, 31) in params.values()

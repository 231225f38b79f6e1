"""The condition language of clue models: a small JSON tree, checked against a whitelist of fields,
operators and follow-ups, and compiled to one SQL condition over enforcement cases.

    {"all": [{"field": "enforcement.kind", "op": "eq", "value": "PENALTY"},
             {"field": "enforcement.amount", "op": "gte", "value": 10000},
             {"overlapsLayer": "PERMANENT_FARMLAND"},
             {"not": {"exists": "rectified"}}]}

A node is one of `all` / `any` (a non-empty list of nodes), `not` (a node), a comparison
(`field`, `op`, `value`), `overlapsLayer` (a layer kind or a layer's code) or `exists` (a follow-up
of the record: a referral, a case, a recommendation, a verified rectification). Every value reaches
PostgreSQL as a bound parameter through SQLAlchemy's operators; nothing of the input is ever
spliced into SQL text. A node the language does not know is VALIDATION naming its path
(`conditions.all[2].op`)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true

from agencies.models import Agency, AgencyKind
from cases.models import Case
from core.errors import ValidationFailed
from enforcement.models import EnforcementCase, EnforcementClueCase, EnforcementKind, EnforcementParty
from geo.models import ReferenceFeature, ReferenceLayer, ReferenceLayerKind
from recommendations.models import Recommendation, RectificationCheck, RectificationResult
from referral.models import Referral

# As enforcement_case.amount holds (Numeric(16, 2)): a larger bound could only fail in the database.
MAX_AMOUNT = Decimal("99999999999999.99")

MAX_DEPTH = 8
MAX_NODES = 100
MAX_LIST_ITEMS = 200
MAX_TEXT_LENGTH = 200
MAX_DAYS = 36500
ROOT = "conditions"


class ValueKind(enum.Enum):
    TEXT = "text"
    CODE = "code"  # a referral domain's code, checked against the known ones
    AMOUNT = "amount"
    DATE = "date"
    BOOLEAN = "boolean"
    ENFORCEMENT_KIND = "enforcement_kind"
    AGENCY_KIND = "agency_kind"


COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
MEMBERSHIP = ("in", "not_in")


@dataclass(frozen=True)
class Field:
    kind: ValueKind
    ops: tuple[str, ...]
    # The column compared, or (for fields of related rows) a function making the EXISTS of one
    # comparison: given the comparison on the related column, the condition on the record.
    column: object
    related: Callable[[ColumnElement[bool]], ColumnElement[bool]] | None = None


def _party(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(EnforcementParty.id).where(EnforcementParty.enforcement_case_id == EnforcementCase.id,
                                                     condition))


def _agency(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(Agency.id).where(Agency.id == EnforcementCase.agency_id, condition))


FIELDS: dict[str, Field] = {
    "enforcement.kind": Field(ValueKind.ENFORCEMENT_KIND, ("eq", "ne", *MEMBERSHIP), EnforcementCase.kind),
    "enforcement.domain": Field(ValueKind.CODE, ("eq", "ne", *MEMBERSHIP), EnforcementCase.domain_code),
    "enforcement.amount": Field(ValueKind.AMOUNT, (*COMPARISONS, "is_null"), EnforcementCase.amount),
    "enforcement.decided_on": Field(ValueKind.DATE, (*COMPARISONS, "older_than_days", "within_days"),
                                    EnforcementCase.decided_on),
    "enforcement.entered_on_time": Field(ValueKind.BOOLEAN, ("eq",), EnforcementCase.entered_on_time),
    "enforcement.case_number": Field(ValueKind.TEXT, ("eq", "contains"), EnforcementCase.case_number),
    "enforcement.summary": Field(ValueKind.TEXT, ("contains",), EnforcementCase.summary),
    "enforcement.location": Field(ValueKind.BOOLEAN, ("is_null",), EnforcementCase.location),
    "enforcement.party_name": Field(ValueKind.TEXT, ("eq", "contains"), EnforcementParty.name, _party),
    "enforcement.party_credit_code": Field(ValueKind.TEXT, ("eq", *MEMBERSHIP), EnforcementParty.uscc, _party),
    "enforcement.agency_kind": Field(ValueKind.AGENCY_KIND, ("eq", "ne", *MEMBERSHIP), Agency.kind, _agency),
}


# Every subquery below is correlated to the record explicitly: auto-correlation reaches only the
# nearest enclosing SELECT, and an enforcement_case in a nested subquery's own FROM would match
# any record's follow-ups.

def _referrals_of_record():
    return select(Referral.id).where(Referral.enforcement_case_id == EnforcementCase.id).correlate(EnforcementCase)


def _cases_of_record():
    """Cases filed from a referral of the record, or opened from it as the procuratorate's own clue."""
    return select(Case.id).where(or_(
        Case.referral_id.in_(_referrals_of_record()),
        Case.id.in_(select(EnforcementClueCase.case_id)
                    .where(EnforcementClueCase.enforcement_case_id == EnforcementCase.id)
                    .correlate(EnforcementCase)))).correlate(EnforcementCase)


def _recommendations_of_record():
    return select(Recommendation.id).where(Recommendation.case_id.in_(_cases_of_record())).correlate(EnforcementCase)


def _rectified_record() -> ColumnElement[bool]:
    return exists(latest_check_rectified().where(RectificationCheck.recommendation_id.in_(
        _recommendations_of_record())).correlate(EnforcementCase))


def latest_check_rectified():
    """Checks that found a recommendation RECTIFIED and are its latest check (a later follow-up
    that found otherwise undoes it): select them further with a `where`."""
    later = RectificationCheck.__table__.alias("later_check")
    return select(RectificationCheck.id).where(
        RectificationCheck.result == RectificationResult.RECTIFIED,
        ~exists(select(later.c.id).where(later.c.recommendation_id == RectificationCheck.recommendation_id,
                                         later.c.recorded_at > RectificationCheck.recorded_at)))


FOLLOW_UPS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "referral": lambda: exists(_referrals_of_record()),
    "case": lambda: exists(_cases_of_record()),
    "recommendation": lambda: exists(_recommendations_of_record()),
    "rectified": _rectified_record,
}


@dataclass(frozen=True)
class Vocabulary:
    """What the database knows that a condition may name: the referral domains' codes and the
    reference layers' codes."""

    domains: frozenset[str]
    layer_codes: frozenset[str]


def _fail(path: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(f"{path}：{zh} / {path}: {en}", field=path)


class _Compiler:
    def __init__(self, vocabulary: Vocabulary, today: date):
        self.vocabulary = vocabulary
        self.today = today
        self.nodes = 0

    def node(self, value: object, path: str, depth: int) -> ColumnElement[bool]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _fail(path, f"条件过多（最多 {MAX_NODES} 个）", f"more than {MAX_NODES} conditions")
        if depth > MAX_DEPTH:
            raise _fail(path, f"嵌套过深（最多 {MAX_DEPTH} 层）", f"nested deeper than {MAX_DEPTH}")
        if not isinstance(value, dict):
            raise _fail(path, "应为对象", "a condition is a JSON object")
        keys = set(value)
        if keys in ({"all"}, {"any"}):
            key = keys.pop()
            items = value[key]
            if not isinstance(items, list) or not items:
                raise _fail(f"{path}.{key}", "应为非空列表", "must be a non-empty list")
            parts = [self.node(item, f"{path}.{key}[{index}]", depth + 1) for index, item in enumerate(items)]
            return and_(true(), *parts) if key == "all" else or_(false(), *parts)
        if keys == {"not"}:
            return not_(self.node(value["not"], f"{path}.not", depth + 1))
        if keys == {"overlapsLayer"}:
            return self.layer(value["overlapsLayer"], f"{path}.overlapsLayer")
        if keys == {"exists"}:
            return self.follow_up(value["exists"], f"{path}.exists")
        if "field" in keys:
            return self.comparison(value, path)
        raise _fail(path, f"未知的条件 {sorted(keys)}",
                    f"unknown condition {sorted(keys)}; expected all, any, not, field, overlapsLayer or exists")

    def layer(self, value: object, path: str) -> ColumnElement[bool]:
        if isinstance(value, str) and value in ReferenceLayerKind.__members__:
            which = ReferenceLayer.kind == ReferenceLayerKind(value)
        elif isinstance(value, str) and value in self.vocabulary.layer_codes:
            which = ReferenceLayer.code == value
        else:
            raise _fail(path, "未知的参考图层（应为图层类型或图层代码）",
                        "unknown reference layer (a layer kind or a layer's code)")
        # A record without a location overlaps nothing; `&&` first so the GiST index is used.
        return exists(select(ReferenceFeature.id).join(ReferenceLayer, ReferenceLayer.id == ReferenceFeature.layer_id)
                      .where(which, ReferenceFeature.geometry.op("&&")(EnforcementCase.location),
                             func.ST_Intersects(ReferenceFeature.geometry, EnforcementCase.location)))

    def follow_up(self, value: object, path: str) -> ColumnElement[bool]:
        if not isinstance(value, str) or value not in FOLLOW_UPS:
            raise _fail(path, f"未知的后续情况（可选 {', '.join(FOLLOW_UPS)}）",
                        f"unknown follow-up (one of {', '.join(FOLLOW_UPS)})")
        return FOLLOW_UPS[value]()

    def comparison(self, value: dict, path: str) -> ColumnElement[bool]:
        if set(value) - {"field", "op", "value"}:
            extra = sorted(set(value) - {"field", "op", "value"})
            raise _fail(path, f"多余的键 {extra}", f"unexpected keys {extra}")
        name = value["field"]
        field = FIELDS.get(name) if isinstance(name, str) else None
        if field is None:
            raise _fail(f"{path}.field", f"未知的字段（可选 {', '.join(FIELDS)}）",
                        f"unknown field (one of {', '.join(FIELDS)})")
        op = value.get("op")
        if op not in field.ops:
            raise _fail(f"{path}.op", f"{name} 不支持该运算（可选 {', '.join(field.ops)}）",
                        f"{name} does not take this operator (one of {', '.join(field.ops)})")
        if "value" not in value:
            raise _fail(f"{path}.value", "缺少 value", "value is required")
        condition = self.apply(field, op, value["value"], f"{path}.value")
        return field.related(condition) if field.related is not None else condition

    def apply(self, field: Field, op: str, raw: object, path: str) -> ColumnElement[bool]:
        column = field.column
        if op == "is_null":
            if not isinstance(raw, bool):
                raise _fail(path, "应为 true 或 false", "must be true or false")
            return column.is_(None) if raw else column.is_not(None)
        if op in ("older_than_days", "within_days"):
            days = _days(raw, path)
            boundary = self.today - timedelta(days=days)
            return column <= boundary if op == "older_than_days" else column >= boundary
        if op in MEMBERSHIP:
            if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST_ITEMS:
                raise _fail(path, f"应为 1 到 {MAX_LIST_ITEMS} 个值的列表",
                            f"must be a list of 1 to {MAX_LIST_ITEMS} values")
            values = [self.value(field.kind, item, f"{path}[{index}]") for index, item in enumerate(raw)]
            return column.in_(values) if op == "in" else column.not_in(values)
        checked = self.value(field.kind, raw, path)
        if op == "contains":
            return column.ilike("%" + _escaped(checked) + "%", escape="\\")
        return {"eq": column.__eq__, "ne": column.__ne__, "gt": column.__gt__, "gte": column.__ge__,
                "lt": column.__lt__, "lte": column.__le__}[op](checked)

    def value(self, kind: ValueKind, raw: object, path: str) -> object:
        if kind is ValueKind.BOOLEAN:
            if not isinstance(raw, bool):
                raise _fail(path, "应为 true 或 false", "must be true or false")
            return raw
        if kind is ValueKind.AMOUNT:
            if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                raise _fail(path, "应为金额（元）", "must be an amount of yuan")
            try:
                amount = Decimal(str(raw))
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or abs(amount) > MAX_AMOUNT:
                raise _fail(path, f"应为不超过 {MAX_AMOUNT} 元的金额", f"must be an amount of at most {MAX_AMOUNT} yuan")
            return amount
        if kind is ValueKind.DATE:
            if not isinstance(raw, str):
                raise _not_a_date(path)
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise _not_a_date(path) from None
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_TEXT_LENGTH or "\x00" in raw:
            raise _fail(path, f"应为 1 到 {MAX_TEXT_LENGTH} 个字符的文字", f"must be text of 1 to {MAX_TEXT_LENGTH} characters")
        if kind is ValueKind.ENFORCEMENT_KIND:
            return _member(EnforcementKind, raw, path)
        if kind is ValueKind.AGENCY_KIND:
            return _member(AgencyKind, raw, path)
        if kind is ValueKind.CODE and raw not in self.vocabulary.domains:
            raise _fail(path, f"未知的领域 {raw}", f"unknown domain {raw}")
        return raw.strip()


def _not_a_date(path: str) -> ValidationFailed:
    return _fail(path, "应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)")


def _days(raw: object, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DAYS:
        raise _fail(path, f"应为 0 到 {MAX_DAYS} 的天数", f"must be a number of days from 0 to {MAX_DAYS}")
    return raw


def _member(enum_class: type[enum.Enum], raw: str, path: str) -> enum.Enum:
    if raw not in enum_class.__members__:
        raise _fail(path, f"未知的值（可选 {', '.join(enum_class.__members__)}）",
                    f"unknown value (one of {', '.join(enum_class.__members__)})")
    return enum_class(raw)


def _escaped(text: str) -> str:
    """A LIKE pattern matching `text` literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compile_conditions(conditions: object, *, vocabulary: Vocabulary, today: date) -> ColumnElement[bool]:
    """The SQL condition on enforcement_case of a model's conditions, or VALIDATION naming the
    path of the first node that is not of the language. `today` (a Beijing date) anchors the
    relative date operators, so a scheduled run moves with the calendar."""
    return _Compiler(vocabulary, today).node(conditions, ROOT, 1)

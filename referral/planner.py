"""The `referrals` connection and `referralsNear` as one SQL statement each that builds the whole
answer in PostgreSQL (the planned path, see app.planned): the page, its agencies, domains and
evidence, the cursors and, when asked, totalCount, with the scope and filters of
`service.listed_referrals` itself; the referrals nearby with the conditions and distance of
`service.near_search`.

The planner answers only the fields below; an operation asking for any other field (one added
to these types later included) goes to strawberry whole, so a new field is correct from the
start and fast once it is added here (and to tests/referral/test_planned_list.py).

    ReferralConnection  totalCount edges pageInfo
    NearbyReferral      distanceMeters referral
    ReferralEdge        cursor node
    PageInfo            hasNextPage endCursor
    Referral            id status number title facts address foundOn specialInvestigation
                        submittedAt harms legalBasis urgent version domain agency evidence
    ReferralDomain      code nameZh nameEn
    Agency              id name kind uscc
    Evidence            id filename mediaType sizeBytes sha256 description uploadedAt downloadPath

and `__typename` on each. Parties are not planned: their identity numbers are shown in full or
masked by a rule that lives in Python (parties.service.shown_id_number)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Table,
    Text,
    case,
    cast,
    column,
    false,
    func,
    literal_column,
    not_,
    null,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.selectable import TableClause, TextualSelect

from agencies.models import Agency, Role
from agencies.principal import Principal
from agencies.scoping import visible_to
from core.pagination import PageRequest, SortOrder, after_condition, cursor_sql, cursor_values, page_request
from core.planning import Field, NotPlannable, iso_date, iso_datetime, json_object, sql_string
from evidence.models import Evidence
from evidence.service import evidence_visible_to
from geo.geometry import CoordinateSystem
from parties.protection import protection_for
from referral import service
from referral.models import Harm, Referral, ReferralDomain

Columns = Callable[[object], ColumnElement]

# For each supported type, its fields: the type of an object field, None for a value.
SUPPORTED: dict[str, dict[str, str | None]] = {
    "ReferralConnection": {"totalCount": None, "edges": "ReferralEdge", "pageInfo": "PageInfo"},
    "NearbyReferral": {"distanceMeters": None, "referral": "Referral"},
    "ReferralEdge": {"cursor": None, "node": "Referral"},
    "PageInfo": {"hasNextPage": None, "endCursor": None},
    "Referral": {"id": None, "status": None, "number": None, "title": None, "facts": None, "address": None,
                 "foundOn": None, "specialInvestigation": None, "submittedAt": None, "harms": None,
                 "legalBasis": None, "urgent": None, "version": None, "domain": "ReferralDomain",
                 "agency": "Agency", "evidence": "Evidence"},
    "ReferralDomain": {"code": None, "nameZh": None, "nameEn": None},
    "Agency": {"id": None, "name": None, "kind": None, "uscc": None},
    "Evidence": {"id": None, "filename": None, "mediaType": None, "sizeBytes": None, "sha256": None,
                 "description": None, "uploadedAt": None, "downloadPath": None},
}


def _harms(row) -> ColumnElement:
    flags = [case((getattr(row, "harms_" + harm.name.lower()), sql_string(harm.name))) for harm in Harm]
    return func.array_to_json(func.array_remove(array(flags), null()))


# The values of the scalar fields, from a row (a table or the page subquery's columns), written as
# strawberry writes them (enums by name, which is what the columns hold).
REFERRAL_VALUES: dict[str, Columns] = {
    "id": lambda r: r.id, "status": lambda r: r.status, "number": lambda r: r.number, "title": lambda r: r.title,
    "facts": lambda r: r.facts, "address": lambda r: r.address, "foundOn": lambda r: iso_date(r.found_on),
    "specialInvestigation": lambda r: r.special_investigation,
    "submittedAt": lambda r: iso_datetime(r.submitted_at), "harms": _harms,
    "legalBasis": lambda r: r.legal_basis, "urgent": lambda r: r.urgent, "version": lambda r: r.version,
}
DOMAIN_VALUES: dict[str, Columns] = {
    "code": lambda d: d.code, "nameZh": lambda d: d.name_zh, "nameEn": lambda d: d.name_en}
AGENCY_VALUES: dict[str, Columns] = {
    "id": lambda a: a.id, "name": lambda a: a.name, "kind": lambda a: a.kind, "uscc": lambda a: a.uscc}
EVIDENCE_VALUES: dict[str, Columns] = {
    "id": lambda e: e.id, "filename": lambda e: e.filename, "mediaType": lambda e: e.media_type,
    "sizeBytes": lambda e: e.size_bytes, "sha256": lambda e: e.sha256, "description": lambda e: e.description,
    "uploadedAt": lambda e: iso_datetime(e.uploaded_at),
    "downloadPath": lambda e: sql_string("/evidence/").concat(cast(e.id, Text)).concat(sql_string("/content")),
}


@dataclass(frozen=True)
class Selected:
    """A checked selection: response key, field name, and the sub-selection of an object field."""

    key: str
    name: str
    type_name: str | None = None
    children: tuple[Selected, ...] = ()


def _check(fields: list[Field], type_name: str) -> tuple[Selected, ...]:
    supported = SUPPORTED[type_name]
    checked = []
    for field in fields:
        if field.name == "__typename":
            checked.append(Selected(field.key, field.name))
            continue
        if field.name not in supported:
            raise NotPlannable(f"{type_name}.{field.name}")
        child_type = supported[field.name]
        children = _check(field.fields(child_type), child_type) if child_type else ()
        checked.append(Selected(field.key, field.name, child_type, children))
    return tuple(checked)


def _object(selection: Selected, type_name: str, values: dict[str, Columns], row) -> ColumnElement:
    return json_object([(field.key, sql_string(type_name) if field.name == "__typename" else values[field.name](row))
                        for field in selection.children])


# The list's one order, as paginate reads it (newest first) and as the statement writes it.
NEWEST_FIRST = SortOrder(columns=(Referral.submitted_at, Referral.id))
ORDER = (Referral.submitted_at.desc(), Referral.id.desc())

# The relations the statement reads, by the names of the common table expressions each request
# defines (ReferralsPlan.statement): the planned JSON is compiled to SQL once per document
# against these names, and a request only builds the small statements behind them.
PAGE = table("page", *(column(c.key) for c in Referral.__table__.c), column("position"), column("listed"))
NEARBY = table("nearby", *(column(c.key) for c in Referral.__table__.c), column("distance"))
COUNTED = table("counted", column("total"))
VISIBLE_AGENCY = table("visible_agency", *(column(c.key) for c in Agency.__table__.c))
VISIBLE_EVIDENCE = table("visible_evidence", *(column(c.key) for c in Evidence.__table__.c))
DOMAIN = ReferralDomain.__table__


@dataclass(frozen=True)
class ReferralsPlan:
    """The connection's JSON as SQL over `page`, `counted`, `visible_agency` and `visible_evidence`
    (compiled once), and which of those the request must define."""

    # The resolver's arguments it takes: an argument added to the field later sends the
    # operation to strawberry until the plan takes it too.
    arguments: ClassVar[frozenset[str]] = frozenset({"filter", "first", "after"})
    sql: TextualSelect
    counted: bool
    # The columns the SQL reads of each relation (none: the relation is not read).
    page_columns: tuple[Column, ...]
    agency_columns: tuple[Column, ...]
    evidence_columns: tuple[Column, ...]

    async def answer(self, context, *, filter=None, first: int | None = None, after: str | None = None) -> str:
        """The connection's JSON, for the arguments as the resolver (referral.api) takes them, with
        the same checks in the same order, so that the same request fails the same way."""
        from referral.types import ReferralFilter  # the GraphQL layer's input, as the resolver converts it

        request = page_request(context.settings.api, first, after)
        principal = context.principal
        filters = (filter or ReferralFilter()).to_service()
        conditions = service.listed_referrals(principal, filters, protection_for(context.settings.protection))
        if request.after is not None:
            # Checked even when no page is read (totalCount alone), as paginate checks it.
            cursor_values(request.after, NEWEST_FIRST)
        if len(conditions) == 1 and request.after is None:  # the scope alone: a first page without filters
            statement = _first_page(self, principal.role, principal.agency_id, principal.visible_jurisdiction_ids,
                                    request.first)
        else:
            statement = self.statement(principal, conditions, request)
        return await context.session.scalar(statement)

    def statement(self, principal: Principal, conditions: list[ColumnElement[bool]], request: PageRequest):
        ctes = []
        if self.page_columns:
            # The page's rows and the one after it (whether there is a next page), numbered.
            position = func.row_number().over(order_by=ORDER)
            page = select(*self.page_columns, position.label("position"),
                          (position <= request.first).label("listed"))
            page = page.where(*conditions)
            if request.after is not None:
                page = page.where(after_condition(request.after, NEWEST_FIRST))
            ctes.append(page.order_by(*ORDER).limit(request.first + 1).cte("page"))
        if self.counted:
            ctes.append(select(func.count().label("total")).select_from(Referral).where(*conditions).cte("counted"))
        return self.sql.add_cte(*ctes, *_visible(principal, self.agency_columns, self.evidence_columns))


@functools.lru_cache(maxsize=1024)
def _first_page(plan: ReferralsPlan, role: Role, agency_id: uuid.UUID | None,
                visible_jurisdiction_ids: frozenset[uuid.UUID], first: int):
    """The statement of a first page without filters, which depends on nothing but the plan, the
    scope and the page size: built once for each, as building it (and SQLAlchemy's cache key of
    a new statement) costs more CPU than the rest of the request's Python."""
    principal = Principal(role=role, username="", agency_id=agency_id,
                          visible_jurisdiction_ids=visible_jurisdiction_ids)
    conditions = [visible_to(principal, agency_column=Referral.agency_id, jurisdiction_column=Referral.jurisdiction_id)]
    return plan.statement(principal, conditions, PageRequest(first=first, after=None))


def _visible(principal: Principal, agency_columns: tuple[Column, ...], evidence_columns: tuple[Column, ...]) -> list:
    """The agencies and evidence the principal may see, as far as the SQL reads them; inlined
    where they are used (NOT MATERIALIZED), so each is read through its indexes."""
    ctes = []
    if agency_columns:
        # As in service.list_referrals: an agency the principal may not see is null.
        agencies = select(*agency_columns).where(visible_to(principal, agency_column=Agency.id,
                                                            jurisdiction_column=Agency.jurisdiction_id))
        ctes.append(agencies.cte("visible_agency").prefix_with("NOT MATERIALIZED"))
    if evidence_columns:
        files = select(*evidence_columns).where(evidence_visible_to(principal))
        ctes.append(files.cte("visible_evidence").prefix_with("NOT MATERIALIZED"))
    return ctes


@dataclass(frozen=True)
class NearbyPlan:
    """`referralsNear` as SQL over `nearby`, `visible_agency` and `visible_evidence`."""

    arguments: ClassVar[frozenset[str]] = frozenset({"geometry", "meters", "crs"})
    sql: TextualSelect
    nearby_columns: tuple[Column, ...]
    agency_columns: tuple[Column, ...]
    evidence_columns: tuple[Column, ...]

    async def answer(self, context, *, geometry: object, meters: float,
                     crs: CoordinateSystem = CoordinateSystem.WGS84) -> str:
        """The list's JSON, for the arguments as the resolver (referral.api) takes them."""
        principal = context.principal
        conditions, distance = service.near_search(principal, geometry=geometry, meters=meters, crs=crs)
        nearby = (select(*self.nearby_columns, distance.label("distance")).where(*conditions)
                  .order_by(distance, Referral.id).limit(service.MAX_NEAR_RESULTS).cte("nearby"))
        statement = self.sql.add_cte(nearby, *_visible(principal, self.agency_columns, self.evidence_columns))
        return await context.session.scalar(statement)


class _Compiler:
    """Turns a checked selection into the plan's SQL, noting the relations it reads."""

    def __init__(self, rows: TableClause):
        self.rows = rows  # the referrals' relation: the page, or those nearby
        self.joins: dict[str, tuple[object, ColumnElement]] = {}
        self.counted = False

    def _source(self):
        source = self.rows
        for table_, on in self.joins.values():
            source = source.outerjoin(table_, on)
        return source

    def connection(self, selection: Selected) -> ReferralsPlan:
        pairs = []
        for field in selection.children:
            if field.name == "__typename":
                value = sql_string("ReferralConnection")
            elif field.name == "totalCount":
                self.counted = True
                value = select(COUNTED.c.total).scalar_subquery()
            elif field.name == "edges":
                value = self.edges(field)
            else:
                value = self.page_info(field)
            pairs.append((field.key, value))
        statement = select(cast(json_object(pairs), Text))
        # The page is read only inside aggregates (one row in the end), and only when asked for.
        paged = any(isinstance(element, ColumnClause) and element.table is PAGE
                    for element in visitors.iterate(statement))
        if paged:
            statement = statement.select_from(self._source())
        return ReferralsPlan(sql=_textual(statement), counted=self.counted,
                             page_columns=_read(statement, PAGE, Referral.__table__) or ((Referral.id,) if paged else ()),
                             agency_columns=_read(statement, VISIBLE_AGENCY, Agency.__table__),
                             evidence_columns=_read(statement, VISIBLE_EVIDENCE, Evidence.__table__))

    def nearby(self, selection: Selected) -> NearbyPlan:
        pairs = []
        for field in selection.children:
            if field.name == "__typename":
                value = sql_string("NearbyReferral")
            elif field.name == "distanceMeters":
                value = NEARBY.c.distance
            else:
                value = self.node(field)
            pairs.append((field.key, value))
        found = func.json_agg(aggregate_order_by(json_object(pairs), NEARBY.c.distance, NEARBY.c.id))
        statement = select(cast(func.coalesce(found, func.json_build_array()), Text)).select_from(self._source())
        return NearbyPlan(sql=_textual(statement),
                          nearby_columns=_read(statement, NEARBY, Referral.__table__) or (Referral.id,),
                          agency_columns=_read(statement, VISIBLE_AGENCY, Agency.__table__),
                          evidence_columns=_read(statement, VISIBLE_EVIDENCE, Evidence.__table__))

    def edges(self, field: Selected) -> ColumnElement:
        pairs = []
        for edge_field in field.children:
            if edge_field.name == "__typename":
                pairs.append((edge_field.key, sql_string("ReferralEdge")))
            elif edge_field.name == "cursor":
                pairs.append((edge_field.key, cursor_sql(PAGE.c.submitted_at, PAGE.c.id)))
            else:
                pairs.append((edge_field.key, self.node(edge_field)))
        edges = func.json_agg(aggregate_order_by(json_object(pairs), PAGE.c.position)).filter(PAGE.c.listed)
        return func.coalesce(edges, func.json_build_array())

    @staticmethod
    def page_info(field: Selected) -> ColumnElement:
        pairs = []
        for info_field in field.children:
            if info_field.name == "__typename":
                value = sql_string("PageInfo")
            elif info_field.name == "hasNextPage":
                value = func.coalesce(func.bool_or(not_(PAGE.c.listed)), false())
            else:  # endCursor: the last edge's
                cursors = func.array_agg(aggregate_order_by(cursor_sql(PAGE.c.submitted_at, PAGE.c.id),
                                                            PAGE.c.position.desc()))
                value = type_coerce(cursors.filter(PAGE.c.listed), ARRAY(Text))[literal_column("1")]
            pairs.append((info_field.key, value))
        return json_object(pairs)

    def node(self, field: Selected) -> ColumnElement:
        pairs = []
        for node_field in field.children:
            name = node_field.name
            if name == "__typename":
                value = sql_string("Referral")
            elif name == "domain":
                self.joins["domain"] = (DOMAIN, DOMAIN.c.code == self.rows.c.domain_code)
                value = _object(node_field, "ReferralDomain", DOMAIN_VALUES, DOMAIN.c)
            elif name == "agency":
                self.joins["agency"] = (VISIBLE_AGENCY, VISIBLE_AGENCY.c.id == self.rows.c.agency_id)
                value = case((VISIBLE_AGENCY.c.id.is_(None), null()),
                             else_=_object(node_field, "Agency", AGENCY_VALUES, VISIBLE_AGENCY.c))
            elif name == "evidence":
                files = VISIBLE_EVIDENCE.c
                listed = func.json_agg(aggregate_order_by(_object(node_field, "Evidence", EVIDENCE_VALUES, files),
                                                          files.uploaded_at, files.id))
                files_of_row = select(listed).where(files.referral_id == self.rows.c.id).correlate(self.rows)
                value = func.coalesce(files_of_row.scalar_subquery(), func.json_build_array())
            else:
                value = REFERRAL_VALUES[name](self.rows.c)
            pairs.append((node_field.key, value))
        return json_object(pairs)


def _read(statement, stand_in: TableClause, real: Table) -> tuple[Column, ...]:
    """The columns of `real` that the statement reads through its stand-in."""
    read = {element.name for element in visitors.iterate(statement)
            if isinstance(element, ColumnClause) and element.table is stand_in}
    return tuple(real.c[name] for name in stand_in.c.keys() if name in read and name in real.c)


def _textual(statement) -> TextualSelect:
    """The statement compiled once, as text to which each request adds its CTEs. It has no
    parameters: everything in it is the code's own constants and checked GraphQL names."""
    compiled = statement.compile(dialect=postgresql.dialect())
    if compiled.params:
        raise ValueError(f"a planned statement must not have parameters: {compiled.params}")
    # In text(), ":name" would be a parameter (and the time format has ":MI:SS").
    return text(str(compiled).replace(":", "\\:")).columns(column("data", Text))


def plan_referrals(field: Field) -> ReferralsPlan:
    """The plan of one `referrals` field, or NotPlannable."""
    selection = Selected(field.key, field.name, "ReferralConnection",
                         _check(field.fields("ReferralConnection"), "ReferralConnection"))
    return _Compiler(PAGE).connection(selection)


def plan_referrals_near(field: Field) -> NearbyPlan:
    """The plan of one `referralsNear` field, or NotPlannable."""
    selection = Selected(field.key, field.name, "NearbyReferral", _check(field.fields("NearbyReferral"), "NearbyReferral"))
    return _Compiler(NEARBY).nearby(selection)

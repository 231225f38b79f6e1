"""The `referrals` connection as one SQL statement that builds the whole answer in PostgreSQL (the
planned path, see app.planned): the page, its agencies, domains and evidence, the cursors and,
when asked, totalCount, with the scope and filters of `service.listed_referrals` itself.

The planner answers only the fields below; an operation asking for any other field (one added
to these types later included) goes to strawberry whole, so a new field is correct from the
start and fast once it is added here (and to tests/referral/test_planned_list.py).

    ReferralConnection  totalCount edges pageInfo
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

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ARRAY, ColumnElement, Text, and_, case, cast, false, func, null, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by, array

from agencies.models import Agency
from agencies.principal import Principal
from agencies.scoping import visible_to
from core.pagination import PageRequest, after_condition, cursor_sql, page_request
from core.planning import Field, NotPlannable, iso_date, iso_datetime, json_object, sql_string
from evidence.models import Evidence
from evidence.service import evidence_visible_to
from parties.protection import protection_for
from referral import service
from referral.models import Harm, Referral, ReferralDomain

Columns = Callable[[object], ColumnElement]

# For each supported type, its fields: the type of an object field, None for a value.
SUPPORTED: dict[str, dict[str, str | None]] = {
    "ReferralConnection": {"totalCount": None, "edges": "ReferralEdge", "pageInfo": "PageInfo"},
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

    def child(self, name: str) -> list[Selected]:
        return [selected for selected in self.children if selected.name == name]


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


ORDER = (Referral.submitted_at.desc(), Referral.id.desc())


@dataclass(frozen=True)
class ReferralsPlan:
    connection: Selected

    async def answer(self, context, *, filter=None, first: int | None = None, after: str | None = None) -> str:
        """The connection's JSON, for the arguments as the resolver (referral.api) takes them, with
        the same checks in the same order, so that the same request fails the same way."""
        from referral.types import ReferralFilter  # the GraphQL layer's input, as the resolver converts it

        request = page_request(context.settings.api, first, after)
        principal = context.principal
        filters = (filter or ReferralFilter()).to_service()
        conditions = service.listed_referrals(principal, filters, protection_for(context.settings.protection))
        return await context.session.scalar(self.statement(principal, conditions, request))

    def statement(self, principal: Principal, conditions: list[ColumnElement[bool]], request: PageRequest):
        wanted = {field.name for field in self.connection.children}
        pairs: list[tuple[str, ColumnElement]] = []
        paged = wanted & {"edges", "pageInfo"}
        page = self._page(conditions, request) if paged else None
        joins: list[tuple[object, ColumnElement]] = []
        for field in self.connection.children:
            if field.name == "__typename":
                value = sql_string("ReferralConnection")
            elif field.name == "totalCount":
                value = (select(func.count()).select_from(Referral).where(*conditions)
                         .correlate(None).scalar_subquery())
            elif field.name == "edges":
                value = self._edges(field, page, principal, request, joins)
            else:
                value = self._page_info(field, page, request)
            pairs.append((field.key, value))
        query = select(cast(json_object(pairs), Text))
        if page is not None:
            source = page
            for table, on in joins:
                source = source.outerjoin(table, on)
            query = query.select_from(source)
        return query

    def _page(self, conditions: list[ColumnElement[bool]], request: PageRequest):
        """The page's rows and the one after it (whether there is a next page), numbered."""
        with_facts = any(node_field.name == "facts" for edges in self.connection.child("edges")
                         for node in edges.child("node") for node_field in node.children)
        columns = [column for column in Referral.__table__.c
                   if column.key != "geometry" and (with_facts or column.key != "facts")]
        query = select(*columns, func.row_number().over(order_by=ORDER).label("position")).where(*conditions)
        if request.after is not None:
            query = query.where(after_condition(request.after, at_column=Referral.submitted_at,
                                                id_column=Referral.id))
        return query.order_by(*ORDER).limit(request.first + 1).subquery("page")

    def _edges(self, field: Selected, page, principal: Principal, request: PageRequest, joins: list) -> ColumnElement:
        pairs = []
        for edge_field in field.children:
            if edge_field.name == "__typename":
                pairs.append((edge_field.key, sql_string("ReferralEdge")))
            elif edge_field.name == "cursor":
                pairs.append((edge_field.key, cursor_sql(page.c.submitted_at, page.c.id)))
            else:
                pairs.append((edge_field.key, self._node(edge_field, page, principal, joins)))
        edges = func.json_agg(aggregate_order_by(json_object(pairs), page.c.position)).filter(
            page.c.position <= request.first)
        return func.coalesce(edges, func.json_build_array())

    @staticmethod
    def _page_info(field: Selected, page, request: PageRequest) -> ColumnElement:
        pairs = []
        for info_field in field.children:
            if info_field.name == "__typename":
                value = sql_string("PageInfo")
            elif info_field.name == "hasNextPage":
                value = func.coalesce(func.bool_or(page.c.position > request.first), false())
            else:  # endCursor: the last edge's
                cursors = func.array_agg(aggregate_order_by(cursor_sql(page.c.submitted_at, page.c.id),
                                                            page.c.position.desc()))
                value = type_coerce(cursors.filter(page.c.position <= request.first), ARRAY(Text))[1]
            pairs.append((info_field.key, value))
        return json_object(pairs)

    @staticmethod
    def _node(field: Selected, page, principal: Principal, joins: list) -> ColumnElement:
        pairs = []
        for node_field in field.children:
            name = node_field.name
            if name == "__typename":
                value = sql_string("Referral")
            elif name == "domain":
                domain = ReferralDomain.__table__
                if not any(table is domain for table, _ in joins):
                    joins.append((domain, domain.c.code == page.c.domain_code))
                value = _object(node_field, "ReferralDomain", DOMAIN_VALUES, domain.c)
            elif name == "agency":
                agency = Agency.__table__
                if not any(table is agency for table, _ in joins):
                    # As in service.list_referrals: an agency the principal may not see is null.
                    joins.append((agency, and_(agency.c.id == page.c.agency_id,
                                               visible_to(principal, agency_column=agency.c.id,
                                                          jurisdiction_column=agency.c.jurisdiction_id))))
                value = case((agency.c.id.is_(None), null()),
                             else_=_object(node_field, "Agency", AGENCY_VALUES, agency.c))
            elif name == "evidence":
                evidence = Evidence.__table__.c
                files = func.json_agg(aggregate_order_by(_object(node_field, "Evidence", EVIDENCE_VALUES, evidence),
                                                         evidence.uploaded_at, evidence.id))
                value = func.coalesce(select(files).where(evidence.referral_id == page.c.id,
                                                          evidence_visible_to(principal)).scalar_subquery(),
                                      func.json_build_array())
            else:
                value = REFERRAL_VALUES[name](page.c)
            pairs.append((node_field.key, value))
        return json_object(pairs)


def plan_referrals(field: Field) -> ReferralsPlan:
    """The plan of one `referrals` field, or NotPlannable."""
    return ReferralsPlan(Selected(field.key, field.name, "ReferralConnection",
                                  _check(field.fields("ReferralConnection"), "ReferralConnection")))

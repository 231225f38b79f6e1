"""The one place that decides which rows a principal may see.

Every list, count, lookup, tile and download of a scoped object filters with `visible_to`, passing
the object's owning-agency and jurisdiction columns. A row outside the scope is indistinguishable
from a row that does not exist."""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import ColumnElement, false, select, true

from agencies.models import Jurisdiction, Role
from agencies.principal import Principal
from core.errors import ValidationFailed


def visible_to(principal: Principal, *, agency_column, jurisdiction_column) -> ColumnElement[bool]:
    return _visible_to(principal.role, principal.agency_id, principal.visible_jurisdiction_ids,
                       agency_column, jurisdiction_column)


# The same few scopes come back on every request, and building an IN over a scope's jurisdictions
# costs more CPU than the query it filters; a condition is immutable, so one object serves them all.
@functools.lru_cache(maxsize=4096)
def _visible_to(role: Role, agency_id: uuid.UUID | None, visible_jurisdiction_ids: frozenset[uuid.UUID],
                agency_column, jurisdiction_column) -> ColumnElement[bool]:
    if role is Role.ADMIN:
        return true()
    if role is Role.AGENCY_LIAISON:
        return agency_column == agency_id
    if role in (Role.PROSECUTOR, Role.ASSESSOR):
        if not visible_jurisdiction_ids:
            return false()
        return jurisdiction_column.in_(sorted(visible_jurisdiction_ids))
    return false()


def owner_filters(*, agency_column, jurisdiction_column, agency_id: str | None,
                  jurisdiction_code: str | None) -> list[ColumnElement[bool]]:
    """A list's "by agency" and "in this jurisdiction and below" filters, within the scope that
    `visible_to` has already set (they narrow it, never widen it)."""
    conditions = []
    if agency_id:
        try:
            conditions.append(agency_column == uuid.UUID(agency_id))
        except ValueError as error:
            raise ValidationFailed("agencyId 无效 / invalid agencyId", field="agencyId") from error
    if jurisdiction_code:
        subtree = select(Jurisdiction.id).where(Jurisdiction.code.like(jurisdiction_code.rstrip("0") + "%"))
        conditions.append(jurisdiction_column.in_(subtree))
    return conditions

"""The one place that decides which rows a principal may see.

Every list, count, lookup, tile and download of a scoped object filters with `visible_to`, passing
the object's owning-agency and jurisdiction columns. A row outside the scope is indistinguishable
from a row that does not exist."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from agencies.models import Role
from agencies.principal import Principal


def visible_to(principal: Principal, *, agency_column, jurisdiction_column) -> ColumnElement[bool]:
    if principal.role is Role.ADMIN:
        return true()
    if principal.role is Role.AGENCY_LIAISON:
        return agency_column == principal.agency_id
    if principal.role in (Role.PROSECUTOR, Role.ASSESSOR):
        if not principal.visible_jurisdiction_ids:
            return false()
        return jurisdiction_column.in_(principal.visible_jurisdiction_ids)
    return false()

"""The one place that decides which rows a principal may see.

Every list, count, lookup, tile and download of a scoped object filters with `visible_to`, passing
the object's owning-agency and jurisdiction columns. A row outside the scope is indistinguishable
from a row that does not exist."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select, true

from agencies.models import Jurisdiction, Role
from agencies.principal import Principal
from core.errors import ValidationFailed


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

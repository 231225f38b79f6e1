"""DataLoaders of the agencies package, one per request (made on first use)."""

from __future__ import annotations

from strawberry.types import Info

from agencies import service
from core.loaders import loader


def jurisdiction_loader(info: Info):
    return loader(info.context, "jurisdiction",
                  lambda ids: service.jurisdictions_by_id(info.context.session, ids))


def procuratorate_loader(info: Info):
    return loader(info.context, "procuratorate",
                  lambda ids: service.procuratorates_by_id(info.context.session, ids))


def procuratorate_by_jurisdiction_loader(info: Info):
    return loader(info.context, "procuratorate_by_jurisdiction",
                  lambda ids: service.procuratorates_by_jurisdiction(info.context.session, ids))


def agency_loader(info: Info):
    """Agencies by id, as far as the caller may see them (others load as None)."""
    return loader(info.context, "agency", lambda ids: service.agencies_by_id(
        info.context.session, principal=info.context.principal, ids=ids))

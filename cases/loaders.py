"""DataLoaders of the cases package, one per request (made on first use)."""

from __future__ import annotations

from strawberry.types import Info

from cases import service
from core.loaders import loader


def case_by_referral_loader(info: Info):
    """The case filed from each referral, as far as the caller may see it (None otherwise)."""
    return loader(info.context, "case_by_referral", lambda ids: service.cases_of_referrals(
        info.context.session, principal=info.context.principal, referral_ids=ids))


def case_history_loader(info: Info):
    return loader(info.context, "case_history", lambda ids: service.status_history(
        info.context.session, principal=info.context.principal, case_ids=ids), default=[])

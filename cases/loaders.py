"""DataLoaders of the cases package, one per request (made on first use)."""

from __future__ import annotations

from strawberry.types import Info

from cases import hearings, procedure, service
from core.loaders import loader
from parties.protection import protection_for


def case_by_referral_loader(info: Info):
    """The case filed from each referral, as far as the caller may see it (None otherwise)."""
    return loader(info.context, "case_by_referral", lambda ids: service.cases_of_referrals(
        info.context.session, principal=info.context.principal, referral_ids=ids))


def case_history_loader(info: Info):
    return loader(info.context, "case_history", lambda ids: service.status_history(
        info.context.session, principal=info.context.principal, case_ids=ids), default=[])


def case_parties_loader(info: Info):
    return loader(info.context, "case_parties", lambda ids: service.parties_of(
        info.context.session, principal=info.context.principal,
        protection=protection_for(info.context.settings.protection), case_ids=ids), default=[])


def case_notes_loader(info: Info):
    return loader(info.context, "case_notes", lambda ids: service.notes_of(
        info.context.session, principal=info.context.principal, case_ids=ids), default=[])


def consultation_meetings_loader(info: Info):
    return loader(info.context, "consultation_meetings", lambda ids: procedure.meetings_of(
        info.context.session, principal=info.context.principal, case_ids=ids), default=[])


def case_hearings_loader(info: Info):
    return loader(info.context, "case_hearings", lambda ids: hearings.hearings_of(
        info.context.session, principal=info.context.principal, case_ids=ids), default=[])

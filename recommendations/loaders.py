"""DataLoaders of the recommendations package, one per request (made on first use). Each reads
through the service, so each is scoped like every other read."""

from __future__ import annotations

from strawberry.types import Info

from core.loaders import loader
from evidence import service as evidence_service
from evidence.models import EvidenceOwnerKind
from recommendations import rectification, service


def _scoped(info: Info, name: str, read, key: str, default=None):
    """The context's loader `name` over `read(session, principal=…, <key>=ids)`."""
    context = info.context
    return loader(context, name, lambda ids: read(context.session, principal=context.principal, **{key: ids}),
                  default=default)


def recommendations_by_case_loader(info: Info):
    return _scoped(info, "recommendations_by_case", service.recommendations_of_cases, "case_ids", [])


def recommendation_history_loader(info: Info):
    return _scoped(info, "recommendation_history", service.status_history, "recommendation_ids", [])


def reply_loader(info: Info):
    return _scoped(info, "recommendation_reply", rectification.replies_of, "recommendation_ids")


def stages_loader(info: Info):
    return _scoped(info, "rectification_stages", rectification.stages_of, "recommendation_ids", [])


def reports_loader(info: Info):
    return _scoped(info, "rectification_reports", rectification.reports_of, "recommendation_ids", [])


def checks_loader(info: Info):
    return _scoped(info, "rectification_checks", rectification.checks_of, "recommendation_ids", [])


def evidence_loader(info: Info, kind: EvidenceOwnerKind):
    context = info.context
    return loader(context, f"evidence_of_{kind.value}", lambda ids: evidence_service.evidence_of(
        context.session, principal=context.principal, kind=kind, owner_ids=ids), default=[])

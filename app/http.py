"""Plain HTTP routes beside GraphQL: health, readiness, evidence downloads and bundles."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import false, or_, select, text
from starlette.concurrency import iterate_in_threadpool

from agencies.principal import Principal
from app.context import Resources, authenticate_request
from core import unit_of_work
from core.db import database_unreachable
from core.errors import AppError, DatabaseUnavailable, Unauthenticated
from evidence import bundle as bundles
from evidence.models import Evidence
from evidence.service import open_evidence_content, open_evidence_preview

logger = logging.getLogger(__name__)
router = APIRouter()
READINESS_TIMEOUT_SECONDS = 3


def error_response(error: AppError) -> JSONResponse:
    """A REST route's failure, in the same shape and codes as a GraphQL error."""
    body = {"errors": [{"message": error.message, "extensions": error.as_extensions()}]}
    headers = {}
    retry_after = error.retry_after or error.extensions.get("retryAfterSeconds")
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=error.http_status, headers=headers)


async def answer_as_principal(request: Request, work: Callable[..., Awaitable[Response]], *,
                              commit: bool = False) -> Response:
    """Answer a REST route for an authenticated caller: `work(session, principal)` runs in one
    transaction, committed only when `commit` (a read leaves nothing behind) and only if it
    succeeded. Any failure is the JSON error a REST route answers with, as GraphQL's codes."""
    resources: Resources = request.app.state.resources
    async with resources.session_factory() as session:
        try:
            principal, auth_error = await authenticate_request(request, session, resources.settings)
            if auth_error or principal is None:
                raise auth_error or Unauthenticated()
            response = await work(session, principal)
            if commit:
                await unit_of_work.commit(session)
            return response
        except Exception as error:
            if database_unreachable(error):
                error = DatabaseUnavailable()
            if not isinstance(error, AppError):
                raise
            return error_response(error)
        finally:
            await unit_of_work.rollback(session)  # nothing left to undo after a commit


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    checks = {"database": await _database_ready(resources), "objectStore": await _store_ready(resources)}
    ready = all(checks.values())
    return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503)


async def _database_ready(resources: Resources) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with resources.engine.connect() as connection:
                await connection.execute(text("SELECT postgis_lib_version()"))
        return True
    except Exception as error:  # any failure means "not ready"; say why in the log only
        logger.warning("readiness: database unreachable: %r", error)
        return False


async def _store_ready(resources: Resources) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            return await resources.store.is_reachable()
    except TimeoutError:
        logger.warning("readiness: object store timed out")
        return False


@router.get("/evidence/{evidence_id}/content", include_in_schema=False)
async def evidence_content(evidence_id: str, request: Request) -> Response:
    """Stream an evidence file to someone allowed to open it; the download is logged first."""

    resources: Resources = request.app.state.resources
    storage = resources.settings.storage

    async def work(session, principal: Principal) -> Response:
        download = await open_evidence_content(
            session, principal=principal, store=resources.store, evidence_id=evidence_id,
            presign_over_bytes=storage.presign_download_over_bytes,
            presign_ttl=timedelta(seconds=storage.presign_ttl_seconds))
        evidence, chunks = download.evidence, download.chunks
        if download.url is not None:  # a large file: the client fetches this version from the store
            return RedirectResponse(download.url, status_code=307, headers={"Cache-Control": "private, no-store"})
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(evidence.filename)}",
            "Content-Length": str(evidence.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "X-Evidence-SHA256": evidence.sha256,
            "Cache-Control": "private, no-store",
        }
        return StreamingResponse(iterate_in_threadpool(chunks), media_type=evidence.media_type,
                                 headers=headers)

    # The download is in the custody log before the first byte leaves.
    return await answer_as_principal(request, work, commit=True)


@router.get("/evidence/{evidence_id}/preview", include_in_schema=False)
async def evidence_preview(evidence_id: str, request: Request) -> Response:
    """A photo's preview (no metadata), to whoever may open the evidence itself."""
    resources: Resources = request.app.state.resources

    async def work(session, principal: Principal) -> Response:
        evidence, chunks = await open_evidence_preview(session, principal=principal, store=resources.store,
                                                       evidence_id=evidence_id)
        return StreamingResponse(iterate_in_threadpool(chunks), media_type=evidence.preview_media_type,
                                 headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})

    return await answer_as_principal(request, work)


def _bundle_response(bundle: bundles.Bundle, store) -> StreamingResponse:
    return StreamingResponse(iterate_in_threadpool(bundles.stream_bundle(bundle, store)), media_type="application/zip",
                             headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(bundle.filename)}",
                                      "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.get("/referrals/{referral_id}/evidence-bundle.zip", include_in_schema=False)
async def referral_evidence_bundle(referral_id: str, request: Request) -> Response:
    """The referral's evidence for court, signed (evidence/bundle.py); the export is logged first."""
    from referral.service import get_referral

    resources: Resources = request.app.state.resources

    async def work(session, principal: Principal) -> Response:
        referral = await get_referral(session, principal=principal, referral_id=referral_id)
        bundle = await bundles.prepare_bundle(
            session, principal=principal, key=bundles.signing_key(resources.settings.bundle.signing_key),
            subject=bundles.Subject("referral", referral.id, referral.number),
            evidence_filter=Evidence.referral_id == referral.id)
        return _bundle_response(bundle, resources.store)

    return await answer_as_principal(request, work, commit=True)


@router.get("/cases/{case_id}/evidence-bundle.zip", include_in_schema=False)
async def case_evidence_bundle(case_id: str, request: Request) -> Response:
    """The case's evidence: its referral's files, and those of its recommendations' replies,
    rectification reports and checks."""
    from cases.service import get_case
    from recommendations.models import Recommendation, RecommendationReply, RectificationCheck, RectificationReport

    resources: Resources = request.app.state.resources

    async def work(session, principal: Principal) -> Response:
        case = await get_case(session, principal=principal, case_id=case_id)
        recommendations = select(Recommendation.id).where(Recommendation.case_id == case.id)
        evidence_filter = or_(
            Evidence.referral_id == case.referral_id if case.referral_id else false(),
            Evidence.reply_id.in_(select(RecommendationReply.id)
                                  .where(RecommendationReply.recommendation_id.in_(recommendations))),
            Evidence.rectification_report_id.in_(select(RectificationReport.id)
                                                 .where(RectificationReport.recommendation_id.in_(recommendations))),
            Evidence.rectification_check_id.in_(select(RectificationCheck.id)
                                                .where(RectificationCheck.recommendation_id.in_(recommendations))))
        bundle = await bundles.prepare_bundle(
            session, principal=principal, key=bundles.signing_key(resources.settings.bundle.signing_key),
            subject=bundles.Subject("case", case.id, case.number), evidence_filter=evidence_filter)
        return _bundle_response(bundle, resources.store)

    return await answer_as_principal(request, work, commit=True)

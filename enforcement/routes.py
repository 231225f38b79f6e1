"""The import template: `GET /enforcement-cases/template.xlsx` and `.csv`, to signed-in callers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.http import answer_as_principal
from enforcement import template

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/enforcement-cases/template.xlsx", include_in_schema=False)
async def template_xlsx(request: Request) -> Response:
    async def work(session, principal) -> Response:
        content = template.template_xlsx(await template.domain_names(session))
        return Response(content, media_type=XLSX, headers={
            "Content-Disposition": "attachment; filename=enforcement-cases-template.xlsx"})

    return await answer_as_principal(request, work)


@router.get("/enforcement-cases/template.csv", include_in_schema=False)
async def template_csv(request: Request) -> Response:
    async def work(session, principal) -> Response:
        return Response(template.template_csv(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": "attachment; filename=enforcement-cases-template.csv"})

    return await answer_as_principal(request, work)

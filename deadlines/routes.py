"""The proof sheet: a deadline's computation on one printable page, for a file or a court.

`GET /deadlines/{id}/proof` answers HTML to whoever may see the deadline (authorised and scoped
like GraphQL: outside the caller's scope it is NOT_FOUND, as if it did not exist)."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from agencies.principal import Principal
from app.http import answer_as_principal
from core import clock
from deadlines import service
from deadlines.models import Deadline, DeadlineChange
from deadlines.workdays import WEEKDAY_NAMES, working_days_left, years_spanned

router = APIRouter()


@router.get("/deadlines/{deadline_id}/proof", include_in_schema=False)
async def deadline_proof(deadline_id: str, request: Request) -> Response:

    async def work(session, principal: Principal) -> Response:
        deadline = await service.get_deadline(session, principal=principal, deadline_id=deadline_id)
        changes = (await service.changes_of(session, principal=principal, deadline_ids=[deadline.id]))[deadline.id]
        today = clock.today()
        left = None
        if deadline.is_open:
            calendar = await service.load_calendar(session, years_spanned(today, deadline.due_on))
            left = working_days_left(calendar, today, deadline.due_on)
        page = proof_sheet(deadline, changes, today=today, working_days_left=left)
        return HTMLResponse(page, headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

    return await answer_as_principal(request, work)


def _day(day: date | str) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.isoformat()}（{WEEKDAY_NAMES[day.weekday()]}）"


def _rows(days: list[dict]) -> str:
    if not days:
        return '<tr><td colspan="2">无 / none</td></tr>'
    return "".join(f"<tr><td>{escape(_day(entry['date']))}</td><td>{escape(entry['name'])}</td></tr>"
                   for entry in days)


def _status(deadline: Deadline, today: date, working_days_left: int | None) -> str:
    if deadline.met_on is not None:
        late = "，逾期履行 / met late" if deadline.met_on > deadline.due_on else "，按期履行 / met in time"
        return f"已于 {_day(deadline.met_on)} 履行 / met on {deadline.met_on}{late}"
    if deadline.cancelled_on is not None:
        return f"已于 {_day(deadline.cancelled_on)} 终止（对象已撤回）/ cancelled on {deadline.cancelled_on}"
    if today > deadline.due_on:
        return (f"已逾期，截至 {today} 已过 {-working_days_left} 个工作日 / overdue: {-working_days_left} working "
                f"days elapsed as of {today}")
    return f"未届满，截至 {today} 尚余 {working_days_left} 个工作日 / open: {working_days_left} working days left as of {today}"


def proof_sheet(deadline: Deadline, changes: list[DeadlineChange], *, today: date,
                working_days_left: int | None) -> str:
    rule = service.rule_of(deadline)
    stored = deadline.explanation
    provisional = ""
    if deadline.provisional:
        years = "、".join(str(year) for year in stored["provisionalYears"])
        provisional = (f'<p class="warn">暂定 / Provisional：{escape(years)} 年的工作日安排尚未载入，该年按周一至周五计算；'
                       "安排公布后自动重算。The schedule of these years is not loaded yet; they are counted Monday to "
                       "Friday, and the deadline is recomputed when it is.</p>")
    change_rows = "".join(
        f"<tr><td>{escape(change.changed_at.astimezone(clock.PLATFORM_TIMEZONE).strftime('%Y-%m-%d %H:%M'))}</td>"
        f"<td>{escape(str(change.before_due_on))} → {escape(str(change.after_due_on))}</td>"
        f"<td>{escape(change.reason)}</td><td>{escape(change.actor_name)}</td></tr>" for change in changes)
    changes_table = (f"<h2>期限变更记录 / Changes</h2><table><tr><th>时间 / When</th><th>届满日 / Due</th>"
                     f"<th>原因 / Why</th><th>操作人 / By</th></tr>{change_rows}</table>") if changes else ""
    generated = datetime.now(clock.PLATFORM_TIMEZONE).strftime("%Y-%m-%d %H:%M")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>期限计算证明 / Deadline proof — {escape(rule.name_zh)}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Noto Serif CJK SC", "Songti SC", serif; font-size: 10pt; line-height: 1.45; max-width: 180mm;
        margin: 0 auto; }}
h1 {{ font-size: 14pt; text-align: center; margin: 0 0 4mm; }}
h2 {{ font-size: 11pt; margin: 4mm 0 1mm; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: 1mm 2mm; text-align: left; vertical-align: top; }}
th {{ width: 38mm; background: #f0f0f0; }}
.due {{ font-size: 12pt; font-weight: bold; }}
.warn {{ border: 1px solid #a00; padding: 2mm; }}
.small {{ font-size: 8pt; color: #444; }}
</style></head><body>
<h1>法定期限计算证明<br><span class="small">Proof of a legal deadline's computation</span></h1>
<table>
<tr><th>期限 / Deadline</th><td>{escape(rule.name_zh)} / {escape(rule.name_en)}<br>
<span class="small">{escape(deadline.subject_kind)} {escape(str(deadline.subject_id))} · ID {escape(str(deadline.id))}</span></td></tr>
<tr><th>规则 / Rule</th><td>{escape(rule.code)}，版本 / version {escape(deadline.rule_version)}；
期间 / period：{escape(rule.period_text)}</td></tr>
<tr><th>法律依据 / Legal source</th><td>{escape(rule.legal_source)}<br><span class="small">{escape(rule.legal_source_en)}</span></td></tr>
<tr><th>起算 / Start</th><td>{escape(rule.start_event_zh)} / {escape(rule.start_event_en)}：{escape(_day(deadline.start_on))}
（当日不计入 / the start day is not counted）</td></tr>
<tr><th>期间末日 / Period ends</th><td>{escape(_day(stored["nominalEnd"]))}</td></tr>
<tr><th>休息日顺延 / Rest days</th><td>{escape(rule.rest_day_source)}</td></tr>
<tr><th>工作日历 / Calendar</th><td>{escape(deadline.calendar_version)}</td></tr>
<tr><th>届满日 / Due on</th><td class="due">{escape(_day(deadline.due_on))}</td></tr>
<tr><th>状态 / Status</th><td>{escape(_status(deadline, today, working_days_left))}</td></tr>
</table>
{provisional}
<h2>跳过的休息日 / Rest days skipped ({len(stored["restDaysSkipped"])})</h2>
<table>{_rows(stored["restDaysSkipped"])}</table>
<h2>计入的调休工作日 / Adjusted working days counted ({len(stored["adjustedWorkdaysCounted"])})</h2>
<table>{_rows(stored["adjustedWorkdaysCounted"])}</table>
{changes_table}
<p class="small">生成于 / generated {escape(generated)}（北京时间 / Beijing time）</p>
</body></html>
"""

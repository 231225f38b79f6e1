import { gql, saveAs } from "./api";
import { errorBox, field, h, today } from "./dom";
import { tr } from "./i18n";
import type { Screen } from "./main";

// The assessment API is built on another branch (issue #10). This screen uses the names of
// CONTRACT.md (`assessment(year, quarter)` → per agency `score`, `rank`, `indicators { code value
// score weight explanation }`, `closeAssessmentPeriod(year, quarter)`) and, around them, the names of
// that branch's draft: `agencies { agency }`, `indicators { kind summary count }`, explanation records
// `{ reference related startedOn dueOn doneOn onTime workingDaysLate note }`, `assessmentBoard`, the
// exports at /assessment/{year}[/{quarter}].{csv,xlsx}. Kept here in one place for the merge.
const ASSESSMENT = `query($year: Int!, $quarter: Int) { assessment(year: $year, quarter: $quarter) {
  year quarter startOn endOn asOf agencies { agencyId score rank frozen agency { name }
  indicators { code kind value score weight count summary } } } }`;
const EXPLANATION = `query($agencyId: ID!, $year: Int!, $quarter: Int, $code: AssessmentIndicatorCode!) {
  assessmentExplanation(agencyId: $agencyId, year: $year, quarter: $quarter, code: $code) {
  reference related startedOn dueOn doneOn onTime workingDaysLate note } }`;
const CLOSE = "mutation($year: Int!, $quarter: Int) { closeAssessmentPeriod(year: $year, quarter: $quarter) { id status } }";
const BOARD = `query($code: String!, $from: Date!, $to: Date!) { assessmentBoard(jurisdictionCode: $code, from: $from, to: $to) {
  weekStart isoWeek referralsReceived referralsFiled recommendationsIssued repliesDue repliesOnTime rectified } }`;

const INDICATOR: Record<string, [string, string]> = {
  ENFORCEMENT_TIMELINESS: ["执法办案信息录入及时率", "Enforcement entries on time"],
  CLUE_REFERRAL: ["线索移送立案", "Referrals that became cases"],
  REPLY_ON_TIME: ["检察建议按期回复率", "Recommendations answered on time"],
  RECTIFICATION: ["整改到位率", "Rectified"],
  OVERDUE_UNREPLIED: ["逾期未回复（扣分）", "Overdue without reply (deduction)"],
  LITIGATION: ["被提起诉讼（扣分）", "Sued (deduction)"],
};

function indicatorName(code: string): string {
  const pair = INDICATOR[code];
  return pair ? tr(pair[0], pair[1]) : code;
}

function recordsTable(records: any[]): HTMLElement {
  if (!records.length) return h("p", {}, tr("没有记录。", "No records."));
  return h("table", { class: "list inner" },
    h("thead", {}, h("tr", {}, h("th", {}, tr("记录", "Record")), h("th", {}, tr("起算", "Started")), h("th", {}, tr("期限", "Due")),
      h("th", {}, tr("完成", "Done")), h("th", {}, tr("说明", "Note")))),
    h("tbody", {}, records.map((r) => h("tr", { class: r.onTime === false ? "late" : "" },
      h("td", {}, r.reference, r.related ? h("div", { class: "muted" }, r.related) : null), h("td", {}, r.startedOn ?? ""),
      h("td", {}, r.dueOn ?? ""), h("td", {}, r.doneOn ?? ""), h("td", {}, r.note)))));
}

function scoreTable(data: any, variables: { year: number; quarter: number | null }): HTMLElement {
  const rows = [...data.agencies].sort((a: any, b: any) => a.rank - b.rank);
  return h("table", { class: "list", id: "score-table" },
    h("thead", {}, h("tr", {}, h("th", {}, tr("名次", "Rank")), h("th", {}, tr("单位", "Agency")), h("th", {}, tr("总分", "Score")),
      h("th", {}, tr("指标（点击查看依据记录）", "Indicators (open for the records behind them)")))),
    h("tbody", {}, rows.map((row: any) => h("tr", {},
      h("td", { class: "num" }, row.rank), h("td", {}, row.agency?.name ?? row.agencyId),
      h("td", { class: "num" }, Number(row.score).toFixed(1)),
      h("td", {}, row.indicators.map((indicator: any) => {
        const records = h("div", {});
        const details = h("details", {}, h("summary", {},
          `${indicatorName(indicator.code)}: ${Number(indicator.score).toFixed(1)} / ${indicator.weight} · ${indicator.summary}`), records);
        details.addEventListener("toggle", async () => {
          if (!details.open || records.childElementCount) return;
          try {
            const found = (await gql(EXPLANATION, { agencyId: row.agencyId, code: indicator.code, ...variables })).assessmentExplanation;
            records.replaceChildren(recordsTable(found));
          } catch (error) { records.replaceChildren(errorBox(error)); }
        });
        return details;
      }))))));
}

async function weeklyBoard(screen: Screen, container: HTMLElement): Promise<void> {
  const code = screen.viewer.jurisdiction?.code;
  if (!code) return;
  const to = today();
  const from = new Date(Date.now() - 12 * 7 * 86400_000).toISOString().slice(0, 10);
  const weeks = (await gql(BOARD, { code, from, to })).assessmentBoard;
  const chartBox = h("div", { class: "chart", id: "board-chart", role: "img",
    "aria-label": tr("近 12 周的周报指标", "The last 12 weeks' indicators") });
  container.replaceChildren(h("h2", {}, tr("周报看板（近 12 周）", "Weekly board (last 12 weeks)")), chartBox);
  // ECharts is loaded only on this screen (its own chunk), and only the parts the board draws.
  const chart = (await import("./chart")).barChart(chartBox);
  const series = (name: string, key: string) => ({ name, type: "bar" as const, data: weeks.map((w: any) => w[key]) });
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: weeks.map((w: any) => `W${w.isoWeek}`) }, yAxis: { type: "value", minInterval: 1 },
    series: [series(tr("收到线索", "Referrals received"), "referralsReceived"), series(tr("立案", "Cases filed"), "referralsFiled"),
      series(tr("制发建议", "Recommendations"), "recommendationsIssued"), series(tr("应回复", "Replies due"), "repliesDue"),
      series(tr("按期回复", "On time"), "repliesOnTime"), series(tr("整改到位", "Rectified"), "rectified")],
  });
}

export async function assessmentView(screen: Screen): Promise<void> {
  const now = new Date();
  const year = h("input", { type: "number", id: "assessment-year", value: String(now.getFullYear()), min: "2020", max: "2100" });
  const quarter = h("select", { id: "assessment-quarter" }, h("option", { value: "" }, tr("全年", "Whole year")),
    [1, 2, 3, 4].map((q) => h("option", { value: String(q), selected: q === Math.floor(now.getMonth() / 3) + 1 }, tr(`第 ${q} 季度`, `Q${q}`))));
  const results = h("div", { id: "assessment-results", "aria-live": "polite" });
  const board = h("section", {});
  const load = async () => {
    const variables = { year: Number(year.value), quarter: quarter.value ? Number(quarter.value) : null };
    const period = variables.quarter ? `${variables.year}/${variables.quarter}` : `${variables.year}`;
    try {
      const data = (await gql(ASSESSMENT, variables)).assessment;
      const frozen = data.agencies.length > 0 && data.agencies.every((row: any) => row.frozen);
      const close = frozen ? null : h("button", { type: "button", id: "close-period", onclick: async () => {
        if (!confirm(tr("关闭后本期得分将固定。确定关闭？", "Closing freezes this period's scores. Close it?"))) return;
        try {
          await gql(CLOSE, variables);
          await load();
        } catch (error) { results.appendChild(errorBox(error)); }
      } }, tr("关闭考核期", "Close the period"));
      results.replaceChildren(
        h("p", {}, `${data.startOn} – ${data.endOn} · ${tr("统计至", "as of")} ${data.asOf} · `,
          frozen ? tr("本期已关闭，得分已固定。", "Closed: the scores are frozen.") : tr("本期未关闭，得分随记录变化。", "Open: scores follow the records.")),
        h("div", { class: "actions" }, close,
          h("button", { type: "button", onclick: () => void saveAs(`/assessment/${period}.xlsx`, `考核-${period.replace("/", "-")}.xlsx`) }, tr("导出 XLSX", "Export XLSX")),
          h("button", { type: "button", onclick: () => void saveAs(`/assessment/${period}.csv`, `考核-${period.replace("/", "-")}.csv`) }, tr("导出 CSV", "Export CSV"))),
        scoreTable(data, variables));
    } catch (error) { results.replaceChildren(errorBox(error)); }
  };
  screen.main.append(h("form", { class: "filters", onsubmit: (event: Event) => { event.preventDefault(); void load(); } },
    field(tr("年度", "Year"), year), field(tr("期间", "Period"), quarter),
    h("button", { type: "submit", class: "primary" }, tr("查询", "Show"))), results, board);
  await load();
  weeklyBoard(screen, board).catch((error) => board.replaceChildren(errorBox(error)));
}

import { gql } from "./api";
import { errorBox, field, h } from "./dom";
import { tr } from "./i18n";
import type { Screen } from "./main";

// Written against the names of CONTRACT.md (`assessment(year, quarter)` → per agency `score`, `rank`,
// `indicators { code value score weight explanation }`, and `closeAssessmentPeriod(year, quarter)`);
// the wrapping field names (`closed`, `scores`, `agency`) are this screen's assumption, kept here in one place.
const ASSESSMENT = `query($year: Int!, $quarter: Int) { assessment(year: $year, quarter: $quarter) {
  closed scores { rank score agency { id name } indicators { code value score weight explanation } } } }`;
const CLOSE = "mutation($year: Int!, $quarter: Int!) { closeAssessmentPeriod(year: $year, quarter: $quarter) { closed } }";

function explanationText(explanation: unknown): string {
  return typeof explanation === "string" ? explanation : JSON.stringify(explanation, null, 2);
}

export async function assessmentView(screen: Screen): Promise<void> {
  const now = new Date();
  const year = h("input", { type: "number", id: "assessment-year", value: String(now.getFullYear()), min: "2020", max: "2100" });
  const quarter = h("select", { id: "assessment-quarter" }, h("option", { value: "" }, tr("全年", "Whole year")),
    [1, 2, 3, 4].map((q) => h("option", { value: String(q), selected: q === Math.floor(now.getMonth() / 3) + 1 }, tr(`第 ${q} 季度`, `Q${q}`))));
  const results = h("div", { id: "assessment-results", "aria-live": "polite" });
  const load = async () => {
    const variables = { year: Number(year.value), quarter: quarter.value ? Number(quarter.value) : null };
    try {
      const data = (await gql(ASSESSMENT, variables)).assessment;
      const rows = [...data.scores].sort((a: any, b: any) => a.rank - b.rank);
      const table = h("table", { class: "list", id: "score-table" },
        h("thead", {}, h("tr", {}, h("th", {}, tr("名次", "Rank")), h("th", {}, tr("单位", "Agency")), h("th", {}, tr("得分", "Score")),
          h("th", {}, tr("指标", "Indicators")))),
        h("tbody", {}, rows.map((row: any) => h("tr", {},
          h("td", { class: "num" }, row.rank), h("td", {}, row.agency.name), h("td", { class: "num" }, Number(row.score).toFixed(1)),
          h("td", {}, h("details", {}, h("summary", {}, tr("查看指标明细", "Indicator details")),
            h("table", { class: "list inner" }, h("thead", {}, h("tr", {}, h("th", {}, tr("指标", "Indicator")), h("th", {}, tr("值", "Value")),
              h("th", {}, tr("得分", "Score")), h("th", {}, tr("权重", "Weight")), h("th", {}, tr("依据记录", "Records")))),
            h("tbody", {}, row.indicators.map((indicator: any) => h("tr", {}, h("td", {}, indicator.code), h("td", { class: "num" }, indicator.value),
              h("td", { class: "num" }, indicator.score), h("td", { class: "num" }, indicator.weight),
              h("td", {}, h("details", {}, h("summary", {}, tr("展开", "Show")), h("pre", {}, explanationText(indicator.explanation))))))))))))));
      const close = data.closed || !variables.quarter ? null : h("button", { type: "button", id: "close-period", onclick: async () => {
        if (!confirm(tr("关闭后本期得分将固定，不能再更改。确定关闭？", "Closing fixes this period's scores for good. Close it?"))) return;
        try {
          await gql(CLOSE, variables);
          await load();
        } catch (error) { results.appendChild(errorBox(error)); }
      } }, tr("关闭考核期", "Close the period"));
      results.replaceChildren(h("p", {}, data.closed ? tr("本期已关闭，得分已固定。", "This period is closed; its scores are fixed.")
        : tr("本期未关闭，得分随记录变化。", "This period is open; scores follow the records.")), table, close ?? "");
    } catch (error) { results.replaceChildren(errorBox(error)); }
  };
  screen.main.append(h("form", { class: "filters", onsubmit: (event: Event) => { event.preventDefault(); void load(); } },
    field(tr("年度", "Year"), year), field(tr("期间", "Period"), quarter),
    h("button", { type: "submit", class: "primary" }, tr("查询", "Show"))), results);
  await load();
}

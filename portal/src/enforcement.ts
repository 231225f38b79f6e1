import { gql, gqlUpload, saveAs } from "./api";
import { errorBox, field, h } from "./dom";
import { domainName, tr } from "./i18n";
import { progressBar } from "./liaison";
import type { Screen } from "./main";

const KIND: Record<string, [string, string]> = {
  PENALTY: ["行政处罚", "Penalty"], COMPULSORY_MEASURE: ["行政强制措施", "Compulsory measure"],
  COMPULSORY_EXECUTION: ["行政强制执行", "Compulsory execution"], INSPECTION: ["行政检查", "Inspection"],
  LICENCE_REVOCATION: ["吊销许可", "Licence revocation"], ORDER_TO_RECTIFY: ["责令改正", "Order to rectify"], OTHER: ["其他", "Other"],
};

function importForm(screen: Screen): HTMLElement {
  const file = h("input", { type: "file", id: "import-file", required: true, accept: ".csv,.xlsx" });
  const report = h("div", { id: "import-report", "aria-live": "polite" });
  return h("form", { class: "card", onsubmit: async (event: Event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    const bar = progressBar(chosen.name);
    report.replaceChildren(bar.element);
    try {
      const result = (await gqlUpload(`mutation($file: Upload!) { importEnforcementCases(file: $file) {
        accepted rows created unchanged errorCount errors { row column code message } } }`, { file: null }, { "variables.file": chosen }, bar.set))
        .importEnforcementCases;
      report.appendChild(result.accepted
        ? h("p", { class: "ok" }, tr(`已导入：共 ${result.rows} 行，新增 ${result.created}，未变 ${result.unchanged}。`,
          `Imported: ${result.rows} rows, ${result.created} new, ${result.unchanged} unchanged.`))
        : h("div", {}, h("p", { class: "error" }, tr(`未导入：${result.errorCount} 处错误，请修改后重新导入（全部或全不）。`,
          `Nothing imported: ${result.errorCount} problems; fix them and import again (all or nothing).`)),
        h("table", { class: "list", id: "import-errors" }, h("thead", {}, h("tr", {}, h("th", {}, tr("行", "Row")),
          h("th", {}, tr("列", "Column")), h("th", {}, tr("代码", "Code")), h("th", {}, tr("说明", "Message")))),
        h("tbody", {}, result.errors.map((e: any) => h("tr", {}, h("td", { class: "num" }, e.row), h("td", {}, e.column ?? ""),
          h("td", {}, e.code), h("td", {}, e.message)))))));
      if (result.accepted) setTimeout(() => screen.refresh(), 1500);
    } catch (error) { report.appendChild(errorBox(error)); }
  } }, h("h2", {}, tr("批量导入执法办案信息", "Import enforcement cases")),
  h("p", { class: "actions" }, tr("模板：", "Template: "),
    h("button", { type: "button", class: "link", onclick: () => void saveAs("/enforcement-cases/template.xlsx", "执法办案信息模板.xlsx") }, "XLSX"),
    h("button", { type: "button", class: "link", onclick: () => void saveAs("/enforcement-cases/template.csv", "执法办案信息模板.csv") }, "CSV")),
  field(tr("文件（CSV 或 XLSX）", "File (CSV or XLSX)"), file),
  h("button", { type: "submit", class: "primary" }, tr("导入", "Import")), report);
}

export async function enforcementView(screen: Screen): Promise<void> {
  if (screen.viewer.role === "AGENCY_LIAISON") screen.main.appendChild(importForm(screen));
  const data = (await gql(`{ enforcementCases(first: 100) { totalCount edges { node { id caseNumber kind decidedOn amount summary
    entryDueOn enteredOn enteredOnTime entryWorkingDaysLate domain { nameZh nameEn } agency { name } } } } }`)).enforcementCases;
  const showAgency = screen.viewer.role !== "AGENCY_LIAISON";
  screen.main.append(h("h2", {}, tr(`执法办案信息（共 ${data.totalCount} 件）`, `Enforcement cases (${data.totalCount})`)),
    data.edges.length ? h("table", { class: "list", id: "enforcement-list" },
      h("thead", {}, h("tr", {}, h("th", {}, tr("案件编号", "Case number")), showAgency ? h("th", {}, tr("机关", "Agency")) : null,
        h("th", {}, tr("类型", "Kind")), h("th", {}, tr("领域", "Domain")), h("th", {}, tr("决定日期", "Decided on")),
        h("th", {}, tr("录入", "Entered")), h("th", {}, tr("摘要", "Summary")))),
      h("tbody", {}, data.edges.map(({ node: c }: any) => h("tr", {}, h("td", {}, c.caseNumber), showAgency ? h("td", {}, c.agency?.name ?? "") : null,
        h("td", {}, tr(...(KIND[c.kind] ?? [c.kind, c.kind]))), h("td", {}, domainName(c.domain)), h("td", {}, c.decidedOn),
        h("td", {}, `${c.enteredOn} · `, c.enteredOnTime ? tr("按期", "on time")
          : h("span", { class: "tag" }, tr(`迟 ${c.entryWorkingDaysLate} 个工作日`, `${c.entryWorkingDaysLate} working days late`))),
        h("td", {}, c.summary)))))
      : h("p", {}, tr("没有记录。", "No records.")));
}

import { ApiError, gql } from "./api";
import { errorBox, field, h, today } from "./dom";
import { domainName, label, tr } from "./i18n";
import type * as maplibregl from "maplibre-gl";
import { createMap, showGeometry, STATUS_COLORS } from "./map";
import { deadlineWithExplanation, fitHome, historyList, referralTable } from "./liaison";
import type { Screen } from "./main";

const STATUSES = ["SUBMITTED", "REGISTERED", "RETURNED", "CASE_FILED", "DECLINED", "WITHDRAWN"];
// A referral is "acknowledgement due" when its registration deadline is this close or passed.
const ACK_DUE_WORKING_DAYS = 2;

const QUEUE = `query($filter: ReferralFilter, $first: Int) { referrals(filter: $filter, first: $first) { totalCount edges { node {
  id number title status submittedAt areaMu domain { nameZh nameEn } outcomeReason agency { name }
  acknowledgementDeadline { dueOn workingDaysLeft isOverdue metOn explanation { text } } case { number status } } } } }`;

export async function queueView(screen: Screen): Promise<void> {
  const domains = (await gql("{ referralDomains { code nameZh nameEn } }")).referralDomains;
  const status = h("select", { id: "filter-status" }, h("option", { value: "" }, tr("全部", "All")),
    STATUSES.map((s) => h("option", { value: s, selected: s === "SUBMITTED" }, label(s))));
  const domain = h("select", { id: "filter-domain" }, h("option", { value: "" }, tr("全部", "All")),
    domains.map((d: any) => h("option", { value: d.code }, domainName(d))));
  const from = h("input", { type: "date", id: "filter-from" });
  const to = h("input", { type: "date", id: "filter-to" });
  const ackDue = h("input", { type: "checkbox", id: "filter-ack-due" });
  const results = h("div", { id: "queue-results", "aria-live": "polite" });
  const load = async () => {
    const filter: Record<string, unknown> = {};
    if (status.value) filter.status = [status.value];
    if (domain.value) filter.domain = [domain.value];
    if (from.value) filter.submittedFrom = from.value;
    if (to.value) filter.submittedTo = to.value;
    try {
      const data = (await gql(QUEUE, { filter, first: 100 })).referrals;
      let rows = data.edges.map((edge: any) => edge.node);
      // The API has no acknowledgement filter: this one narrows the page it answered.
      if (ackDue.checked) rows = rows.filter((r: any) => r.acknowledgementDeadline && !r.acknowledgementDeadline.metOn
        && (r.acknowledgementDeadline.isOverdue || (r.acknowledgementDeadline.workingDaysLeft ?? 99) <= ACK_DUE_WORKING_DAYS));
      results.replaceChildren(h("p", {}, tr(`共 ${data.totalCount} 条`, `${data.totalCount} in all`)), referralTable(rows, true));
    } catch (error) { results.replaceChildren(errorBox(error)); }
  };
  const form = h("form", { class: "filters", role: "search", onsubmit: (event: Event) => { event.preventDefault(); void load(); } },
    field(tr("状态", "Status"), status), field(tr("领域", "Domain"), domain),
    field(tr("移送日期自", "Submitted from"), from), field(tr("至", "to"), to),
    h("label", { class: "check" }, ackDue, " ", tr(`登记期限将至（≤${ACK_DUE_WORKING_DAYS} 个工作日）或已逾期`, `Acknowledgement due (≤${ACK_DUE_WORKING_DAYS} working days) or overdue`)),
    h("button", { type: "submit", class: "primary", id: "apply-filters" }, tr("筛选", "Filter")));
  screen.main.append(form, results, await overdueReplies());
  await load();
}

async function overdueReplies(): Promise<HTMLElement> {
  const rows = (await gql(`{ recommendations(filter: {overdue: true}, first: 50) { edges { node {
    id number addressee { name } dueOn replyDeadline { dueOn workingDaysLeft isOverdue metOn explanation { text } } } } } }`)).recommendations.edges;
  return h("section", {}, h("h2", {}, tr("逾期未回复的检察建议", "Recommendations with overdue replies")),
    rows.length ? h("ul", {}, rows.map(({ node }: any) => h("li", {}, h("a", { href: `#/recommendation/${node.id}` }, node.number),
      ` · ${node.addressee?.name ?? ""} · `, deadlineWithExplanation(node.replyDeadline)))) : h("p", {}, tr("没有。", "None.")));
}

export async function mapView(screen: Screen): Promise<void> {
  const mapBox = h("div", { class: "map large", id: "overview-map" });
  const info = h("div", { id: "map-info", "aria-live": "polite" }, tr("点击地图上的线索查看详情。", "Click a referral on the map to open it."));
  const toggles = h("div", { class: "toolbar", role: "group", "aria-label": tr("图层", "Layers") });
  const legend = h("ul", { class: "legend", "aria-label": tr("图例", "Legend") }, Object.entries(STATUS_COLORS).map(([status, color]) =>
    h("li", {}, h("span", { class: "swatch", style: `background:${color}` }), label(status))));
  screen.main.append(toggles, mapBox, legend, info);
  const map = createMap(mapBox, { name: "overview" });
  fitHome(map, screen.viewer);
  const groups: [string, string, string[]][] = [
    ["referrals", tr("线索", "Referrals"), ["referral-cells", "referrals-fill", "referrals-line", "referrals-point"]],
    ["evidence", tr("证据点位", "Evidence"), ["evidence-point"]],
    ["jurisdictions", tr("行政区划", "Districts"), ["jurisdictions-line"]],
    ["protected_areas", tr("保护区等参考图层", "Protected areas"), ["protected-fill", "protected-line"]],
  ];
  for (const [name, text, layerIds] of groups) {
    const box = h("input", { type: "checkbox", checked: true, id: `layer-${name}` });
    box.addEventListener("change", () => layerIds.forEach((id) => map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none")));
    toggles.appendChild(h("label", { class: "check" }, box, " ", text));
  }
  const clickable = ["referrals-fill", "referrals-line", "referrals-point", "evidence-point"];
  map.on("click", (event: maplibregl.MapMouseEvent) => {
    const features = map.queryRenderedFeatures(event.point, { layers: clickable });
    const feature = features[0];
    if (!feature) return;
    const id = feature.layer.id === "evidence-point" ? feature.properties.referral_id : feature.properties.id;
    if (id) screen.go(`referral/${id}`);
  });
  for (const layer of clickable) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
}

const CASE = `query($id: ID!) { case(id: $id) { id number kind status title facts filedOn referralId geometry areaMu
  domain { nameZh nameEn } agency { id name } jurisdiction { code name }
  recommendations { id number status addressee { name } dueOn replyDeadline { dueOn workingDaysLeft isOverdue explanation { text } } }
  history { action toStatus actorName reason changedAt } } }`;

export async function caseView(screen: Screen): Promise<void> {
  const c = (await gql(CASE, { id: screen.params[0] })).case;
  if (!c) throw new ApiError(tr("没有该案件", "No such case"), "NOT_FOUND");
  screen.main.querySelector("h1")!.textContent = `${c.number} · ${c.title}`;
  const mapBox = h("div", { class: "map small", id: "case-map" });
  screen.main.append(h("div", { class: "columns" },
    h("div", { class: "col" }, h("dl", { class: "facts" },
      h("dt", {}, tr("状态", "Status")), h("dd", { id: "case-status" }, label(c.status)),
      h("dt", {}, tr("类型", "Kind")), h("dd", {}, label(c.kind)),
      h("dt", {}, tr("立案日期", "Filed on")), h("dd", {}, c.filedOn),
      h("dt", {}, tr("领域", "Domain")), h("dd", {}, domainName(c.domain)),
      h("dt", {}, tr("移送机关", "Referring agency")), h("dd", {}, c.agency?.name ?? tr("自行发现", "own clue")),
      c.referralId ? [h("dt", {}, tr("线索", "Referral")), h("dd", {}, h("a", { href: `#/referral/${c.referralId}` }, tr("查看线索", "Open")))] : null,
      h("dt", {}, tr("事实", "Facts")), h("dd", { class: "pre" }, c.facts),
      h("dt", {}, tr("面积", "Area")), h("dd", {}, `${c.areaMu.toFixed(2)} ${tr("亩", "mu")}`))),
    h("div", { class: "col" }, mapBox)),
  h("section", {}, h("h2", {}, tr("检察建议", "Recommendations")),
    c.recommendations.length ? h("ul", { id: "case-recommendations" }, c.recommendations.map((r: any) => h("li", {},
      h("a", { href: `#/recommendation/${r.id}` }, r.number), ` · ${r.addressee?.name ?? ""} · ${label(r.status)} · `,
      deadlineWithExplanation(r.replyDeadline)))) : h("p", {}, tr("尚未制发。", "None issued yet."))));
  if (c.kind === "ADMINISTRATIVE" && ["FILED", "CONSULTATION", "RECOMMENDATION_ISSUED"].includes(c.status)) {
    screen.main.appendChild(await recommendationForm(screen, c));
  }
  screen.main.appendChild(historyList(c.history));
  const map = createMap(mapBox, { layers: ["jurisdictions", "protected_areas"], name: "case" });
  showGeometry(map, "case-geometry", c.geometry);
}

async function recommendationForm(screen: Screen, c: any): Promise<HTMLElement> {
  const agencies = (await gql("query($code: String) { agencies(jurisdictionCode: $code) { id name } }", { code: c.jurisdiction.code })).agencies;
  const addressee = h("select", { id: "rec-addressee", required: true },
    agencies.map((a: any) => h("option", { value: a.id, selected: a.id === c.agency?.id }, a.name)));
  const content = h("textarea", { id: "rec-content", rows: "4", required: true });
  const measures = h("textarea", { id: "rec-measures", rows: "3", required: true });
  const legalBasis = h("input", { type: "text", id: "rec-legal-basis", required: true,
    value: tr("《中华人民共和国行政诉讼法》第二十五条第四款", "Administrative Litigation Law art. 25(4)") });
  const urgent = h("input", { type: "checkbox", id: "rec-urgent" });
  const issuedOn = h("input", { type: "date", id: "rec-issued-on", value: today(), max: today() });
  const message = h("div", { role: "status" });
  return h("form", { class: "card", id: "recommendation-form", onsubmit: async (event: Event) => {
    event.preventDefault();
    try {
      const r = (await gql(`mutation($caseId: ID!, $input: IssueRecommendationInput!) { issueRecommendation(caseId: $caseId, input: $input) { id } }`,
        { caseId: c.id, input: { addresseeAgencyId: addressee.value, content: content.value.trim(), measures: measures.value.trim(),
          legalBasis: legalBasis.value.trim(), urgent: urgent.checked, issuedOn: issuedOn.value || null } })).issueRecommendation;
      screen.go(`recommendation/${r.id}`);
    } catch (error) { message.replaceChildren(errorBox(error)); }
  } }, h("h2", {}, tr("制发诉前检察建议", "Issue a pre-litigation recommendation")),
  field(tr("被建议机关", "Addressee agency"), addressee), field(tr("建议内容", "Content"), content),
  field(tr("建议措施", "Measures"), measures), field(tr("法律依据", "Legal basis"), legalBasis),
  h("label", { class: "check" }, urgent, " ", tr("紧急（15 日内回复）", "Urgent (reply within 15 days)")),
  field(tr("制发日期", "Issued on"), issuedOn),
  h("button", { type: "submit", class: "primary", id: "issue-recommendation" }, tr("制发", "Issue")), message);
}


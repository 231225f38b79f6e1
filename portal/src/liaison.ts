import { ApiError, gql, gqlUpload } from "./api";
import { areaMu, type DrawMode, GeometryDrawer } from "./draw";
import { clear, errorBox, field, formatDateTime, h, today } from "./dom";
import { domainName, label, tr } from "./i18n";
import { createMap, bounds, showGeometry } from "./map";
import { attachFiles, DIRECT_UPLOAD_MAX_BYTES } from "./upload";
import type * as maplibregl from "maplibre-gl";
import type { Screen, Viewer } from "./main";

const DUPLICATE_RADIUS_METERS = 500;

export function homeBoundary(viewer: Viewer): GeoJSON.Geometry | null {
  return viewer.agency?.jurisdiction.boundary ?? viewer.jurisdiction?.boundary ?? null;
}

export function fitHome(map: maplibregl.Map, viewer: Viewer): void {
  const boundary = homeBoundary(viewer);
  if (!boundary) return;
  const [minX, minY, maxX, maxY] = bounds(boundary);
  map.fitBounds([[minX, minY], [maxX, maxY]], { padding: 20, duration: 0 });
}

export function progressBar(name: string): { element: HTMLElement; set: (fraction: number) => void } {
  const bar = h("progress", { max: "100", value: "0", "aria-label": name });
  const text = h("span", {}, "0%");
  return { element: h("div", { class: "progress" }, h("span", { class: "file" }, name), bar, text),
    set: (fraction) => { bar.value = Math.round(fraction * 100); text.textContent = `${Math.round(fraction * 100)}%`; } };
}

function readGeoJson(text: string): GeoJSON.Geometry {
  const parsed = JSON.parse(text);
  if (parsed.type === "FeatureCollection") {
    const geometries = parsed.features.map((feature: GeoJSON.Feature) => feature.geometry).filter(Boolean);
    if (geometries.length === 1) return geometries[0];
    const polygons = geometries.filter((g: GeoJSON.Geometry) => g.type === "Polygon").map((g: GeoJSON.Polygon) => g.coordinates);
    if (polygons.length === geometries.length) return { type: "MultiPolygon", coordinates: polygons };
    return geometries[0];
  }
  if (parsed.type === "Feature") return parsed.geometry;
  return parsed;
}

export async function submitView(screen: Screen): Promise<void> {
  const domains = (await gql("{ referralDomains { code nameZh nameEn } }")).referralDomains;
  let geometry: GeoJSON.Geometry | null = null;

  const domain = h("select", { required: true, id: "domain" },
    domains.map((d: any) => h("option", { value: d.code }, domainName(d))));
  const title = h("input", { type: "text", required: true, id: "title", maxlength: "200" });
  const facts = h("textarea", { required: true, id: "facts", rows: "5" });
  const address = h("input", { type: "text", id: "address" });
  const foundOn = h("input", { type: "date", id: "found-on", max: today() });
  const urgent = h("input", { type: "checkbox", id: "urgent" });
  const stateHarm = h("input", { type: "checkbox", id: "harm-state" });
  const crs = h("select", { id: "crs" },
    h("option", { value: "WGS84" }, tr("WGS84（GPS、本地图）", "WGS84 (GPS, this map)")),
    h("option", { value: "GCJ02" }, tr("GCJ-02（高德、腾讯等地图复制的坐标）", "GCJ-02 (copied from consumer map apps)")),
    h("option", { value: "BD09" }, tr("BD-09（百度地图）", "BD-09 (Baidu Maps)")),
    h("option", { value: "CGCS2000" }, "CGCS2000"));
  const parties = h("div", { class: "parties" });
  const addParty = () => {
    const kind = h("select", {}, h("option", { value: "ENTERPRISE" }, tr("单位", "Enterprise")), h("option", { value: "PERSON" }, tr("个人", "Person")));
    const name = h("input", { type: "text" });
    const number = h("input", { type: "text" });
    const role = h("input", { type: "text" });
    const row = h("fieldset", { class: "party" }, h("legend", {}, tr("当事人", "Party")),
      field(tr("类型", "Kind"), kind), field(tr("名称/姓名", "Name"), name),
      field(tr("统一社会信用代码/身份证号", "USCC / ID number"), number), field(tr("角色", "Role"), role),
      h("button", { type: "button", class: "link", onclick: () => row.remove() }, tr("删除", "Remove")));
    (row as any).value = () => name.value.trim() ? {
      kind: kind.value, name: name.value.trim(), role: role.value.trim() || null,
      ...(kind.value === "PERSON" ? { idNumber: number.value.trim() || null } : { uscc: number.value.trim() || null }),
    } : null;
    parties.appendChild(row);
  };
  const files = h("input", { type: "file", id: "evidence-files", multiple: true });
  const geojsonFile = h("input", { type: "file", id: "geojson-file", accept: ".geojson,.json,application/geo+json" });
  const areaOut = h("output", { id: "area-mu", "aria-live": "polite" }, "—");
  const duplicates = h("div", { id: "duplicates", "aria-live": "polite" });
  const progress = h("div", { class: "uploads" });
  const message = h("div", { role: "status" });

  const mapBox = h("div", { class: "map", id: "submit-map" });
  const map = createMap(mapBox, { layers: ["jurisdictions", "protected_areas", "referrals"], name: "submit" });
  map.doubleClickZoom.disable(); // the clicks that place a shape's corners must not zoom the map
  fitHome(map, screen.viewer);

  const geometryChanged = async (value: GeoJSON.Geometry | null) => {
    geometry = value;
    areaOut.textContent = value ? `${areaMu(value).toFixed(2)} ${tr("亩", "mu")}` : "—";
    clear(duplicates);
    if (!value) return;
    try {
      const near = (await gql(`query($g: GeoJSON!, $m: Float!, $crs: CoordinateSystem!) { referralsNear(geometry: $g, meters: $m, crs: $crs) {
        distanceMeters referral { id number title status submittedAt } } }`, { g: value, m: DUPLICATE_RADIUS_METERS, crs: crs.value })).referralsNear;
      duplicates.appendChild(h("h3", {}, tr(`${DUPLICATE_RADIUS_METERS} 米内的已有线索（可能重复）`, `Referrals within ${DUPLICATE_RADIUS_METERS} m (possible duplicates)`)));
      duplicates.appendChild(near.length ? h("ul", {}, near.map((item: any) => h("li", {},
        h("a", { href: `#/referral/${item.referral.id}` }, item.referral.number ?? item.referral.title),
        ` · ${item.referral.title} · ${label(item.referral.status)} · ${Math.round(item.distanceMeters)} m`)))
        : h("p", {}, tr("未发现可能重复的线索。", "No possible duplicates found.")));
    } catch (error) {
      duplicates.appendChild(errorBox(error));
    }
  };
  const drawer = new Promise<GeometryDrawer>((resolve) => map.on("load", () => resolve(new GeometryDrawer(map, (g) => void geometryChanged(g)))));
  const modeButtons = (["polygon", "linestring", "point"] as DrawMode[]).map((mode) =>
    h("button", { type: "button", "data-mode": mode, "aria-pressed": "false", onclick: async (event: Event) => {
      (await drawer).setMode(mode);
      modeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b === event.currentTarget)));
    } }, { polygon: tr("画面", "Polygon"), linestring: tr("画线", "Line"), point: tr("画点", "Point") }[mode]));
  geojsonFile.addEventListener("change", async () => {
    const file = geojsonFile.files?.[0];
    if (!file) return;
    try {
      const loaded = readGeoJson(await file.text());
      (await drawer).clear();
      showGeometry(map, "loaded", loaded);
      await geometryChanged(loaded);
    } catch (error) {
      duplicates.replaceChildren(errorBox(tr("无法读取该 GeoJSON 文件：", "Cannot read this GeoJSON file: ") + String(error)));
    }
  });
  crs.addEventListener("change", () => void geometryChanged(geometry));

  const submit = h("button", { type: "submit", class: "primary", id: "submit-referral" }, tr("提交移送", "Submit referral"));
  const idempotencyKey = crypto.randomUUID();
  const form = h("form", { class: "submit-form", onsubmit: async (event: Event) => {
    event.preventDefault();
    clear(message);
    if (!geometry) {
      message.appendChild(errorBox(tr("请在地图上标绘线索位置，或载入 GeoJSON 文件。", "Draw the place on the map or load a GeoJSON file.")));
      return;
    }
    submit.disabled = true;
    const chosen = Array.from(files.files ?? []);
    const small = chosen.filter((file) => file.size <= DIRECT_UPLOAD_MAX_BYTES);
    const large = chosen.filter((file) => file.size > DIRECT_UPLOAD_MAX_BYTES);
    clear(progress);
    const smallBar = small.length ? progressBar(small.map((file) => file.name).join(", ")) : null;
    const largeBars = large.map((file) => progressBar(file.name));
    if (smallBar) progress.appendChild(smallBar.element);
    largeBars.forEach((bar) => progress.appendChild(bar.element));
    const input = {
      domain: domain.value, title: title.value.trim(), facts: facts.value.trim(), geometry, crs: crs.value,
      address: address.value.trim() || null, foundOn: foundOn.value || null, urgent: urgent.checked,
      harms: stateHarm.checked ? ["PUBLIC_INTEREST", "STATE_INTERESTS"] : ["PUBLIC_INTEREST"],
      parties: Array.from(parties.children).map((row) => (row as any).value()).filter(Boolean),
      idempotencyKey,
    };
    try {
      const mutation = `mutation($input: SubmitReferralInput!, $evidence: [EvidenceInput!]) {
        submitReferral(input: $input, evidence: $evidence) { id number title } }`;
      const evidence = small.map(() => ({ file: null }));
      const fileMap = Object.fromEntries(small.map((file, index) => [`variables.evidence.${index}.file`, file]));
      const referral = (await gqlUpload(mutation, { input, evidence }, fileMap, (f) => smallBar?.set(f))).submitReferral;
      smallBar?.set(1);
      if (large.length) await attachFiles(referral.id, large, (index, fraction) => largeBars[index].set(fraction));
      message.appendChild(h("p", { class: "ok" }, tr("已提交。", "Submitted. "),
        h("a", { href: `#/referral/${referral.id}`, id: "submitted-link" }, tr("查看该线索", "Open the referral"))));
    } catch (error) {
      message.appendChild(errorBox(error));
      if (error instanceof ApiError && error.field) document.getElementById(error.field)?.focus();
      submit.disabled = false;
    }
  } },
  h("div", { class: "columns" },
    h("div", { class: "col" },
      field(tr("领域", "Domain"), domain),
      field(tr("标题", "Title"), title),
      field(tr("线索事实", "Facts"), facts),
      field(tr("地址", "Address"), address),
      field(tr("发现日期", "Found on"), foundOn),
      h("div", { class: "checks" },
        h("label", {}, urgent, " ", tr("紧急", "Urgent")),
        h("label", {}, stateHarm, " ", tr("损害国家利益", "Harms state interests"))),
      parties,
      h("button", { type: "button", class: "link", onclick: addParty }, tr("+ 添加当事人", "+ Add a party")),
      field(tr("证据文件", "Evidence files"), files, tr(`${DIRECT_UPLOAD_MAX_BYTES / 1024 / 1024} MB 以上的文件分片直传，断线后续传。`,
        `Files over ${DIRECT_UPLOAD_MAX_BYTES / 1024 / 1024} MB go straight to storage in parts and resume after a dropped connection.`)),
      progress,
      submit,
      message),
    h("div", { class: "col" },
      h("div", { class: "toolbar", role: "group", "aria-label": tr("标绘", "Drawing") }, modeButtons,
        h("button", { type: "button", onclick: async () => (await drawer).clear() }, tr("清除", "Clear"))),
      mapBox,
      h("p", {}, tr("面积：", "Area: "), areaOut),
      field(tr("坐标系", "Coordinate system"), crs),
      field(tr("或载入 GeoJSON 文件", "Or load a GeoJSON file"), geojsonFile),
      duplicates)));
  screen.main.appendChild(form);
}

const REFERRAL_ROW = `id number title status submittedAt areaMu domain { nameZh nameEn } outcomeReason
  acknowledgementDeadline { dueOn workingDaysLeft isOverdue metOn } case { number status }`;

export function referralTable(rows: any[], showAgency = false): HTMLElement {
  if (!rows.length) return h("p", {}, tr("没有线索。", "No referrals."));
  return h("table", { class: "list", id: "referral-list" },
    h("thead", {}, h("tr", {}, h("th", {}, tr("编号", "Number")), h("th", {}, tr("标题", "Title")),
      showAgency ? h("th", {}, tr("移送机关", "Agency")) : null,
      h("th", {}, tr("领域", "Domain")), h("th", {}, tr("状态", "Status")), h("th", {}, tr("面积（亩）", "Area (mu)")),
      h("th", {}, tr("移送时间", "Submitted")), h("th", {}, tr("登记期限", "Acknowledge by")))),
    h("tbody", {}, rows.map((r) => h("tr", { "data-id": r.id },
      h("td", {}, r.number ?? "—"),
      h("td", {}, h("a", { href: `#/referral/${r.id}` }, r.title)),
      showAgency ? h("td", {}, r.agency?.name ?? "") : null,
      h("td", {}, domainName(r.domain)),
      h("td", {}, label(r.status), r.case ? ` · ${r.case.number}` : "", r.outcomeReason ? h("div", { class: "muted" }, r.outcomeReason) : null),
      h("td", { class: "num" }, r.areaMu ? r.areaMu.toFixed(1) : ""),
      h("td", {}, formatDateTime(r.submittedAt)),
      h("td", {}, deadlineText(r.acknowledgementDeadline))))));
}

export function deadlineText(deadline: any): string {
  if (!deadline) return "";
  if (deadline.metOn) return `${deadline.dueOn} · ${tr(`${deadline.metOn} 已办`, `met on ${deadline.metOn}`)}`;
  if (deadline.isOverdue) return `${deadline.dueOn} · ${tr("已逾期", "overdue")}`;
  if (deadline.workingDaysLeft === null || deadline.workingDaysLeft === undefined) return deadline.dueOn;
  return `${deadline.dueOn} · ${tr(`剩 ${deadline.workingDaysLeft} 个工作日`, `${deadline.workingDaysLeft} working days left`)}`;
}

export async function myReferralsView(screen: Screen): Promise<void> {
  const rows = (await gql(`{ referrals(first: 100) { totalCount edges { node { ${REFERRAL_ROW} } } } }`)).referrals;
  screen.main.append(h("p", {}, tr(`共 ${rows.totalCount} 条`, `${rows.totalCount} in all`)),
    referralTable(rows.edges.map((edge: any) => edge.node)));
}

const RECOMMENDATION_ROW = `id number status urgent issuedOn servedOn dueOn isOverdue replied
  addressee { name } case { id number title }
  replyDeadline { id dueOn workingDaysLeft isOverdue metOn explanation { text } }`;

export async function recommendationsView(screen: Screen): Promise<void> {
  const rows = (await gql(`{ recommendations(first: 100) { totalCount edges { node { ${RECOMMENDATION_ROW} } } } }`)).recommendations.edges;
  if (!rows.length) {
    screen.main.appendChild(h("p", {}, tr("没有检察建议。", "No recommendations.")));
    return;
  }
  screen.main.appendChild(h("table", { class: "list", id: "recommendation-list" },
    h("thead", {}, h("tr", {}, h("th", {}, tr("文号", "Number")), h("th", {}, tr("案件", "Case")), h("th", {}, tr("状态", "Status")),
      h("th", {}, tr("送达日期", "Served on")), h("th", {}, tr("回复期限", "Reply due")))),
    h("tbody", {}, rows.map(({ node: r }: any) => h("tr", {},
      h("td", {}, h("a", { href: `#/recommendation/${r.id}` }, r.number), r.urgent ? h("span", { class: "tag" }, tr("紧急", "urgent")) : null),
      h("td", {}, r.case?.title ?? ""),
      h("td", {}, label(r.status)),
      h("td", {}, r.servedOn ?? "—"),
      h("td", {}, deadlineWithExplanation(r.replyDeadline)))))));
}

/** The working days left, and one click away the deadline's explanation (rule, legal source, rest days). */
export function deadlineWithExplanation(deadline: any): HTMLElement {
  if (!deadline) return h("span", {}, "—");
  return h("details", { class: "deadline" }, h("summary", {}, deadlineText(deadline)),
    h("p", { class: "explanation" }, deadline.explanation?.text ?? ""));
}

export async function recommendationView(screen: Screen): Promise<void> {
  const id = screen.params[0];
  const r = (await gql(`query($id: ID!) { recommendation(id: $id) { ${RECOMMENDATION_ROW} content measures legalBasis
    reply { accepted reasons measuresTaken repliedOn actorName attachments { id filename downloadPath } }
    history { action toStatus actorName reason changedAt } } }`, { id })).recommendation;
  if (!r) throw new ApiError(tr("没有该检察建议", "No such recommendation"), "NOT_FOUND");
  screen.main.append(
    h("dl", { class: "facts" },
      h("dt", {}, tr("文号", "Number")), h("dd", {}, r.number),
      h("dt", {}, tr("状态", "Status")), h("dd", { id: "recommendation-status" }, label(r.status)),
      h("dt", {}, tr("被建议机关", "Addressee")), h("dd", {}, r.addressee?.name ?? ""),
      h("dt", {}, tr("案件", "Case")), h("dd", {}, r.case ? (screen.viewer.role === "PROSECUTOR"
        ? h("a", { href: `#/case/${r.case.id}` }, `${r.case.number} ${r.case.title}`) : `${r.case.number} ${r.case.title}`) : ""),
      h("dt", {}, tr("建议内容", "Content")), h("dd", { class: "pre" }, r.content),
      h("dt", {}, tr("建议措施", "Measures")), h("dd", { class: "pre" }, r.measures),
      h("dt", {}, tr("法律依据", "Legal basis")), h("dd", {}, r.legalBasis),
      h("dt", {}, tr("送达日期", "Served on")), h("dd", {}, r.servedOn ?? "—"),
      h("dt", {}, tr("回复期限", "Reply due")), h("dd", {}, deadlineWithExplanation(r.replyDeadline))));
  if (r.reply) {
    screen.main.appendChild(h("section", { id: "reply" }, h("h2", {}, tr("回复", "Reply")),
      h("p", {}, r.reply.accepted ? tr("采纳", "Accepted") : tr("不采纳", "Not accepted"), ` · ${r.reply.repliedOn} · ${r.reply.actorName}`),
      h("p", { class: "pre" }, r.reply.measuresTaken), r.reply.reasons ? h("p", { class: "pre" }, r.reply.reasons) : null));
  }
  screen.main.appendChild(historyList(r.history));
  if (screen.viewer.role === "AGENCY_LIAISON" && !r.replied && r.status === "SERVED") screen.main.appendChild(replyForm(screen, r.id));
  if (screen.viewer.role === "PROSECUTOR" && r.status === "ISSUED") screen.main.appendChild(serviceForm(screen, r.id));
}

export function historyList(history: any[]): HTMLElement {
  return h("section", { class: "history" }, h("h2", {}, tr("办理记录", "History")),
    h("ol", { id: "history" }, history.map((entry) => h("li", {},
      `${formatDateTime(entry.changedAt)} · ${label(entry.toStatus)} · ${entry.actorName}`,
      entry.reason ? ` · ${entry.reason}` : ""))));
}

function serviceForm(screen: Screen, id: string): HTMLElement {
  const servedOn = h("input", { type: "date", required: true, id: "served-on", value: today(), max: today() });
  const witness = h("input", { type: "text", id: "witness" });
  const message = h("div", { role: "status" });
  return h("form", { class: "card", id: "service-form", onsubmit: async (event: Event) => {
    event.preventDefault();
    try {
      await gql(`mutation($id: ID!, $input: RecordRecommendationServedInput!) { recordRecommendationServed(id: $id, input: $input) { id } }`,
        { id, input: { servedOn: servedOn.value, witnesses: witness.value.trim() ? [{ name: witness.value.trim(), role: tr("见证人", "witness") }] : [] } });
      screen.refresh();
    } catch (error) { message.replaceChildren(errorBox(error)); }
  } }, h("h2", {}, tr("记录送达", "Record service")), field(tr("送达日期", "Served on"), servedOn),
  field(tr("见证人", "Witness"), witness), h("button", { type: "submit", class: "primary" }, tr("记录送达", "Record service")), message);
}

function replyForm(screen: Screen, id: string): HTMLElement {
  const accepted = h("select", { id: "reply-accepted" }, h("option", { value: "true" }, tr("采纳", "Accept")), h("option", { value: "false" }, tr("不采纳", "Do not accept")));
  const measures = h("textarea", { id: "reply-measures", rows: "4", required: true });
  const reasons = h("textarea", { id: "reply-reasons", rows: "3" });
  const files = h("input", { type: "file", id: "reply-files", multiple: true });
  const progress = h("div", { class: "uploads" });
  const message = h("div", { role: "status" });
  return h("form", { class: "card", id: "reply-form", onsubmit: async (event: Event) => {
    event.preventDefault();
    const chosen = Array.from(files.files ?? []);
    const bar = progressBar(chosen.map((f) => f.name).join(", ") || tr("回复", "Reply"));
    progress.replaceChildren(bar.element);
    try {
      await gqlUpload(`mutation($id: ID!, $input: ReplyToRecommendationInput!, $attachments: [EvidenceInput!]) {
        replyToRecommendation(recommendationId: $id, input: $input, attachments: $attachments) { id } }`,
      { id, input: { accepted: accepted.value === "true", measuresTaken: measures.value.trim(), reasons: reasons.value.trim() || null },
        attachments: chosen.map(() => ({ file: null })) },
      Object.fromEntries(chosen.map((file, index) => [`variables.attachments.${index}.file`, file])), bar.set);
      screen.refresh();
    } catch (error) { message.replaceChildren(errorBox(error)); }
  } }, h("h2", {}, tr("回复检察建议", "Reply to the recommendation")),
  field(tr("是否采纳", "Accepted"), accepted), field(tr("已采取的措施", "Measures taken"), measures),
  field(tr("理由（不采纳时必填）", "Reasons (required when not accepted)"), reasons),
  field(tr("附件", "Attachments"), files), progress,
  h("button", { type: "submit", class: "primary", id: "send-reply" }, tr("提交回复", "Send reply")), message);
}

import { ApiError, fetchBlob, gql, saveAs } from "./api";
import { errorBox, field, formatDateTime, h } from "./dom";
import { domainName, label, tr } from "./i18n";
import { createMap, showGeometry } from "./map";
import { attachFiles } from "./upload";
import { deadlineWithExplanation, historyList, progressBar } from "./liaison";
import type { Screen, Viewer } from "./main";

const REFERRAL = `query($id: ID!) { referral(id: $id) {
  id number title status facts address foundOn submittedAt urgent harms version outcomeReason
  areaMu areaSquareMeters geometry crossBoundary
  domain { nameZh nameEn } agency { id name } jurisdiction { code name }
  parties { kind name role idNumber uscc }
  overlaps { layer { name } featureName areaMu shareOfReferral }
  acknowledgementDeadline { id dueOn workingDaysLeft isOverdue metOn explanation { text } }
  evidence { id filename mediaType sizeBytes kind sha256 uploadedAt integrityStatus downloadPath previewPath
    metadataStatus positionSource capturedAt capturedAtSource distanceFromReferralMeters farFromReferral }
  case { id number status kind }
  history { action toStatus actorName reason changedAt } } }`;

/**
 * What the caller may do with a referral in its status. The API has no "allowed actions" field, so
 * this mirrors referral/flows.py (REFERRAL_TRANSITIONS): the server still refuses anything else.
 */
type Action = "register" | "return" | "decline" | "fileCase" | "withdraw" | "resubmit";
const ALLOWED: Record<string, Record<string, Action[]>> = {
  PROSECUTOR: { SUBMITTED: ["register", "return"], REGISTERED: ["fileCase", "return", "decline"] },
  AGENCY_LIAISON: { SUBMITTED: ["withdraw"], RETURNED: ["resubmit", "withdraw"] },
};

export function allowedActions(viewer: Viewer, status: string): Action[] {
  return ALLOWED[viewer.role]?.[status] ?? [];
}

function bytes(size: number): string {
  return size > 1024 * 1024 ? `${(size / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(size / 1024)} KB`;
}

/** Where and when a photo says it was taken, and how far that is from the referral. */
function captureLine(item: any): HTMLElement {
  const where = item.positionSource === "NONE" || !item.positionSource
    ? tr("无位置信息", "no position")
    : tr(`位置来自 ${item.positionSource}`, `position from ${item.positionSource}`);
  const distance = item.distanceFromReferralMeters == null ? ""
    : ` · ${tr("距线索", "from the referral")} ${(item.distanceFromReferralMeters / 1000).toFixed(1)} km`;
  const when = item.capturedAt ? ` · ${tr("拍摄于", "taken")} ${formatDateTime(item.capturedAt)}` : "";
  return h("div", { class: item.farFromReferral ? "warning" : "muted" },
    item.farFromReferral ? tr("⚠ 距离过远：", "⚠ far away: ") : "", where, distance, when);
}

function evidenceGallery(screen: Screen, referral: any): HTMLElement {
  const gallery = h("ul", { class: "gallery", id: "evidence-gallery" });
  for (const item of referral.evidence) {
    const preview = h("div", { class: "preview" });
    if (item.previewPath) {
      // The preview is a copy without metadata; reading it is not a download of the original.
      fetchBlob(item.previewPath)
        .then((blob) => preview.replaceChildren(h("img", { alt: item.filename, src: URL.createObjectURL(blob) })))
        .catch((error) => preview.replaceChildren(errorBox(error)));
    } else if (item.kind === "PHOTO" && item.metadataStatus === "PENDING") {
      preview.replaceChildren(h("span", { class: "muted" }, tr("预览生成中…", "Preview being made…")));
    }
    gallery.appendChild(h("li", { class: "card" },
      preview,
      h("div", {}, h("strong", {}, item.filename)),
      h("div", { class: "muted" }, `${label(item.kind)} · ${bytes(item.sizeBytes)} · ${formatDateTime(item.uploadedAt)}`),
      h("div", { class: "muted", title: item.sha256 }, `SHA-256 ${item.sha256.slice(0, 16)}…`),
      h("div", {}, tr("完整性：", "Integrity: "), item.integrityStatus ? label(item.integrityStatus) : tr("未核验", "not yet checked")),
      item.kind === "PHOTO" ? captureLine(item) : null,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => saveAs(item.downloadPath, item.filename).catch((e) => preview.replaceChildren(errorBox(e))) },
          tr("下载原件", "Download original")))));
  }
  const section = h("section", {}, h("h2", {}, tr("证据", "Evidence"), ` (${referral.evidence.length})`),
    referral.evidence.length ? gallery : h("p", {}, tr("没有证据文件。", "No evidence files.")),
    h("p", {}, h("button", { type: "button", class: "link", onclick: () => saveAs(`/referrals/${referral.id}/evidence-bundle.zip`, `${referral.number ?? referral.id}.zip`)
      .catch((e) => section.appendChild(errorBox(e))) }, tr("下载签名证据包（ZIP）", "Download the signed evidence bundle (ZIP)"))));
  if (["SUBMITTED", "REGISTERED", "RETURNED", "CASE_FILED"].includes(referral.status) && screen.viewer.role !== "ASSESSOR") {
    const files = h("input", { type: "file", multiple: true, id: "attach-files" });
    const progress = h("div", { class: "uploads" });
    section.appendChild(h("form", { class: "inline", onsubmit: async (event: Event) => {
      event.preventDefault();
      const chosen = Array.from(files.files ?? []);
      const bars = chosen.map((file) => progressBar(file.name));
      progress.replaceChildren(...bars.map((bar) => bar.element));
      try {
        await attachFiles(referral.id, chosen, (index, fraction) => bars[index].set(fraction));
        screen.refresh();
      } catch (error) { progress.appendChild(errorBox(error)); }
    } }, field(tr("补充证据", "Add evidence"), files), h("button", { type: "submit" }, tr("上传", "Upload")), progress));
  }
  return section;
}

function actionForms(screen: Screen, referral: any): HTMLElement | null {
  const actions = allowedActions(screen.viewer, referral.status);
  if (!actions.length) return null;
  const message = h("div", { role: "status" });
  const area = h("div", { class: "action-form" });
  const run = async (mutation: string, variables: Record<string, unknown>, next?: (data: any) => void) => {
    try {
      const data = await gql(mutation, variables);
      if (next) next(data);
      else screen.refresh();
    } catch (error) { message.replaceChildren(errorBox(error)); }
  };
  const reasonForm = (action: Action, mutation: string, title: string) => {
    const reason = h("textarea", { id: `${action}-reason`, rows: "3", required: true });
    area.replaceChildren(h("form", { class: "card", onsubmit: (event: Event) => {
      event.preventDefault();
      void run(mutation, { id: referral.id, reason: reason.value.trim() });
    } }, field(tr("理由", "Reason"), reason), h("button", { type: "submit", class: "primary" }, title)));
    reason.focus();
  };
  const buttons: Record<Action, () => HTMLElement> = {
    register: () => h("button", { type: "button", class: "primary", id: "action-register",
      onclick: () => run("mutation($id: ID!) { registerReferral(id: $id) { id } }", { id: referral.id }) }, tr("登记", "Register")),
    return: () => h("button", { type: "button", id: "action-return",
      onclick: () => reasonForm("return", "mutation($id: ID!, $reason: String!) { returnReferral(id: $id, reason: $reason) { id } }",
        tr("退回补充材料", "Return for more material")) }, tr("退回", "Return")),
    decline: () => h("button", { type: "button", id: "action-decline",
      onclick: () => reasonForm("decline", "mutation($id: ID!, $reason: String!) { declineReferral(id: $id, reason: $reason) { id } }",
        tr("不予立案", "Decline")) }, tr("不予立案", "Decline")),
    withdraw: () => h("button", { type: "button", id: "action-withdraw",
      onclick: () => reasonForm("withdraw", "mutation($id: ID!, $reason: String!) { withdrawReferral(id: $id, reason: $reason) { id } }",
        tr("撤回移送", "Withdraw")) }, tr("撤回", "Withdraw")),
    resubmit: () => h("button", { type: "button", class: "primary", id: "action-resubmit", onclick: () => {
      // What the procuratorate asked for is in the history's reason; the edit is based on this version.
      const title = h("input", { type: "text", id: "resubmit-title", value: referral.title, required: true });
      const facts = h("textarea", { id: "resubmit-facts", rows: "6", required: true });
      facts.value = referral.facts;
      area.replaceChildren(h("form", { class: "card", onsubmit: (event: Event) => {
        event.preventDefault();
        void run("mutation($id: ID!, $version: Int!, $input: ResubmitReferralInput!) { resubmitReferral(id: $id, version: $version, input: $input) { id } }",
          { id: referral.id, version: referral.version, input: { title: title.value.trim(), facts: facts.value.trim() } });
      } }, field(tr("标题", "Title"), title), field(tr("线索事实（补充后）", "Facts (completed)"), facts),
      h("button", { type: "submit", class: "primary" }, tr("重新移送", "Send again"))));
      facts.focus();
    } }, tr("补充后重新移送", "Complete and send again")),
    fileCase: () => h("button", { type: "button", class: "primary", id: "action-file-case", onclick: () => {
      const kind = h("select", { id: "case-kind" }, ["ADMINISTRATIVE", "CIVIL", "CRIMINAL_INCIDENTAL_CIVIL"].map((k) => h("option", { value: k }, label(k))));
      area.replaceChildren(h("form", { class: "card", onsubmit: (event: Event) => {
        event.preventDefault();
        void run("mutation($id: ID!, $input: FileCaseInput!) { fileCase(referralId: $id, input: $input) { id } }",
          { id: referral.id, input: { kind: kind.value } }, (data) => screen.go(`case/${data.fileCase.id}`));
      } }, field(tr("案件类型", "Case kind"), kind), h("button", { type: "submit", class: "primary", id: "confirm-file-case" }, tr("确认立案", "File the case"))));
      kind.focus();
    } }, tr("立案", "File a case")),
  };
  return h("section", { class: "actions-panel" }, h("h2", {}, tr("办理", "Actions")),
    h("div", { class: "actions" }, actions.map((action) => buttons[action]())), area, message);
}

export async function referralView(screen: Screen): Promise<void> {
  const referral = (await gql(REFERRAL, { id: screen.params[0] })).referral;
  if (!referral) throw new ApiError(tr("没有该线索", "No such referral"), "NOT_FOUND");
  screen.main.querySelector("h1")!.textContent = `${referral.number ?? tr("线索", "Referral")} · ${referral.title}`;
  const mapBox = h("div", { class: "map small", id: "referral-map" });
  const details = h("dl", { class: "facts" },
    h("dt", {}, tr("状态", "Status")), h("dd", { id: "referral-status" }, label(referral.status),
      referral.case ? [" · ", screen.viewer.role === "PROSECUTOR" ? h("a", { href: `#/case/${referral.case.id}` }, referral.case.number) : referral.case.number,
        ` (${label(referral.case.status)})`] : null),
    referral.outcomeReason ? [h("dt", {}, tr("理由", "Reason")), h("dd", {}, referral.outcomeReason)] : null,
    h("dt", {}, tr("移送机关", "Agency")), h("dd", {}, referral.agency?.name ?? ""),
    h("dt", {}, tr("管辖", "Jurisdiction")), h("dd", {}, referral.jurisdiction.name),
    h("dt", {}, tr("领域", "Domain")), h("dd", {}, domainName(referral.domain)),
    h("dt", {}, tr("线索事实", "Facts")), h("dd", { class: "pre" }, referral.facts),
    h("dt", {}, tr("地址", "Address")), h("dd", {}, referral.address ?? ""),
    h("dt", {}, tr("发现日期", "Found on")), h("dd", {}, referral.foundOn ?? ""),
    h("dt", {}, tr("移送时间", "Submitted")), h("dd", {}, formatDateTime(referral.submittedAt)),
    h("dt", {}, tr("面积", "Area")), h("dd", { id: "referral-area" }, `${referral.areaMu.toFixed(2)} ${tr("亩", "mu")} (${Math.round(referral.areaSquareMeters)} m²)`),
    h("dt", {}, tr("登记期限", "Acknowledge by")), h("dd", {}, deadlineWithExplanation(referral.acknowledgementDeadline)),
    referral.parties.length ? [h("dt", {}, tr("当事人", "Parties")), h("dd", {}, h("ul", {}, referral.parties.map((p: any) =>
      h("li", {}, `${p.name}${p.role ? ` (${p.role})` : ""} ${p.uscc ?? p.idNumber ?? ""}`))))] : null);
  const overlaps = h("section", {}, h("h2", {}, tr("与参考图层重叠", "Overlaps with reference layers")),
    referral.overlaps.length ? h("table", { class: "list" }, h("thead", {}, h("tr", {}, h("th", {}, tr("图层", "Layer")),
      h("th", {}, tr("要素", "Feature")), h("th", {}, tr("重叠面积（亩）", "Overlap (mu)")), h("th", {}, tr("占比", "Share")))),
    h("tbody", {}, referral.overlaps.map((o: any) => h("tr", {}, h("td", {}, o.layer.name), h("td", {}, o.featureName),
      h("td", { class: "num" }, o.areaMu.toFixed(2)), h("td", { class: "num" }, `${(o.shareOfReferral * 100).toFixed(1)}%`)))))
      : h("p", {}, tr("无重叠。", "None.")));
  screen.main.append(h("div", { class: "columns" }, h("div", { class: "col" }, details, actionForms(screen, referral)),
    h("div", { class: "col" }, mapBox, overlaps)), evidenceGallery(screen, referral), historyList(referral.history));
  const map = createMap(mapBox, { layers: ["jurisdictions", "protected_areas", "evidence"], name: "referral" });
  showGeometry(map, "referral-geometry", referral.geometry);
}


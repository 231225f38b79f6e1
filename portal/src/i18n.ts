// Chinese first, English on request: each text is written as its pair where it is used, so the
// two never drift apart; the choice is kept in localStorage.
export type Language = "zh" | "en";
const LANGUAGE_KEY = "pil.language";

export function language(): Language {
  return localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "zh";
}

export function setLanguage(value: Language): void {
  localStorage.setItem(LANGUAGE_KEY, value);
  document.documentElement.lang = value === "zh" ? "zh-CN" : "en";
}

export function tr(zh: string, en: string): string {
  return language() === "zh" ? zh : en;
}

const STATUS: Record<string, [string, string]> = {
  SUBMITTED: ["已移送", "Submitted"],
  WITHDRAWN: ["已撤回", "Withdrawn"],
  REGISTERED: ["已登记", "Registered"],
  RETURNED: ["已退回", "Returned"],
  DECLINED: ["不予立案", "Declined"],
  CASE_FILED: ["已立案", "Case filed"],
  FILED: ["已立案", "Filed"],
  CONSULTATION: ["诉前磋商", "Consultation"],
  RECOMMENDATION_ISSUED: ["已发检察建议", "Recommendation issued"],
  FOLLOW_UP: ["跟进监督", "Follow-up"],
  ANNOUNCED: ["公告中", "Announced"],
  LITIGATION: ["诉讼中", "Litigation"],
  CLOSED: ["已结案", "Closed"],
  ISSUED: ["已制发", "Issued"],
  SERVED: ["已送达", "Served"],
  REPLIED: ["已回复", "Replied"],
  CHECKED: ["已跟进核查", "Checked"],
  INTACT: ["完整", "Intact"],
  MISSING: ["缺失", "Missing"],
  ALTERED: ["被篡改", "Altered"],
  SUPERSEDED: ["已替换", "Superseded"],
  ADMINISTRATIVE: ["行政公益诉讼", "Administrative"],
  CIVIL: ["民事公益诉讼", "Civil"],
  CRIMINAL_INCIDENTAL_CIVIL: ["刑事附带民事公益诉讼", "Criminal with incidental civil claim"],
  AGENCY_LIAISON: ["行政机关联络员", "Agency liaison"],
  PROSECUTOR: ["检察官", "Prosecutor"],
  ASSESSOR: ["考核办", "Assessment office"],
  ADMIN: ["管理员", "Administrator"],
  PHOTO: ["照片", "Photo"],
  VIDEO: ["视频", "Video"],
  AUDIO: ["音频", "Audio"],
  DOCUMENT: ["文档", "Document"],
  SPREADSHEET: ["表格", "Spreadsheet"],
  GEODATA: ["地理数据", "Geodata"],
};

/** An enum value of the API in the reader's language (the value itself when it has no name here). */
export function label(value: string | null | undefined): string {
  if (!value) return "";
  const pair = STATUS[value];
  return pair ? tr(pair[0], pair[1]) : value;
}

export function domainName(domain: { nameZh: string; nameEn: string } | null | undefined): string {
  if (!domain) return "";
  return language() === "zh" ? domain.nameZh : domain.nameEn;
}

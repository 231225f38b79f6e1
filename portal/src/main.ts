import "./style.css";
import { ApiError, gql, setToken, token } from "./api";
import { clear, errorBox, field, formatDateTime, h } from "./dom";
import { label, language, setLanguage, tr } from "./i18n";
import { loadPortalConfig } from "./map";
import { assessmentView } from "./assessor";
import { myReferralsView, recommendationsView, recommendationView, submitView } from "./liaison";
import { caseView, mapView, queueView } from "./prosecutor";
import { referralView } from "./referral";
import { enforcementView } from "./enforcement";

export interface Viewer {
  username: string;
  role: "AGENCY_LIAISON" | "PROSECUTOR" | "ASSESSOR" | "ADMIN";
  user: { displayName: string } | null;
  agency: { id: string; name: string; jurisdiction: { code: string; name: string; boundary: GeoJSON.Geometry } } | null;
  jurisdiction: { code: string; name: string; boundary: GeoJSON.Geometry } | null;
}

export interface Screen {
  viewer: Viewer;
  main: HTMLElement;
  params: string[];
  go: (path: string) => void;
  refresh: () => void;
}

type View = (screen: Screen) => Promise<void> | void;

interface Route { path: string; title: () => string; view: View; nav: boolean }

function routesFor(role: Viewer["role"]): Route[] {
  const referral: Route = { path: "referral", title: () => tr("线索详情", "Referral"), view: referralView, nav: false };
  if (role === "AGENCY_LIAISON") {
    return [
      { path: "submit", title: () => tr("移送线索", "Submit a referral"), view: submitView, nav: true },
      { path: "mine", title: () => tr("我的移送", "My referrals"), view: myReferralsView, nav: true },
      { path: "recommendations", title: () => tr("检察建议", "Recommendations"), view: recommendationsView, nav: true },
      { path: "enforcement", title: () => tr("执法办案信息", "Enforcement cases"), view: enforcementView, nav: true },
      { path: "recommendation", title: () => tr("检察建议", "Recommendation"), view: recommendationView, nav: false },
      referral,
    ];
  }
  if (role === "PROSECUTOR") {
    return [
      { path: "queue", title: () => tr("审查队列", "Review queue"), view: queueView, nav: true },
      { path: "map", title: () => tr("线索地图", "Map"), view: mapView, nav: true },
      { path: "enforcement", title: () => tr("执法办案信息", "Enforcement cases"), view: enforcementView, nav: true },
      { path: "case", title: () => tr("案件", "Case"), view: caseView, nav: false },
      { path: "recommendation", title: () => tr("检察建议", "Recommendation"), view: recommendationView, nav: false },
      referral,
    ];
  }
  if (role === "ASSESSOR") {
    return [{ path: "assessment", title: () => tr("考核评分", "Assessment"), view: assessmentView, nav: true },
      { path: "enforcement", title: () => tr("执法办案信息", "Enforcement cases"), view: enforcementView, nav: true }];
  }
  return [{ path: "queue", title: () => tr("线索列表", "Referrals"), view: queueView, nav: true }, referral];
}

const root = document.getElementById("app")!;
let viewer: Viewer | null = null;

const VIEWER_QUERY = `{ me { username role user { displayName }
  agency { id name jurisdiction { code name boundary } } jurisdiction { code name boundary } } }`;

async function start(): Promise<void> {
  setLanguage(language());
  await loadPortalConfig();
  window.addEventListener("hashchange", () => void render());
  if (token()) {
    try {
      viewer = (await gql<{ me: Viewer | null }>(VIEWER_QUERY)).me;
    } catch {
      viewer = null;
    }
    if (!viewer) setToken(null);
  }
  await render();
}

function languageSwitch(): HTMLElement {
  const other = language() === "zh" ? "en" : "zh";
  return h("button", { type: "button", class: "link", id: "language-switch", lang: other === "zh" ? "zh-CN" : "en",
    onclick: () => { setLanguage(other); void render(); } }, other === "zh" ? "中文" : "English");
}

async function render(): Promise<void> {
  document.title = tr("公益诉讼线索移送平台", "Public-interest-litigation referral platform");
  clear(root);
  if (!viewer) {
    root.appendChild(loginScreen());
    return;
  }
  const routes = routesFor(viewer.role);
  const [path, ...params] = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const route = routes.find((candidate) => candidate.path === path) ?? routes[0];
  const main = h("main", { id: "main", tabindex: "-1" });
  root.append(header(viewer, routes, route), main);
  const screen: Screen = { viewer, main, params: route.path === path ? params.map(decodeURIComponent) : [],
    go: (target) => { location.hash = `#/${target}`; }, refresh: () => void render() };
  main.appendChild(h("h1", {}, route.title()));
  try {
    await route.view(screen);
  } catch (error) {
    main.appendChild(errorBox(error));
  }
}

function header(current: Viewer, routes: Route[], active: Route): HTMLElement {
  const who = current.user?.displayName ?? current.username;
  const unit = current.agency?.name ?? current.jurisdiction?.name ?? "";
  return h("header", { class: "top" },
    h("a", { class: "skip", href: "#main", onclick: (event: Event) => { event.preventDefault(); document.getElementById("main")?.focus(); } },
      tr("跳到正文", "Skip to content")),
    h("div", { class: "brand" }, tr("公益诉讼线索移送平台", "PIL referral platform")),
    h("nav", { "aria-label": tr("主导航", "Main") },
      routes.filter((route) => route.nav).map((route) =>
        h("a", { href: `#/${route.path}`, "aria-current": route === active ? "page" : undefined }, route.title()))),
    h("div", { class: "session" },
      notificationBell(),
      h("span", { class: "who" }, `${who} · ${label(current.role)}${unit ? ` · ${unit}` : ""}`),
      languageSwitch(),
      h("button", { type: "button", class: "link", onclick: () => { setToken(null); viewer = null; location.hash = ""; void render(); } },
        tr("退出", "Sign out"))));
}

const NOTIFICATIONS = `{ notifications(first: 20) { unreadCount edges { node { id kind subjectKind subjectId message createdAt readAt } } } }`;

function notificationBell(): HTMLElement {
  const count = h("span", { class: "badge", id: "unread-count" }, "0");
  const panel = h("div", { class: "panel", id: "notifications", hidden: true, role: "region", "aria-label": tr("通知", "Notifications") });
  const button = h("button", { type: "button", class: "bell", "aria-expanded": "false", "aria-controls": "notifications",
    onclick: () => {
      panel.hidden = !panel.hidden;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    } }, tr("通知", "Notifications"), " ", count);
  const load = async () => {
    const data = (await gql(NOTIFICATIONS)).notifications;
    count.textContent = String(data.unreadCount);
    clear(panel);
    if (!data.edges.length) panel.appendChild(h("p", {}, tr("暂无通知", "No notifications")));
    panel.appendChild(h("ul", {}, data.edges.map(({ node }: { node: any }) =>
      h("li", { class: node.readAt ? "read" : "unread" },
        h("a", { href: subjectLink(node.subjectKind, node.subjectId), onclick: () => {
          panel.hidden = true;
          if (!node.readAt) void gql("mutation($id: ID!) { markNotificationRead(id: $id) { id } }", { id: node.id }).then(load);
        } }, node.message),
        h("small", {}, ` ${formatDateTime(node.createdAt)}`)))));
  };
  load().catch(() => { count.textContent = "?"; });
  return h("div", { class: "notify" }, button, panel);
}

function subjectLink(kind: string, id: string): string {
  const target = kind.toLowerCase();
  if (target.includes("recommendation")) return `#/recommendation/${id}`;
  if (target.includes("case")) return `#/case/${id}`;
  if (target.includes("referral")) return `#/referral/${id}`;
  return "#/";
}

function loginScreen(): HTMLElement {
  const username = h("input", { type: "text", autocomplete: "username", required: true, id: "login-username" });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true, id: "login-password" });
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "login card", "aria-labelledby": "login-title", onsubmit: async (event: Event) => {
    event.preventDefault();
    message.hidden = true;
    try {
      const result = await gql(`mutation($username: String!, $password: String!) { login(username: $username, password: $password) { token } }`,
        { username: username.value, password: password.value });
      setToken(result.login.token);
      viewer = (await gql<{ me: Viewer }>(VIEWER_QUERY)).me;
      location.hash = "";
      await render();
    } catch (error) {
      message.textContent = error instanceof ApiError ? error.message : String(error);
      message.hidden = false;
    }
  } },
  h("h1", { id: "login-title" }, tr("公益诉讼线索移送平台", "Public-interest-litigation referral platform")),
  h("p", {}, tr("请使用本单位账号登录。", "Sign in with your unit's account.")),
  field(tr("用户名", "Username"), username),
  field(tr("密码", "Password"), password),
  message,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, tr("登录", "Sign in")), languageSwitch()));
  setTimeout(() => username.focus(), 0);
  return h("div", { class: "login-page" }, form);
}

void start();

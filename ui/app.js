// SSE Tray's window. Everything the server sent is untrusted: it only ever
// reaches the page as text (textContent) or as a data:image/ URL that the
// Rust side produced; links open through the open_link command.

import { listen, errorText } from "./api.js";
import { afterNextFrame, byId } from "./dom.js";
import { createHistory } from "./history.js";
import { createLogin } from "./login.js";
import { createSettings } from "./settings.js";
import { createStatus } from "./status.js";

performance.mark("ssetray:modules-ready");

const VIEWS = ["history", "login", "settings", "status"];
const DEMO_DISMISSED = "ssetray.demo-dismissed";
const TICK_MS = 15_000;
const TRAY_CHECK_MS = 5_000;

// ---- messages ------------------------------------------------------------------

const messages = byId("messages");
let messageTimer = null;

/** Say something in the polite live region (and show it briefly). */
function announce(text, error = false) {
  clearTimeout(messageTimer);
  messages.textContent = "";
  messages.classList.toggle("error", error);
  // Set after a tick, so that the same message is announced again.
  setTimeout(() => {
    messages.textContent = text;
  }, 30);
  messageTimer = setTimeout(() => {
    messages.textContent = "";
  }, error ? 10_000 : 5_000);
}

// ---- unread badge ----------------------------------------------------------------

const unreadCount = byId("unread-count");
const unreadBadge = byId("unread-badge");

function setUnread(value) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    return;
  }
  const text = String(Math.floor(value));
  if (unreadCount.textContent !== text) {
    unreadCount.textContent = text;
  }
  unreadBadge.classList.toggle("zero", value === 0);
  unreadBadge.setAttribute("title", value === 1 ? "1 unread message" : `${text} unread messages`);
}

// ---- views -----------------------------------------------------------------------

// The tray process's status carries the store's count, and it is the truth:
// a history page read a moment earlier may be older, so it only sets the
// count until a status has come.
let liveUnread = false;

const history = createHistory({
  onUnread: (value) => {
    if (!liveUnread || value === 0) {
      setUnread(value);
    }
  },
  onTypes: (types) => settings.setKnownTypes(types),
  announce,
});
// The history is what a user opens the window for: ask for it before the
// other views are built, and subscribe to live events beside it.
const firstPage = history.reload();
const showPage = () => document.documentElement.classList.add("ready");
firstPage.finally(showPage);
setTimeout(showPage, 1000);
const listening = Promise.all([listen("ssetray://event", onEvent), listen("ssetray://tray-missing", showTrayMissing)]);

const status = createStatus({ announce });
const login = createLogin();
const settings = createSettings({
  announce,
  onSaved() {
    // The server, or the demo, may have changed.
    setTimeout(refreshStatus, 500);
  },
  refreshStatus,
});

let currentView = null;
/** Each view keeps its own scroll position (they share one scroller). */
const scrollPositions = new Map();
const scroller = byId("main");

function tabOf(name) {
  return byId(`tab-${name}`);
}

function showView(name, { focusTab = false, updateHash = true } = {}) {
  if (!VIEWS.includes(name)) {
    name = "history";
  }
  const changed = name !== currentView;
  if (changed && currentView !== null) {
    scrollPositions.set(currentView, scroller.scrollTop);
  }
  currentView = name;
  for (const view of VIEWS) {
    const active = view === name;
    const tab = tabOf(view);
    tab.setAttribute("aria-selected", active ? "true" : "false");
    tab.tabIndex = active ? 0 : -1;
    byId(`view-${view}`).hidden = !active;
  }
  if (focusTab) {
    tabOf(name).focus();
  }
  if (updateHash && location.hash !== `#${name}`) {
    window.history.replaceState(null, "", `#${name}`);
  }
  login.setActive(name === "login");
  if (!changed) {
    return;
  }
  scroller.scrollTop = scrollPositions.get(name) ?? 0;
  switch (name) {
    case "history":
      requestAnimationFrame(history.maybeLoadMore);
      break;
    case "login":
      login.refresh();
      break;
    case "settings":
      settings.load();
      break;
    case "status":
      refreshStatus();
      break;
  }
}

function viewFromHash() {
  const name = location.hash.replace(/^#/, "");
  return VIEWS.includes(name) ? name : "history";
}

const tablist = byId("tablist");
tablist.addEventListener("click", (event) => {
  const tab = event.target instanceof Element ? event.target.closest("[role=tab]") : null;
  if (tab) {
    showView(tab.id.replace(/^tab-/, ""));
  }
});
tablist.addEventListener("keydown", (event) => {
  const index = VIEWS.indexOf(currentView);
  let next = null;
  switch (event.key) {
    case "ArrowRight":
    case "ArrowDown":
      next = VIEWS[(index + 1) % VIEWS.length];
      break;
    case "ArrowLeft":
    case "ArrowUp":
      next = VIEWS[(index - 1 + VIEWS.length) % VIEWS.length];
      break;
    case "Home":
      next = VIEWS[0];
      break;
    case "End":
      next = VIEWS[VIEWS.length - 1];
      break;
    default:
      return;
  }
  event.preventDefault();
  showView(next, { focusTab: true });
});
window.addEventListener("hashchange", () => showView(viewFromHash(), { updateHash: false }));

// ---- status, first run, tray banner ------------------------------------------------

const firstRun = byId("first-run");
const trayMissing = byId("tray-missing");
let trayCheck = null;

function demoDismissed() {
  try {
    return localStorage.getItem(DEMO_DISMISSED) === "1";
  } catch {
    return false;
  }
}

function applyStatus(value) {
  if (!value || typeof value !== "object") {
    return;
  }
  status.render(value);
  settings.showPause(value);
  settings.showCertificateOffer(value);
  liveUnread = true;
  setUnread(value.unread);
  firstRun.hidden = !(value.demo === true && !demoDismissed());
}

async function refreshStatus() {
  try {
    const value = await status.refresh();
    applyStatus(value);
    hideTrayMissing();
    return true;
  } catch {
    settings.showPause(null);
    return false;
  }
}

// After live events, ask the tray process for its status once things settle:
// its unread count is the truth even if a live message was missed.
let statusTimer = null;
function refreshStatusSoon() {
  if (statusTimer === null) {
    statusTimer = setTimeout(() => {
      statusTimer = null;
      refreshStatus();
    }, 300);
  }
}

byId("first-run-set-server").addEventListener("click", () => {
  showView("settings");
  settings.focusServerUrl();
});
byId("first-run-keep-demo").addEventListener("click", () => {
  try {
    localStorage.setItem(DEMO_DISMISSED, "1");
  } catch {
    // Without storage it comes back next time; that is all.
  }
  firstRun.hidden = true;
  byId("search").focus();
});

function showTrayMissing() {
  if (trayMissing.hidden) {
    trayMissing.hidden = false;
    announce("SSE Tray is not running: live updates are off.", true);
  }
  if (trayCheck === null) {
    // Look for it again; the first answer ends the banner.
    trayCheck = setInterval(async () => {
      if (await refreshStatus()) {
        history.reload();
      }
    }, TRAY_CHECK_MS);
  }
}

function hideTrayMissing() {
  trayMissing.hidden = true;
  if (trayCheck !== null) {
    clearInterval(trayCheck);
    trayCheck = null;
  }
}

// ---- live events ---------------------------------------------------------------------

function onEngine(event) {
  if (!event || typeof event !== "object") {
    return;
  }
  switch (event.type) {
    case "stored": {
      const stored = event.value;
      history.onStored(stored);
      status.noteStored();
      refreshStatusSoon();
      const kind = stored?.entry?.kind ?? stored?.event?.kind;
      if (kind === "login") {
        login.refreshSoon();
      }
      break;
    }
    case "state":
      status.renderState(event.value);
      break;
  }
}

/** The pending catch-up after the tray process said this window lagged. */
let catchUp = undefined;

function onEvent(message) {
  const payload = message?.payload;
  if (!payload || typeof payload !== "object") {
    return;
  }
  if (!trayMissing.hidden) {
    // Events flow again: the tray process is back.
    hideTrayMissing();
    history.reload();
  }
  switch (payload.type) {
    case "engine":
      onEngine(payload.value);
      break;
    case "status":
      applyStatus(payload.value);
      break;
    case "show_view":
      if (VIEWS.includes(payload.value)) {
        showView(payload.value);
      }
      break;
    case "lagged":
      // The tray process dropped live events this window was too slow to
      // take: read everything afresh rather than show a gap, once the
      // flood that caused it has calmed, not once per lag.
      clearTimeout(catchUp);
      catchUp = setTimeout(() => {
        history.reload();
        refreshStatus();
        login.refreshSoon();
      }, 500);
      break;
  }
}

// ---- start -----------------------------------------------------------------------------

setInterval(() => {
  history.tick();
  status.tick();
  settings.showPause(status.current);
}, TICK_MS);

async function start() {
  showView(viewFromHash(), { updateHash: false });
  try {
    await listening;
    // Whatever was stored between the first page and the subscription.
    history.catchUp();
  } catch (error) {
    announce(`Live updates are off: ${errorText(error)}`, true);
  }
  // The other views fill in once the first rows are drawn.
  await firstPage;
  await afterNextFrame();
  if (currentView !== "login") {
    login.refresh();
  }
  if (currentView !== "settings") {
    settings.load();
  }
  if (currentView !== "status") {
    // When the tray process is not running, it says so itself (tray-missing).
    refreshStatus();
  }
}

start();

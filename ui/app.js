// SSE Tray's window. Everything the server sent is untrusted: it only ever
// reaches the page as text (textContent) or as a data:image/png URL that the
// Rust side produced; links open through the open_link command.

import { invoke, listen, errorText } from "./api.js";
import { afterNextFrame, byId } from "./dom.js";
import { schemeOf, unreadTitle } from "./format.js";
import { createHistory } from "./history.js";
import { escapeAction, isEditing, shortcutOf } from "./keys.js";
import { liveDispatch } from "./live.js";
import { createLogin } from "./login.js";
import { createMessages } from "./messages.js";
import { createSettings } from "./settings.js";
import { createStatus } from "./status.js";
import { subscriptionLines } from "./subscriptions.js";
import { VIEWS, viewAfterKey, viewFromHash } from "./tabs.js";

performance.mark("ssetray:modules-ready");

const DEMO_DISMISSED = "ssetray.demo-dismissed";
const TICK_MS = 15_000;
const TRAY_CHECK_MS = 5_000;
const REOPEN = "Close this window and open it again from the tray icon. To see the log, run “ssetray window” in a terminal.";

const messages = createMessages({ focusAway: () => tabOf(currentView).focus() });

// ---- unread badge ----------------------------------------------------------------

const unreadCount = byId("unread-count");
const unreadBadge = byId("unread-badge");

function setUnread(value) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    return;
  }
  const count = Math.floor(value);
  const text = String(count);
  if (unreadCount.textContent !== text) {
    unreadCount.textContent = text;
  }
  unreadBadge.classList.toggle("zero", count === 0);
  unreadBadge.setAttribute("title", unreadTitle(count));
  history.setUnread(count);
}

// ---- appearance --------------------------------------------------------------------

/** The desktop's light or dark style; without one, style.css follows the webview's preference. */
function applyScheme(value) {
  const scheme = schemeOf(value);
  if (scheme === null) {
    delete document.documentElement.dataset.scheme;
  } else {
    document.documentElement.dataset.scheme = scheme;
  }
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
  onSubscriptions: (counts) => settings.setStoredCounts(counts),
  messages,
});
// The history is what a user opens the window for: ask for it before the
// other views are built, and subscribe to live events beside it.
const firstPage = history.reload();
// An app without the command leaves the style to the webview's preference.
const appearance = invoke("appearance").then(applyScheme, () => {});
Promise.allSettled([firstPage, appearance]).then(showPage);
setTimeout(showPage, 1000);
const listening = Promise.all([
  listen("ssetray://event", onEvent),
  listen("ssetray://tray-missing", showTrayMissing),
  listen("ssetray://appearance", (event) => applyScheme(event?.payload)),
]);

const status = createStatus({ messages });
const login = createLogin();
const settings = createSettings({
  messages,
  onSaved() {
    // The servers, or the demo, may have changed.
    setTimeout(refreshStatus, 500);
  },
  onUnsubscribed() {
    // Its events are gone, or kept without a subscription; its line and its login too.
    history.reload();
    refreshStatusSoon();
    login.refreshSoon();
  },
  refreshStatus,
});

/**
 * Shows the page (drawn once, with its rows) and tells boot.js the window
 * started: from here on a failure is said in the error bar, and the window
 * stays usable, rather than boot.js's error page taking its place.
 */
function showPage() {
  const root = document.documentElement;
  if (root.classList.contains("ready")) {
    return;
  }
  root.classList.add("ready");
  window.addEventListener("error", (event) => reportFailure(event.error ?? event.message));
  window.addEventListener("unhandledrejection", (event) => reportFailure(event.reason));
}

function reportFailure(reason) {
  messages.error(`Something went wrong in this window: ${errorText(reason)}`, REOPEN);
}

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
  if (changed) {
    scroller.scrollTop = scrollPositions.get(name) ?? 0;
    viewShown(name);
  }
}

/** A view was just shown: it reads what it shows afresh. */
function viewShown(name) {
  switch (name) {
    case "history":
      requestAnimationFrame(() => history.maybeLoadMore());
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

const tablist = byId("tablist");
tablist.addEventListener("click", (event) => {
  const tab = event.target instanceof Element ? event.target.closest("[role=tab]") : null;
  if (tab) {
    showView(tab.id.replace(/^tab-/, ""));
  }
});
tablist.addEventListener("keydown", (event) => {
  const next = viewAfterKey(event.key, currentView);
  if (next !== null) {
    event.preventDefault();
    showView(next, { focusTab: true });
  }
});
window.addEventListener("hashchange", () => showView(viewFromHash(location.hash), { updateHash: false }));

// ---- keyboard shortcuts ------------------------------------------------------------

async function closeWindow() {
  try {
    await invoke("close_window");
  } catch (error) {
    messages.error(`Could not close the window: ${errorText(error)}`, "Close it with its title bar's close button.");
  }
}

/** The question open in Settings (Remove a subscription), when that view shows. */
function settingsQuestionOpen() {
  return currentView === "settings" && settings.questionOpen;
}

function onEscape(editing) {
  const action = escapeAction({
    questionOpen: history.questionOpen || settingsQuestionOpen(),
    errorShown: messages.errorShown,
    editing,
    unsavedSettings: settings.hasUnsavedChanges(),
  });
  switch (action) {
    case "close-question":
      if (settingsQuestionOpen()) {
        settings.closeQuestion();
      } else {
        history.closeQuestion();
      }
      return true;
    case "dismiss-error":
      messages.dismiss();
      return true;
    case "unsaved":
      messages.say("The settings have unsaved changes: save or discard them first (Ctrl+W closes without saving).");
      return true;
    case "close-window":
      closeWindow();
      return true;
    default:
      return false;
  }
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.isComposing) {
    return;
  }
  const editing = isEditing(document.activeElement);
  const shortcut = shortcutOf({ key: event.key, ctrlKey: event.ctrlKey, metaKey: event.metaKey, altKey: event.altKey, editing });
  let handled = false;
  if (shortcut === "search") {
    showView("history");
    history.focusSearch();
    handled = true;
  } else if (shortcut === "close") {
    closeWindow();
    handled = true;
  } else if (shortcut === "escape") {
    handled = onEscape(editing);
  }
  if (handled) {
    event.preventDefault();
  }
});

// ---- status, first run, tray banner ------------------------------------------------

const firstRun = byId("first-run");
const trayMissing = byId("tray-missing");
const startTrayButton = byId("start-tray");
let trayCheck = null;

function demoDismissed() {
  try {
    return localStorage.getItem(DEMO_DISMISSED) === "1";
  } catch {
    return false;
  }
}

/**
 * The pause, in Settings and Status, as of now: the tray process's words,
 * and "on" again once its end has passed (the tray process sends a status
 * then too).
 */
function showPause() {
  settings.showPause(status.current);
  status.renderPause();
}

function applyStatus(value) {
  if (!value || typeof value !== "object") {
    return;
  }
  status.render(value);
  showPause();
  settings.showCertificateOffer(value);
  if (Array.isArray(value.subscriptions)) {
    history.setSubscriptionNames(subscriptionLines(value).map((line) => line.name));
  }
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

/** The tray process answers again: read what it wrote meanwhile. */
async function trayBack() {
  if (await refreshStatus()) {
    history.reload();
    login.refreshSoon();
  }
}

function showTrayMissing() {
  trayMissing.hidden = false;
  // What the header said is the gone tray process's last word.
  status.renderNotRunning();
  if (trayCheck === null) {
    // Look for it again; the first answer ends the banner.
    trayCheck = setInterval(trayBack, TRAY_CHECK_MS);
  }
}

function hideTrayMissing() {
  trayMissing.hidden = true;
  if (trayCheck !== null) {
    clearInterval(trayCheck);
    trayCheck = null;
  }
}

startTrayButton.addEventListener("click", async () => {
  startTrayButton.disabled = true;
  startTrayButton.textContent = "Starting…";
  try {
    await invoke("start_tray");
    messages.clearError("start-tray");
    // Started: the banner goes when its status answers, now or at the next look.
    await trayBack();
  } catch (error) {
    messages.error(`Could not start SSE Tray: ${errorText(error)}`, "To see why, run “ssetray” in a terminal.", {
      key: "start-tray",
    });
  } finally {
    startTrayButton.disabled = false;
    startTrayButton.textContent = "Start SSE Tray";
  }
});

// ---- live events ---------------------------------------------------------------------

/** A stored event, as the EntryView the Rust side made of it. */
function onStored(view) {
  history.onStored(view);
  status.noteStored(typeof view?.subscription === "string" ? view.subscription : null);
  refreshStatusSoon();
  if (view?.kind === "login") {
    login.refreshSoon();
  }
}

/** The pending catch-up after the tray process said this window lagged. */
let catchUp = undefined;

/**
 * The tray process dropped live events this window was too slow to take:
 * read everything afresh rather than show a gap, once the flood that
 * caused it has calmed, not once per lag.
 */
function onLagged() {
  clearTimeout(catchUp);
  catchUp = setTimeout(() => {
    history.reload();
    refreshStatus();
    login.refreshSoon();
  }, 500);
}

/** What each live event does: one handler per WindowEvent variant (see live.js). */
const dispatchLive = liveDispatch({
  stored: onStored,
  state(value) {
    // {subscription, state}: that subscription's dot now; the status sent next has the words.
    status.renderLiveState(value);
    refreshStatusSoon();
  },
  login_changed: () => login.refreshSoon(),
  status: applyStatus,
  show_view(view) {
    if (VIEWS.includes(view)) {
      showView(view);
    }
  },
  lagged: onLagged,
});

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
  dispatchLive(payload);
}

// ---- start -----------------------------------------------------------------------------

setInterval(() => {
  history.tick();
  status.tick();
  showPause();
}, TICK_MS);

async function start() {
  showView(viewFromHash(location.hash), { updateHash: false });
  try {
    await listening;
    // Whatever was stored between the first page and the subscription.
    history.catchUp();
  } catch (error) {
    messages.error(`Live updates are off: ${errorText(error)}`, REOPEN);
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

// The History view: newest first, filters, paging, live inserts, row actions.

import { invoke, errorText } from "./api.js";
import { afterNextFrame, byId, debounce, el, refreshTimes, setTime } from "./dom.js";

/** Older entries come in pages of this many as the user scrolls down. */
const PAGE = 100;
/** No history row is shorter than this (px): enough rows to fill the window are this many per height. */
const MIN_ROW_HEIGHT = 60;
/** Rows kept in the page while the user is near the top; older ones are paged in again. */
const MAX_ROWS = 1000;
/** Start loading the next page this close to the bottom (px). */
const NEAR_BOTTOM = 400;
/** What a history row shows at most (the Rust side trims the same way). */
const MAX_TEXT = 4000;

/**
 * Marks for the window benchmark (the Performance API's timeline), each set
 * once: when the first history page was asked for, answered, and in the page.
 */
function marked(name) {
  return performance.getEntriesByName(name, "mark").length > 0;
}

function markOnce(name) {
  if (!marked(name)) {
    performance.mark(name);
  }
}

function markFirstRows(count) {
  if (count > 0 && !marked("ssetray:first-rows")) {
    performance.mark("ssetray:first-rows");
    afterNextFrame().then(() => markOnce("ssetray:first-rows-drawn"));
  }
}

/**
 * For the window benchmark: the newest reload (a search, a filter), from
 * asking the store to its rows drawn.
 */
async function measureReload(asked) {
  await afterNextFrame();
  performance.clearMeasures("ssetray:reload");
  performance.measure("ssetray:reload", { start: asked, end: performance.now() });
}

const KNOWN_KINDS = new Set(["message", "notification", "login", "server_closed"]);

/**
 * @param {object} hooks
 * @param {(n: number) => void} hooks.onUnread  the unread count the store reported
 * @param {(types: string[]) => void} hooks.onTypes  the event types the store knows
 * @param {(text: string, error?: boolean) => void} hooks.announce
 */
export function createHistory({ onUnread, onTypes, announce }) {
  const scroller = byId("main");
  const list = byId("history-list");
  const empty = byId("history-empty");
  const more = byId("history-more");
  const search = byId("search");
  const typeFilter = byId("type-filter");
  const unreadOnly = byId("unread-only");
  const markAllButton = byId("mark-all-read");
  const clearButton = byId("clear-all");
  const confirmBox = byId("clear-confirm");
  const confirmYes = byId("clear-confirm-yes");
  const confirmNo = byId("clear-confirm-no");

  /** id → entry shown */
  const shown = new Map();
  let types = [];
  let hasMore = false;
  let loadFailed = false;
  /** Bumped by every reload: answers to older requests are dropped. */
  let generation = 0;
  /** The request in flight (a token), or null. */
  let busy = null;
  let nextToken = 1;
  /** The token of the reload in flight, or null. */
  let reloading = null;
  /** Live entries that arrived while a reload was running. */
  let arrivedDuringReload = [];
  /** Live entries waiting to be shown: a burst is laid out once, not once per event. */
  let liveQueue = [];
  let liveTimer = null;

  function searchText() {
    const text = search.value.trim();
    return text === "" ? null : text;
  }

  function query(beforeId, limit = PAGE) {
    return {
      query: {
        before_id: beforeId,
        limit,
        unread_only: unreadOnly.checked,
        event_type: typeFilter.value === "" ? null : typeFilter.value,
        search: searchText(),
      },
    };
  }

  function filtersActive() {
    return unreadOnly.checked || typeFilter.value !== "" || searchText() !== null;
  }

  // ---- entries -------------------------------------------------------------

  /** A history entry in a known shape, or null when it lacks an id. */
  function normalize(raw, event) {
    if (!raw || typeof raw !== "object" || !Number.isSafeInteger(raw.id)) {
      return null;
    }
    const entry = {
      id: raw.id,
      event_type: typeof raw.event_type === "string" && raw.event_type !== "" ? raw.event_type : "message",
      kind: typeof raw.kind === "string" ? raw.kind : "message",
      received_at_ms: typeof raw.received_at_ms === "number" ? raw.received_at_ms : null,
      read: raw.read === true,
      unread_weight: typeof raw.unread_weight === "number" ? raw.unread_weight : 0,
      title: typeof raw.title === "string" && raw.title.trim() !== "" ? raw.title : null,
      text: typeof raw.text === "string" ? raw.text : null,
      url: typeof raw.url === "string" ? raw.url : null,
    };
    if (entry.text === null) {
      // A live entry is the stored row without the derived fields: derive
      // them from the interpreted event, as the Rust side does for rows.
      const derived = describe(event, raw);
      entry.title = entry.title ?? derived.title;
      entry.text = derived.text;
      entry.url = entry.url ?? derived.url;
    }
    if (entry.text.length > MAX_TEXT) {
      entry.text = entry.text.slice(0, MAX_TEXT) + "…";
    }
    if (entry.url !== null && !isWebLink(entry.url)) {
      entry.url = null;
    }
    return entry;
  }

  function describe(event, raw) {
    const none = { title: null, text: typeof raw.data === "string" ? raw.data : "", url: null };
    if (!event || typeof event !== "object") {
      return none;
    }
    switch (event.kind) {
      case "message":
        return {
          title: typeof event.title === "string" && event.title.trim() !== "" ? event.title : null,
          text: typeof event.text === "string" ? event.text : none.text,
          url: typeof event.url === "string" ? event.url : null,
        };
      case "notification": {
        const count = typeof event.count === "number" ? event.count : 0;
        return { title: null, text: count === 1 ? "1 new message" : `${count} new messages`, url: null };
      }
      case "login": {
        const texts = new Map([
          ["scan_qr_code", "Login QR code ready"],
          ["confirm_login", "QR code scanned: confirm on the phone"],
          ["logged_out", "Logged out"],
        ]);
        let text = texts.get(event.step) ?? "Login";
        if (event.step === "logged_in") {
          const name = event.user && typeof event.user.name === "string" ? event.user.name : "unknown user";
          text = `Logged in as ${name}`;
        }
        return { title: null, text, url: null };
      }
      case "server_closed":
        return { title: null, text: "The server closed the stream", url: null };
      default:
        return none;
    }
  }

  function isWebLink(url) {
    // http(s) with a host and no user info: "https://bank.example@evil.example/"
    // reads as one host and leads to another (the Rust side refuses it too).
    return /^https?:\/\/[^\s@\/?#]+([\/?#][^\s]*)?$/i.test(url);
  }

  function rowFor(id) {
    return list.querySelector(`li.entry[data-id="${id}"]`);
  }

  function render(entry) {
    const li = el("li", { className: "entry", dataset: { id: entry.id } });
    const kind = KNOWN_KINDS.has(entry.kind) ? entry.kind : "message";
    li.classList.add(`kind-${kind}`);
    if (entry.url !== null) {
      li.classList.add("has-link");
      li.title = `Open ${entry.url}`;
    }

    const textId = `entry-text-${entry.id}`;
    const dot = el("span", { className: "unread-dot", attrs: { role: "img", "aria-label": "unread" } });
    const type = el("span", { className: "entry-type", text: entry.event_type, attrs: { title: `Event type: ${entry.event_type}` } });
    const time = el("time", { className: "entry-time" });
    setTime(time, entry.received_at_ms);
    const head = el("div", { className: "entry-head" }, [dot, type, time]);

    const body = el("div", { className: "entry-body" });
    if (entry.title !== null) {
      body.append(el("strong", { className: "entry-title", text: entry.title }));
    }
    body.append(el("p", { className: "entry-text", text: entry.text, attrs: { id: textId } }));

    const actions = el("div", { className: "entry-actions" });
    actions.append(button("Mark read", "mark-read", textId));
    if (entry.url !== null) {
      actions.append(button("Open link", "open-link", textId, entry.url));
    }
    actions.append(button("Delete", "delete", textId));

    li.append(head, body, actions);
    applyRead(li, entry.read);
    return li;
  }

  function button(label, action, describedBy, title) {
    return el("button", {
      className: `small action-${action}`,
      text: label,
      attrs: { type: "button", "aria-describedby": describedBy, title },
      dataset: { action },
    });
  }

  function applyRead(li, read) {
    li.classList.toggle("unread", !read);
    li.querySelector(".unread-dot").hidden = read;
    const mark = li.querySelector(".action-mark-read");
    if (mark) {
      mark.hidden = read;
    }
  }

  // ---- list state ------------------------------------------------------------

  function clearList() {
    shown.clear();
    list.replaceChildren();
  }

  function append(entries) {
    const fragment = document.createDocumentFragment();
    for (const entry of entries) {
      if (!shown.has(entry.id)) {
        shown.set(entry.id, entry);
        fragment.append(render(entry));
      }
    }
    list.append(fragment);
  }

  /** Put a newer entry in its place (by id, newest first), keeping the view still. */
  function insert(entries) {
    const fresh = entries.filter((entry) => !shown.has(entry.id)).sort((a, b) => b.id - a.id);
    if (fresh.length === 0) {
      return;
    }
    const keepPosition = scroller.scrollTop > 4;
    const before = keepPosition ? scroller.scrollHeight : 0;
    const top = list.firstElementChild ? Number(list.firstElementChild.dataset.id) : -Infinity;
    // The usual case: all newer than the top row, so one insertion.
    const newer = document.createDocumentFragment();
    for (const entry of fresh) {
      shown.set(entry.id, entry);
      const li = render(entry);
      if (entry.id > top) {
        newer.append(li);
        continue;
      }
      let next = list.firstElementChild;
      while (next && Number(next.dataset.id) > entry.id) {
        next = next.nextElementSibling;
      }
      list.insertBefore(li, next);
    }
    list.prepend(newer);
    if (keepPosition) {
      scroller.scrollTop += scroller.scrollHeight - before;
    }
    trim();
    updateEmpty();
  }

  /** Keep the page bounded: drop the oldest rows while the user reads near the top. */
  function trim() {
    if (shown.size <= MAX_ROWS || scroller.scrollTop > scroller.clientHeight) {
      return;
    }
    while (shown.size > MAX_ROWS && list.lastElementChild) {
      const last = list.lastElementChild;
      shown.delete(Number(last.dataset.id));
      last.remove();
      hasMore = true;
    }
    updateMore();
  }

  function removeRow(li) {
    const id = Number(li.dataset.id);
    const focusWasInside = li.contains(document.activeElement);
    const neighbour = li.nextElementSibling ?? li.previousElementSibling;
    shown.delete(id);
    li.remove();
    if (focusWasInside) {
      const target = neighbour?.querySelector("button:not([hidden])") ?? search;
      target.focus();
    }
    updateEmpty();
    maybeLoadMore();
  }

  function updateEmpty() {
    const nothing = shown.size === 0;
    empty.hidden = !nothing || busy !== null;
    if (nothing) {
      empty.textContent = loadFailed
        ? "The history could not be read."
        : filtersActive()
          ? "No events match these filters."
          : "No events yet. They appear here as the server sends them.";
    }
  }

  function updateMore() {
    if (busy !== null && shown.size > 0) {
      more.textContent = "Loading…";
    } else if (busy !== null) {
      more.textContent = "Loading the history…";
    } else if (!hasMore && shown.size > PAGE) {
      more.textContent = "That is everything.";
    } else {
      more.textContent = "";
    }
  }

  function setBusy(token) {
    busy = token;
    list.setAttribute("aria-busy", token === null ? "false" : "true");
    updateMore();
  }

  function takeTypes(page) {
    if (Array.isArray(page.types)) {
      setTypes(page.types.filter((type) => typeof type === "string" && type !== ""));
    }
    if (typeof page.unread === "number") {
      onUnread(page.unread);
    }
  }

  function entriesOf(page) {
    if (!page || !Array.isArray(page.entries)) {
      return [];
    }
    return page.entries.map((raw) => normalize(raw, null)).filter((entry) => entry !== null);
  }

  // ---- loading -----------------------------------------------------------------

  async function reload() {
    const gen = ++generation;
    const token = nextToken++;
    arrivedDuringReload = [];
    // What is queued is committed, so this reload's answer holds it.
    liveQueue = [];
    reloading = token;
    setBusy(token);
    updateEmpty();
    try {
      markOnce("ssetray:history-asked");
      const asked = performance.now();
      // The first page only fills the window: every row laid out before the
      // first frame delays it, and the rest comes as the user scrolls.
      const firstPage = Math.min(PAGE, Math.ceil(Math.max(scroller.clientHeight, 400) / MIN_ROW_HEIGHT) + 2);
      const page = await invoke("history", query(null, firstPage));
      markOnce("ssetray:history-answered");
      performance.clearMeasures("ssetray:reload-answer");
      performance.measure("ssetray:reload-answer", { start: asked, end: performance.now() });
      if (gen !== generation) {
        return;
      }
      const entries = entriesOf(page);
      loadFailed = false;
      clearList();
      scroller.scrollTop = 0;
      append(entries);
      hasMore = entries.length === firstPage;
      takeTypes(page);
      markFirstRows(entries.length);
      measureReload(asked);
    } catch (error) {
      if (gen === generation) {
        loadFailed = shown.size === 0;
        announce(`Could not load the history: ${errorText(error)}`, true);
      }
    } finally {
      if (reloading === token) {
        reloading = null;
        const late = arrivedDuringReload;
        arrivedDuringReload = [];
        if (gen === generation) {
          insert(late.filter(matches));
        }
      }
      if (busy === token) {
        setBusy(null);
        updateEmpty();
        requestAnimationFrame(maybeLoadMore);
      }
    }
  }

  async function loadMore() {
    const last = list.lastElementChild;
    if (busy !== null || !hasMore || !last) {
      return;
    }
    const gen = generation;
    const token = nextToken++;
    setBusy(token);
    try {
      const page = await invoke("history", query(Number(last.dataset.id)));
      if (gen !== generation) {
        return;
      }
      const entries = entriesOf(page);
      append(entries);
      hasMore = entries.length === PAGE;
      takeTypes(page);
      markFirstRows(entries.length);
    } catch (error) {
      if (gen === generation) {
        hasMore = false;
        announce(`Could not load older events: ${errorText(error)}`, true);
      }
    } finally {
      if (busy === token) {
        setBusy(null);
        updateEmpty();
        requestAnimationFrame(maybeLoadMore);
      }
    }
  }

  function maybeLoadMore() {
    if (busy !== null || !hasMore || byId("view-history").hidden) {
      return;
    }
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - NEAR_BOTTOM) {
      loadMore();
    }
  }

  /** With a search, live events are merged from a fresh query (the store does the matching). */
  const mergeNewest = debounce(async () => {
    const gen = generation;
    if (busy !== null) {
      mergeNewest();
      return;
    }
    try {
      const page = await invoke("history", query(null));
      if (gen !== generation) {
        return;
      }
      const top = Number(list.firstElementChild?.dataset.id ?? 0);
      insert(entriesOf(page).filter((entry) => entry.id > top));
      takeTypes(page);
    } catch {
      // The next event or the next search tries again.
    }
  }, 300);

  // ---- live ----------------------------------------------------------------------

  function matches(entry) {
    if (typeFilter.value !== "" && entry.event_type !== typeFilter.value) {
      return false;
    }
    return !(unreadOnly.checked && entry.read);
  }

  /** A stored event from the engine: {entry, event, rule}. */
  function onStored(stored) {
    if (!stored || typeof stored !== "object") {
      return;
    }
    const entry = normalize(stored.entry, stored.event);
    if (entry === null) {
      return;
    }
    if (!types.includes(entry.event_type)) {
      setTypes([...types, entry.event_type]);
    }
    if (searchText() !== null) {
      mergeNewest();
      return;
    }
    if (!matches(entry)) {
      return;
    }
    if (reloading !== null) {
      // The reload's answer replaces the list: add this one after it.
      arrivedDuringReload.push(entry);
      return;
    }
    liveQueue.push(entry);
    if (liveTimer === null) {
      liveTimer = setTimeout(flushLive, 30);
    }
  }

  function flushLive() {
    liveTimer = null;
    const queued = liveQueue;
    liveQueue = [];
    if (searchText() === null && reloading === null) {
      insert(queued.filter(matches));
    } else if (reloading !== null) {
      arrivedDuringReload.push(...queued);
    }
  }

  // ---- types -------------------------------------------------------------------

  function setTypes(next) {
    types = [...new Set(next)].sort((a, b) => a.localeCompare(b));
    const selected = typeFilter.value;
    const options = [el("option", { text: "All types", attrs: { value: "" } })];
    const values = selected !== "" && !types.includes(selected) ? [...types, selected] : types;
    for (const type of values) {
      options.push(el("option", { text: type, attrs: { value: type } }));
    }
    typeFilter.replaceChildren(...options);
    typeFilter.value = selected;
    onTypes(types);
  }

  // ---- actions -------------------------------------------------------------------

  async function onListClick(event) {
    const clicked = event.target instanceof Element ? event.target : null;
    const li = clicked?.closest("li.entry");
    if (!li || !list.contains(li)) {
      return;
    }
    const id = Number(li.dataset.id);
    const entry = shown.get(id);
    if (!entry) {
      return;
    }
    const target = clicked.closest("button[data-action]");
    if (target === null) {
      // A click on the entry itself opens its link, unless it ended a text
      // selection. Keyboard users have the "Open link" button.
      const selecting = window.getSelection()?.isCollapsed === false;
      if (entry.url !== null && !selecting) {
        await openLink(li, entry);
      }
      return;
    }
    const action = target.dataset.action;
    target.disabled = true;
    try {
      if (action === "mark-read") {
        await invoke("mark_read", { id });
        markedRead(li, entry);
      } else if (action === "delete") {
        await invoke("delete_entry", { id });
        removeRow(li);
        announce("Deleted.");
      } else if (action === "open-link" && entry.url !== null) {
        await openLink(li, entry);
      }
    } catch (error) {
      announce(errorText(error), true);
    } finally {
      target.disabled = false;
    }
  }

  /** Opens the entry's link in the browser and marks it read: the Rust side finds the link by the entry's id. */
  async function openLink(li, entry) {
    try {
      await invoke("open_link", { id: entry.id });
      markedRead(li, entry);
    } catch (error) {
      announce(errorText(error), true);
    }
  }

  function markedRead(li, entry) {
    if (entry.read) {
      return;
    }
    entry.read = true;
    const hadFocus = li.querySelector(".action-mark-read") === document.activeElement;
    if (unreadOnly.checked) {
      removeRow(li);
      return;
    }
    applyRead(li, true);
    if (hadFocus) {
      li.querySelector(".entry-actions button:not([hidden])")?.focus();
    }
  }

  async function markAllRead() {
    markAllButton.disabled = true;
    try {
      await invoke("mark_all_read");
      for (const [id, entry] of shown) {
        entry.read = true;
        const li = rowFor(id);
        if (li) {
          applyRead(li, true);
        }
      }
      if (unreadOnly.checked) {
        clearList();
        hasMore = false;
        updateEmpty();
        updateMore();
      }
      onUnread(0);
      announce("All marked read.");
    } catch (error) {
      announce(errorText(error), true);
    } finally {
      markAllButton.disabled = false;
    }
  }

  function askClear() {
    confirmBox.hidden = false;
    clearButton.setAttribute("aria-expanded", "true");
    confirmNo.focus();
  }

  function closeClear(focusBack) {
    confirmBox.hidden = true;
    clearButton.setAttribute("aria-expanded", "false");
    if (focusBack) {
      clearButton.focus();
    }
  }

  async function clearAll() {
    confirmYes.disabled = true;
    try {
      await invoke("clear_history");
      // The tray process applies it after answering: clear here rather
      // than read a store that may not be cleared yet.
      generation++;
      clearList();
      hasMore = false;
      closeClear(true);
      setTypes([]);
      onUnread(0);
      updateEmpty();
      updateMore();
      announce("History cleared.");
    } catch (error) {
      announce(errorText(error), true);
    } finally {
      confirmYes.disabled = false;
    }
  }

  // ---- wiring --------------------------------------------------------------------

  const searchLater = debounce(reload, 150);
  search.addEventListener("input", searchLater);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      searchLater.cancel();
      reload();
    }
  });
  typeFilter.addEventListener("change", reload);
  unreadOnly.addEventListener("change", reload);
  markAllButton.addEventListener("click", markAllRead);
  clearButton.addEventListener("click", () => (confirmBox.hidden ? askClear() : closeClear(true)));
  confirmYes.addEventListener("click", clearAll);
  confirmNo.addEventListener("click", () => closeClear(true));
  confirmBox.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeClear(true);
    }
  });
  list.addEventListener("click", onListClick);

  let scrollQueued = false;
  scroller.addEventListener(
    "scroll",
    () => {
      if (!scrollQueued) {
        scrollQueued = true;
        requestAnimationFrame(() => {
          scrollQueued = false;
          maybeLoadMore();
        });
      }
    },
    { passive: true },
  );
  window.addEventListener("resize", maybeLoadMore);

  return {
    reload,
    /** Add what was stored since the list was read (after subscribing late). */
    catchUp: mergeNewest,
    onStored,
    maybeLoadMore,
    /** Re-render relative times. */
    tick() {
      refreshTimes(list);
    },
  };
}

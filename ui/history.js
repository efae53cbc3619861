// The History view: newest first and grouped by day, filters (the
// subscription among them, with two or more), paging, live inserts, row
// actions. A row shows the EntryView the Rust side made, as it
// is: server text only as text, each piece isolated for bidi (<bdi> inline,
// dir="auto" for blocks), so that a right-to-left override in a title
// cannot turn the row around it.

import { invoke, errorText } from "./api.js";
import { createDayList } from "./daylist.js";
import { afterNextFrame, byId, debounce, el, icon, refreshTimes, setTime } from "./dom.js";
import { entryFromView, matchesFilters } from "./entry.js";
import { markAllLabel, markAllQuestion, newAboveText, openLinkLabel } from "./format.js";
import { TRY_AGAIN } from "./messages.js";
import { entryLabel, sameNames, subscriptionCounts } from "./subscriptions.js";

/** Older entries come in pages of this many as the user scrolls down. */
const PAGE = 100;
/** No history row is shorter than this (px): enough rows to fill the window are this many per height. */
const MIN_ROW_HEIGHT = 60;
/** Rows kept in the page while the user is near the top; older ones are paged in again. */
const MAX_ROWS = 1000;
/** Start loading the next page this close to the bottom (px). */
const NEAR_BOTTOM = 400;
/** Scrolled this little (px) counts as at the top: rows put above push nothing out of sight. */
const AT_TOP = 4;
/** An arrow up: the "new events above" pill's icon. */
const ARROW_UP = ["M12 19V5", "M6 11l6-6 6 6"];

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

function reducedMotion() {
  return window.matchMedia?.("(prefers-reduced-motion: reduce)").matches === true;
}

/**
 * A question under the toolbar, opened by a button: Cancel (or Escape, via
 * close) shuts it and gives the focus back to that button.
 */
function question(box, opener, cancel) {
  const close = (focusBack) => {
    if (box.hidden) {
      return false;
    }
    box.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    if (focusBack) {
      opener.focus();
    }
    return true;
  };
  cancel.addEventListener("click", () => close(true));
  return {
    get open() {
      return !box.hidden;
    },
    show() {
      box.hidden = false;
      opener.setAttribute("aria-expanded", "true");
      cancel.focus();
    },
    close,
  };
}

/**
 * @param {object} hooks
 * @param {(n: number) => void} hooks.onUnread  the unread count the store reported
 * @param {(types: string[]) => void} hooks.onTypes  the event types the store knows
 * @param {(counts: {name: string, unread: number}[]) => void} [hooks.onSubscriptions]  the unread count of each subscription
 * @param {ReturnType<import("./messages.js").createMessages>} hooks.messages
 */
export function createHistory({ onUnread, onTypes, onSubscriptions, messages }) {
  const view = byId("view-history");
  const scroller = byId("main");
  const list = byId("history-list");
  const empty = byId("history-empty");
  const more = byId("history-more");
  const search = byId("search");
  const typeFilter = byId("type-filter");
  const subscriptionField = byId("subscription-filter-field");
  const subscriptionFilter = byId("subscription-filter");
  const unreadOnly = byId("unread-only");
  const markAllButton = byId("mark-all-read");
  const markAllText = byId("mark-all-confirm-text");
  const markAllYes = byId("mark-all-confirm-yes");
  const clearButton = byId("clear-all");
  const clearYes = byId("clear-confirm-yes");
  const newAbove = byId("new-above");

  const days = createDayList(list);
  const clearQuestion = question(byId("clear-confirm"), clearButton, byId("clear-confirm-no"));
  const markAllQuestionBox = question(byId("mark-all-confirm"), markAllButton, byId("mark-all-confirm-no"));

  /** id → entry shown */
  const shown = new Map();
  let types = [];
  /** The subscriptions there are, in the user's order: the filter's choices, and whether rows are labelled. */
  let subscriptionNames = [];
  let hasMore = false;
  let loadFailed = false;
  /** The store's unread count, all types: what "Mark all read" marks. */
  let unreadTotal = 0;
  /** Live rows put above while the user was scrolled down, not yet seen. */
  let newAboveCount = 0;
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

  function filters() {
    return {
      eventType: typeFilter.value === "" ? null : typeFilter.value,
      unreadOnly: unreadOnly.checked,
      subscription: subscriptionFilter.value === "" ? null : subscriptionFilter.value,
    };
  }

  function query(beforeId, limit = PAGE) {
    const { eventType, subscription } = filters();
    return {
      query: { before_id: beforeId, limit, unread_only: unreadOnly.checked, event_type: eventType, search: searchText(), subscription },
    };
  }

  /** Whether a type or subscription filter or a search hides some events (unread ones among them). */
  function narrowed() {
    return typeFilter.value !== "" || subscriptionFilter.value !== "" || searchText() !== null;
  }

  function filtersActive() {
    return unreadOnly.checked || narrowed();
  }

  /** What "Mark all read" would say: it marks what the filters hide too. */
  function markAllState() {
    return { unread: unreadTotal, narrowed: narrowed(), bySubscription: subscriptionFilter.value !== "" };
  }

  // ---- rows ------------------------------------------------------------------

  function actionButton(label, action, describedBy, name = null) {
    return el("button", {
      className: `small action-${action}`,
      text: label,
      attrs: { type: "button", "aria-describedby": describedBy, "aria-label": name },
      dataset: { action },
    });
  }

  /** Where the row's link leads, shown beside its actions: "↗ example.com". */
  function linkHost(entry) {
    return el("span", { className: "entry-host", attrs: { title: entry.link } }, [
      el("span", { text: "↗", attrs: { "aria-hidden": "true" } }),
      el("bdi", { text: entry.link_host }),
    ]);
  }

  /** The row's subscription, with two or more of them: its name, or "removed" for one no longer subscribed. */
  function subscriptionTag(entry) {
    const label = entryLabel(entry.subscription, subscriptionNames);
    if (label === null) {
      return null;
    }
    return el(
      "span",
      {
        className: label.removed ? "entry-subscription removed" : "entry-subscription",
        attrs: { title: label.removed ? "Its subscription was removed" : "Subscription" },
      },
      [el("span", { className: "visually-hidden", text: "Subscription: " }), el("bdi", { text: label.text })],
    );
  }

  function render(entry) {
    const textId = `entry-text-${entry.id}`;
    const time = el("time", { className: "entry-time" });
    setTime(time, entry.received_at_ms, "row");
    const actions = el("div", { className: "entry-actions" }, [
      actionButton("Mark read", "mark-read", textId),
      entry.link !== null ? actionButton("Open link", "open-link", textId, openLinkLabel(entry.link_host)) : null,
      actionButton("Delete", "delete", textId),
    ]);
    const meta = el("div", { className: "entry-meta" }, [
      el("span", { className: "unread-dot", attrs: { role: "img", "aria-label": "unread" } }),
      el("span", { className: "entry-type" }, [el("bdi", { text: entry.event_type })]),
      subscriptionTag(entry),
      time,
      entry.link_host !== null ? linkHost(entry) : null,
      actions,
    ]);
    const li = el("li", { className: `entry kind-${entry.kind}`, dataset: { id: entry.id } }, [
      meta,
      entry.title !== null ? el("p", { className: "entry-title", text: entry.title, attrs: { dir: "auto" } }) : null,
      el("p", { className: "entry-text", text: entry.text, attrs: { id: textId, dir: "auto" } }),
    ]);
    li.classList.toggle("has-link", entry.link !== null);
    applyRead(li, entry.read);
    return li;
  }

  function applyRead(li, read) {
    li.classList.toggle("unread", !read);
    li.querySelector(".unread-dot").hidden = read;
    li.querySelector(".action-mark-read").hidden = read;
  }

  function rowFor(id) {
    return list.querySelector(`li.entry[data-id="${id}"]`);
  }

  // ---- list state ------------------------------------------------------------

  function clearList() {
    shown.clear();
    days.clear();
    hideNewAbove();
  }

  /** Older entries, below every row. */
  function append(entries) {
    for (const entry of entries) {
      if (!shown.has(entry.id)) {
        shown.set(entry.id, entry);
        days.append(render(entry), entry.received_at_ms);
      }
    }
  }

  /** Newer entries in their place (by id, newest first), keeping what the user reads still. */
  function insert(entries) {
    // Oldest first: each newer one then goes above the last.
    const fresh = entries.filter((entry) => !shown.has(entry.id)).sort((a, b) => a.id - b.id);
    if (fresh.length === 0) {
      return;
    }
    // The views share the scroller: while another one shows, its scroll
    // position is not this list's to keep.
    const keepStill = !view.hidden && scroller.scrollTop > AT_TOP;
    const heightBefore = scroller.scrollHeight;
    let above = 0;
    for (const entry of fresh) {
      shown.set(entry.id, entry);
      const row = render(entry);
      let next = days.firstRow();
      if (next === null || entry.id > Number(next.dataset.id)) {
        days.prepend(row, entry.received_at_ms);
        above += 1;
        continue;
      }
      while (next !== null && Number(next.dataset.id) > entry.id) {
        next = days.nextRow(next);
      }
      days.insertBefore(row, entry.received_at_ms, next);
    }
    if (keepStill) {
      scroller.scrollTop += scroller.scrollHeight - heightBefore;
      showNewAbove(above);
    }
    trim();
    updateEmpty();
  }

  function showNewAbove(count) {
    if (count > 0) {
      newAboveCount += count;
      newAbove.replaceChildren(icon("icon-up", ARROW_UP), newAboveText(newAboveCount));
      newAbove.hidden = false;
    }
  }

  function hideNewAbove() {
    newAboveCount = 0;
    newAbove.hidden = true;
  }

  /** Keep the page bounded: drop the oldest rows while the user reads near the top. */
  function trim() {
    if (shown.size <= MAX_ROWS || scroller.scrollTop > scroller.clientHeight) {
      return;
    }
    while (shown.size > MAX_ROWS) {
      const last = days.lastRow();
      shown.delete(Number(last.dataset.id));
      days.remove(last);
      hasMore = true;
    }
    updateMore();
  }

  function removeRow(li) {
    const focusWasInside = li.contains(document.activeElement);
    const neighbour = days.nextRow(li) ?? days.previousRow(li);
    shown.delete(Number(li.dataset.id));
    days.remove(li);
    if (focusWasInside) {
      (neighbour?.querySelector("button:not([hidden])") ?? search).focus();
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
    if (Array.isArray(page.subscriptions)) {
      const counts = subscriptionCounts(page.subscriptions);
      setSubscriptions(counts.map(({ name }) => name));
      onSubscriptions?.(counts);
    }
    if (typeof page.unread === "number") {
      onUnread(page.unread);
    }
  }

  function entriesOf(page) {
    if (!page || !Array.isArray(page.entries)) {
      return [];
    }
    return page.entries.map(entryFromView).filter((entry) => entry !== null);
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
    refreshMarkAll();
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
      messages.clearError("history");
      clearList();
      if (!view.hidden) {
        scroller.scrollTop = 0;
      }
      append(entries);
      hasMore = entries.length === firstPage;
      takeTypes(page);
      markFirstRows(entries.length);
      measureReload(asked);
    } catch (error) {
      if (gen === generation) {
        loadFailed = shown.size === 0;
        messages.error(`Could not load the history: ${errorText(error)}`, "Check that SSE Tray is running, then try again.", {
          key: "history",
          action: { label: "Try again", run: reload },
        });
      }
    } finally {
      if (reloading === token) {
        reloading = null;
        const late = arrivedDuringReload;
        arrivedDuringReload = [];
        if (gen === generation) {
          insert(late.filter((entry) => matchesFilters(entry, filters())));
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
    const last = days.lastRow();
    if (busy !== null || !hasMore || last === null) {
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
      messages.clearError("older");
      append(entries);
      hasMore = entries.length === PAGE;
      takeTypes(page);
      markFirstRows(entries.length);
    } catch (error) {
      if (gen === generation) {
        hasMore = false;
        messages.error(`Could not load older events: ${errorText(error)}`, "Check that SSE Tray is running, then try again.", {
          key: "older",
          action: {
            label: "Try again",
            run() {
              hasMore = true;
              loadMore();
            },
          },
        });
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
    if (busy !== null || !hasMore || view.hidden) {
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
      const top = Number(days.firstRow()?.dataset.id ?? 0);
      insert(entriesOf(page).filter((entry) => entry.id > top));
      takeTypes(page);
    } catch {
      // The next event or the next search tries again.
    }
  }, 300);

  // ---- live ----------------------------------------------------------------------

  /** A stored event, as the EntryView the Rust side made of it. */
  function onStored(stored) {
    const entry = entryFromView(stored);
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
    if (!matchesFilters(entry, filters())) {
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
      insert(queued.filter((entry) => matchesFilters(entry, filters())));
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
      options.push(el("option", { text: type, attrs: { value: type, dir: "auto" } }));
    }
    typeFilter.replaceChildren(...options);
    typeFilter.value = selected;
    onTypes(types);
  }

  // ---- subscriptions -------------------------------------------------------------

  /**
   * The subscriptions there are changed: the filter offers them (with two
   * or more), and the rows' labels follow. A filter on one that is gone
   * goes back to all.
   */
  function setSubscriptions(names) {
    if (sameNames(names, subscriptionNames)) {
      return;
    }
    const labelled = subscriptionNames.length;
    subscriptionNames = [...names];
    const selected = subscriptionFilter.value;
    const keep = selected !== "" && names.includes(selected) && names.length >= 2;
    subscriptionFilter.replaceChildren(
      el("option", { text: "All subscriptions", attrs: { value: "" } }),
      ...names.map((name) => el("option", { text: name, attrs: { value: name, dir: "auto" } })),
    );
    subscriptionFilter.value = keep ? selected : "";
    const hadFocus = subscriptionFilter === document.activeElement;
    subscriptionField.hidden = names.length < 2;
    if (hadFocus && subscriptionField.hidden) {
      search.focus();
    }
    // Labels show with two or more, "removed" with one or more.
    if (labelled !== names.length || names.length >= 2) {
      relabel();
    }
    if (selected !== "" && !keep) {
      reload();
    }
  }

  function relabel() {
    for (const li of list.querySelectorAll("li.entry")) {
      const entry = shown.get(Number(li.dataset.id));
      if (!entry) {
        continue;
      }
      li.querySelector(".entry-subscription")?.remove();
      const tag = subscriptionTag(entry);
      if (tag !== null) {
        li.querySelector(".entry-type").after(tag);
      }
    }
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
      if (entry.link !== null && !selecting) {
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
        messages.say("Deleted.");
      } else if (action === "open-link" && entry.link !== null) {
        await openLink(li, entry);
      }
    } catch (error) {
      const what = action === "delete" ? "delete the event" : "mark the event read";
      messages.error(`Could not ${what}: ${errorText(error)}`, TRY_AGAIN);
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
      messages.error(`Could not open the link: ${errorText(error)}`, TRY_AGAIN);
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

  /** The button's label, and the open question's words, for the count and filters now. */
  function refreshMarkAll() {
    const label = markAllLabel(markAllState());
    if (markAllButton.textContent !== label) {
      markAllButton.textContent = label;
    }
    const asked = markAllQuestion(markAllState());
    // Only a button that asks first expands anything.
    if (asked === null && !markAllQuestionBox.open) {
      markAllButton.removeAttribute("aria-expanded");
    } else {
      markAllButton.setAttribute("aria-expanded", String(markAllQuestionBox.open));
    }
    if (markAllQuestionBox.open) {
      if (asked === null) {
        markAllQuestionBox.close(false);
      } else {
        markAllText.textContent = asked.text;
        markAllYes.textContent = asked.confirm;
      }
    }
  }

  function onMarkAllClick() {
    if (markAllQuestionBox.close(true)) {
      return;
    }
    const asked = markAllQuestion(markAllState());
    if (asked === null) {
      markAllRead();
      return;
    }
    clearQuestion.close(false);
    markAllText.textContent = asked.text;
    markAllYes.textContent = asked.confirm;
    markAllQuestionBox.show();
  }

  async function markAllRead() {
    // The button pressed waits; the question's opener stays enabled to take the focus back.
    const pressed = markAllQuestionBox.open ? markAllYes : markAllButton;
    pressed.disabled = true;
    try {
      await invoke("mark_all_read");
      markAllQuestionBox.close(true);
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
      messages.say("All events marked read.");
    } catch (error) {
      messages.error(`Could not mark all events read: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      pressed.disabled = false;
    }
  }

  function onClearClick() {
    if (clearQuestion.close(true)) {
      return;
    }
    markAllQuestionBox.close(false);
    clearQuestion.show();
  }

  async function clearAll() {
    clearYes.disabled = true;
    try {
      await invoke("clear_history");
      // The tray process applies it after answering: clear here rather
      // than read a store that may not be cleared yet.
      generation++;
      clearList();
      hasMore = false;
      clearQuestion.close(true);
      setTypes([]);
      onUnread(0);
      updateEmpty();
      updateMore();
      messages.say("History cleared.");
    } catch (error) {
      messages.error(`Could not clear the history: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      clearYes.disabled = false;
    }
  }

  function onNewAboveClick() {
    hideNewAbove();
    scroller.scrollTo({ top: 0, behavior: reducedMotion() ? "auto" : "smooth" });
    // The pill is gone: the focus goes to the newest row rather than nowhere.
    days.firstRow()?.querySelector("button:not([hidden])")?.focus({ preventScroll: true });
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
  subscriptionFilter.addEventListener("change", reload);
  unreadOnly.addEventListener("change", reload);
  markAllButton.addEventListener("click", onMarkAllClick);
  markAllYes.addEventListener("click", markAllRead);
  clearButton.addEventListener("click", onClearClick);
  clearYes.addEventListener("click", clearAll);
  newAbove.addEventListener("click", onNewAboveClick);
  list.addEventListener("click", onListClick);

  let scrollQueued = false;
  scroller.addEventListener(
    "scroll",
    () => {
      if (!scrollQueued) {
        scrollQueued = true;
        requestAnimationFrame(() => {
          scrollQueued = false;
          if (scroller.scrollTop <= AT_TOP) {
            hideNewAbove();
          }
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
    /** The subscriptions there are, in the user's order (from a status). */
    setSubscriptionNames(names) {
      setSubscriptions(names.filter((name) => typeof name === "string" && name !== ""));
    },
    /** The store's unread count changed. */
    setUnread(count) {
      unreadTotal = count;
      refreshMarkAll();
    },
    /** Puts the focus in the search field, its text selected to type over. */
    focusSearch() {
      search.focus();
      search.select();
    },
    /** Whether a question (Clear all, Mark all read) is open. */
    get questionOpen() {
      return clearQuestion.open || markAllQuestionBox.open;
    },
    /** Closes the open question, giving the focus back to its button. */
    closeQuestion() {
      clearQuestion.close(true);
      markAllQuestionBox.close(true);
    },
    /** Re-render times, and day headings after midnight. */
    tick() {
      refreshTimes(list);
      days.refreshHeadings();
    },
  };
}

// The History view on the page: newest first and grouped by day, filters
// (the subscription among them, with two or more), paging, live inserts,
// row actions. What it decides is history-model.js's (tested under node);
// a row is history-rows.js's; this is the glue between them, the page and
// the store.

import { invoke, errorText } from "./api.js";
import { createDayList } from "./daylist.js";
import { afterNextFrame, byId, debounce, el, icon, refreshTimes } from "./dom.js";
import { entryFromView } from "./entry.js";
import { markAllLabel, markAllQuestion, newAboveText } from "./format.js";
import { HistoryModel, PAGE, firstPageSize, historyFilters, historyQuery, pageParts, typeChoices } from "./history-model.js";
import { applyRead, relabelRow, renderRow } from "./history-rows.js";
import { TRY_AGAIN } from "./messages.js";

/** Start loading the next page this close to the bottom (px). */
const NEAR_BOTTOM = 400;
/** Scrolled this little (px) counts as at the top: rows put above push nothing out of sight. */
const AT_TOP = 4;
/** An arrow up: the "new events above" pill's icon. */
const ARROW_UP = ["M12 19V5", "M6 11l6-6 6 6"];
const CHECK_RUNNING = "Check that SSE Tray is running, then try again.";

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

/** For the window benchmark: the newest reload (a search, a filter), from asking the store to its rows drawn. */
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
class Question {
  constructor(box, opener, cancel) {
    this.box = box;
    this.opener = opener;
    cancel.addEventListener("click", () => this.close(true));
    this.cancel = cancel;
  }

  get open() {
    return !this.box.hidden;
  }

  show() {
    this.box.hidden = false;
    this.opener.setAttribute("aria-expanded", "true");
    this.cancel.focus();
  }

  /** Shuts it; false when it was not open. */
  close(focusBack) {
    if (this.box.hidden) {
      return false;
    }
    this.box.hidden = true;
    this.opener.setAttribute("aria-expanded", "false");
    if (focusBack) {
      this.opener.focus();
    }
    return true;
  }
}

class HistoryView {
  /**
   * @param {object} hooks
   * @param {(n: number) => void} hooks.onUnread  the unread count the store reported
   * @param {(types: string[]) => void} hooks.onTypes  the event types the store knows
   * @param {(counts: {name: string, unread: number}[]) => void} [hooks.onSubscriptions]  the unread count of each subscription
   * @param {ReturnType<import("./messages.js").createMessages>} hooks.messages
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.messages = hooks.messages;
    this.model = new HistoryModel();
    this.view = byId("view-history");
    this.scroller = byId("main");
    this.list = byId("history-list");
    this.search = byId("search");
    this.typeFilter = byId("type-filter");
    this.subscriptionFilter = byId("subscription-filter");
    this.unreadOnly = byId("unread-only");
    this.markAllButton = byId("mark-all-read");
    this.newAbove = byId("new-above");
    this.days = createDayList(this.list);
    this.clearQuestion = new Question(byId("clear-confirm"), byId("clear-all"), byId("clear-confirm-no"));
    this.markAllQuestion = new Question(byId("mark-all-confirm"), this.markAllButton, byId("mark-all-confirm-no"));
    this.liveTimer = null;
    /** With a search, live events are merged from a fresh query (the store does the matching). */
    this.mergeNewest = debounce(() => this.merge(), 300);
    this.wire();
  }

  /** The toolbar's filters now. */
  filters() {
    return historyFilters({
      search: this.search.value,
      type: this.typeFilter.value,
      subscription: this.subscriptionFilter.value,
      unreadOnly: this.unreadOnly.checked,
    });
  }

  rowFor(id) {
    return this.list.querySelector(`li.entry[data-id="${id}"]`);
  }

  // ---- the list ------------------------------------------------------------------

  clearList() {
    this.model.clear();
    this.days.clear();
    this.newAbove.hidden = true;
  }

  /** Older entries, below every row. */
  append(entries) {
    for (const entry of this.model.takeOlder(entries)) {
      this.days.append(renderRow(entry, this.model.subscriptionNames), entry.received_at_ms);
    }
  }

  /** Newer entries in their place (by id, newest first), keeping what the user reads still. */
  insert(entries) {
    const fresh = this.model.unseen(entries);
    if (fresh.length === 0) {
      return;
    }
    // The views share the scroller: while another one shows, its scroll
    // position is not this list's to keep.
    const keepStill = !this.view.hidden && this.scroller.scrollTop > AT_TOP;
    const heightBefore = this.scroller.scrollHeight;
    let above = 0;
    for (const entry of fresh) {
      const { below, newest } = this.model.place(entry);
      const row = renderRow(entry, this.model.subscriptionNames);
      if (newest) {
        this.days.prepend(row, entry.received_at_ms);
        above += 1;
      } else {
        this.days.insertBefore(row, entry.received_at_ms, below === null ? null : this.rowFor(below));
      }
    }
    if (keepStill) {
      this.scroller.scrollTop += this.scroller.scrollHeight - heightBefore;
      this.showNewAbove(above);
    }
    this.trim();
    this.updateEmpty();
  }

  showNewAbove(count) {
    if (count > 0) {
      this.model.newAbove += count;
      this.newAbove.replaceChildren(icon("icon-up", ARROW_UP), newAboveText(this.model.newAbove));
      this.newAbove.hidden = false;
    }
  }

  hideNewAbove() {
    this.model.newAbove = 0;
    this.newAbove.hidden = true;
  }

  /** Keep the page bounded: drop the oldest rows while the user reads near the top. */
  trim() {
    const excess = this.model.excess();
    if (excess === 0 || this.scroller.scrollTop > this.scroller.clientHeight) {
      return;
    }
    for (let n = 0; n < excess; n++) {
      const last = this.days.lastRow();
      this.model.forget(Number(last.dataset.id));
      this.days.remove(last);
    }
    this.model.hasMore = true;
    this.updateMore();
  }

  removeRow(li) {
    const focusWasInside = li.contains(document.activeElement);
    const neighbour = this.days.nextRow(li) ?? this.days.previousRow(li);
    this.model.forget(Number(li.dataset.id));
    this.days.remove(li);
    if (focusWasInside) {
      (neighbour?.querySelector("button:not([hidden])") ?? this.search).focus();
    }
    this.updateEmpty();
    this.maybeLoadMore();
  }

  updateEmpty() {
    const text = this.model.emptyText(this.filters());
    const empty = byId("history-empty");
    empty.hidden = text === null;
    if (text !== null) {
      empty.textContent = text;
    }
  }

  updateMore() {
    byId("history-more").textContent = this.model.moreText();
  }

  setBusy() {
    this.list.setAttribute("aria-busy", this.model.busy === null ? "false" : "true");
    this.updateMore();
  }

  /** What a page says beside its entries: the types, the subscriptions, the unread count. */
  takePage(parts) {
    if (parts.types !== null) {
      this.setTypes(parts.types);
    }
    if (parts.counts !== null) {
      this.setSubscriptions(parts.counts.map(({ name }) => name));
      this.hooks.onSubscriptions?.(parts.counts);
    }
    if (parts.unread !== null) {
      this.hooks.onUnread(parts.unread);
    }
  }

  // ---- loading -------------------------------------------------------------------

  /** Reads the newest page afresh, for the filters now. */
  async reload() {
    const request = this.model.beginReload();
    this.setBusy();
    this.updateEmpty();
    this.refreshMarkAll();
    try {
      await this.readFirstPage(request);
    } catch (error) {
      if (this.model.isCurrent(request)) {
        this.model.loadFailed = this.model.shown.size === 0;
        this.messages.error(`Could not load the history: ${errorText(error)}`, CHECK_RUNNING, {
          key: "history",
          action: { label: "Try again", run: () => this.reload() },
        });
      }
    } finally {
      this.insert(this.model.endReload(request, this.filters()));
      this.endRequest(request);
    }
  }

  async readFirstPage(request) {
    markOnce("ssetray:history-asked");
    const asked = performance.now();
    // The first page only fills the window: every row laid out before the
    // first frame delays it, and the rest comes as the user scrolls.
    const size = firstPageSize(this.scroller.clientHeight);
    const page = await invoke("history", historyQuery(this.filters(), null, size));
    markOnce("ssetray:history-answered");
    performance.clearMeasures("ssetray:reload-answer");
    performance.measure("ssetray:reload-answer", { start: asked, end: performance.now() });
    if (!this.model.isCurrent(request)) {
      return;
    }
    const parts = pageParts(page);
    this.model.loadFailed = false;
    this.messages.clearError("history");
    this.clearList();
    if (!this.view.hidden) {
      this.scroller.scrollTop = 0;
    }
    this.append(parts.entries);
    this.model.hasMore = parts.entries.length === size;
    this.takePage(parts);
    markFirstRows(parts.entries.length);
    measureReload(asked);
  }

  /** The next page of older entries, when there is one. */
  async loadMore() {
    const request = this.model.beginLoadMore();
    if (request === null) {
      return;
    }
    this.setBusy();
    try {
      const page = await invoke("history", historyQuery(this.filters(), Number(this.days.lastRow().dataset.id)));
      if (this.model.isCurrent(request)) {
        const parts = pageParts(page);
        this.messages.clearError("older");
        this.append(parts.entries);
        this.model.hasMore = parts.entries.length === PAGE;
        this.takePage(parts);
        markFirstRows(parts.entries.length);
      }
    } catch (error) {
      if (this.model.isCurrent(request)) {
        this.model.hasMore = false;
        this.messages.error(`Could not load older events: ${errorText(error)}`, CHECK_RUNNING, {
          key: "older",
          action: { label: "Try again", run: () => this.retryOlder() },
        });
      }
    } finally {
      this.endRequest(request);
    }
  }

  retryOlder() {
    this.model.hasMore = true;
    this.loadMore();
  }

  endRequest(request) {
    if (this.model.endRequest(request)) {
      this.setBusy();
      this.updateEmpty();
      requestAnimationFrame(() => this.maybeLoadMore());
    }
  }

  maybeLoadMore() {
    if (this.model.busy !== null || !this.model.hasMore || this.view.hidden) {
      return;
    }
    const { scrollTop, clientHeight, scrollHeight } = this.scroller;
    if (scrollTop + clientHeight >= scrollHeight - NEAR_BOTTOM) {
      this.loadMore();
    }
  }

  /** What was stored since the newest row, from the store (with a search on, or after subscribing late). */
  async merge() {
    if (this.model.busy !== null) {
      this.mergeNewest();
      return;
    }
    const request = { generation: this.model.generation };
    try {
      const page = await invoke("history", historyQuery(this.filters(), null));
      if (this.model.isCurrent(request)) {
        const parts = pageParts(page);
        const top = this.model.newestId();
        this.insert(parts.entries.filter((entry) => entry.id > top));
        this.takePage(parts);
      }
    } catch {
      // The next event or the next search tries again.
    }
  }

  // ---- live ----------------------------------------------------------------------

  /** A stored event, as the EntryView the Rust side made of it. */
  onStored(stored) {
    const entry = entryFromView(stored);
    if (entry === null) {
      return;
    }
    const types = this.model.types;
    const decision = this.model.live(entry, this.filters());
    if (this.model.types !== types) {
      this.renderTypes();
    }
    if (decision === "merge") {
      this.mergeNewest();
    } else if (decision === "queue" && this.liveTimer === null) {
      this.liveTimer = setTimeout(() => this.flushLive(), 30);
    }
  }

  flushLive() {
    this.liveTimer = null;
    this.insert(this.model.takeQueue(this.filters()));
  }

  // ---- filters -------------------------------------------------------------------

  setTypes(next) {
    this.model.setTypes(next);
    this.renderTypes();
  }

  /** The type filter offers the types known; the one chosen stays chosen. */
  renderTypes() {
    const selected = this.typeFilter.value;
    this.typeFilter.replaceChildren(
      el("option", { text: "All types", attrs: { value: "" } }),
      ...typeChoices(this.model.types, selected).map((type) => el("option", { text: type, attrs: { value: type, dir: "auto" } })),
    );
    this.typeFilter.value = selected;
    this.hooks.onTypes(this.model.types);
  }

  /**
   * The subscriptions there are changed: the filter offers them (with two
   * or more), and the rows' labels follow. A filter on one that is gone
   * goes back to all.
   */
  setSubscriptions(names) {
    const filter = this.subscriptionFilter;
    const change = this.model.setSubscriptions(names, filter.value);
    if (change === null) {
      return;
    }
    const selected = filter.value;
    filter.replaceChildren(
      el("option", { text: "All subscriptions", attrs: { value: "" } }),
      ...names.map((name) => el("option", { text: name, attrs: { value: name, dir: "auto" } })),
    );
    filter.value = change.keep ? selected : "";
    const hadFocus = filter === document.activeElement;
    byId("subscription-filter-field").hidden = !change.showFilter;
    if (hadFocus && !change.showFilter) {
      this.search.focus();
    }
    if (change.relabel) {
      for (const li of this.list.querySelectorAll("li.entry")) {
        const entry = this.model.shown.get(Number(li.dataset.id));
        if (entry) {
          relabelRow(li, entry, this.model.subscriptionNames);
        }
      }
    }
    if (change.reload) {
      this.reload();
    }
  }

  // ---- row actions ---------------------------------------------------------------

  async onListClick(event) {
    const clicked = event.target instanceof Element ? event.target : null;
    const li = clicked?.closest("li.entry");
    const entry = li && this.list.contains(li) ? this.model.shown.get(Number(li.dataset.id)) : undefined;
    if (!entry) {
      return;
    }
    const button = clicked.closest("button[data-action]");
    if (button === null) {
      // A click on the entry itself opens its link, unless it ended a text
      // selection. Keyboard users have the "Open link" button.
      const selecting = window.getSelection()?.isCollapsed === false;
      if (entry.link !== null && !selecting) {
        await this.openLink(li, entry);
      }
      return;
    }
    button.disabled = true;
    try {
      await this.rowAction(button.dataset.action, li, entry);
    } finally {
      button.disabled = false;
    }
  }

  async rowAction(action, li, entry) {
    try {
      if (action === "mark-read") {
        await invoke("mark_read", { id: entry.id });
        this.markedRead(li, entry);
      } else if (action === "delete") {
        await invoke("delete_entry", { id: entry.id });
        this.removeRow(li);
        this.messages.say("Deleted.");
      } else if (action === "open-link" && entry.link !== null) {
        await this.openLink(li, entry);
      }
    } catch (error) {
      const what = action === "delete" ? "delete the event" : "mark the event read";
      this.messages.error(`Could not ${what}: ${errorText(error)}`, TRY_AGAIN);
    }
  }

  /** Opens the entry's link in the browser and marks it read: the Rust side finds the link by the entry's id. */
  async openLink(li, entry) {
    try {
      await invoke("open_link", { id: entry.id });
      this.markedRead(li, entry);
    } catch (error) {
      this.messages.error(`Could not open the link: ${errorText(error)}`, TRY_AGAIN);
    }
  }

  markedRead(li, entry) {
    if (entry.read) {
      return;
    }
    entry.read = true;
    const hadFocus = li.querySelector(".action-mark-read") === document.activeElement;
    if (this.unreadOnly.checked) {
      this.removeRow(li);
      return;
    }
    applyRead(li, true);
    if (hadFocus) {
      li.querySelector(".entry-actions button:not([hidden])")?.focus();
    }
  }

  // ---- mark all read, clear all ----------------------------------------------------

  /** The button's label, and the open question's words, for the count and filters now. */
  refreshMarkAll() {
    const state = this.model.markAllState(this.filters());
    const label = markAllLabel(state);
    if (this.markAllButton.textContent !== label) {
      this.markAllButton.textContent = label;
    }
    const asked = markAllQuestion(state);
    const open = this.markAllQuestion.open;
    // Only a button that asks first expands anything.
    if (asked === null && !open) {
      this.markAllButton.removeAttribute("aria-expanded");
    } else {
      this.markAllButton.setAttribute("aria-expanded", String(open));
    }
    if (open && asked === null) {
      this.markAllQuestion.close(false);
    } else if (open) {
      this.askMarkAll(asked);
    }
  }

  askMarkAll(asked) {
    byId("mark-all-confirm-text").textContent = asked.text;
    byId("mark-all-confirm-yes").textContent = asked.confirm;
  }

  onMarkAllClick() {
    if (this.markAllQuestion.close(true)) {
      return;
    }
    const asked = markAllQuestion(this.model.markAllState(this.filters()));
    if (asked === null) {
      this.markAllRead();
      return;
    }
    this.clearQuestion.close(false);
    this.askMarkAll(asked);
    this.markAllQuestion.show();
  }

  async markAllRead() {
    // The button pressed waits; the question's opener stays enabled to take the focus back.
    const pressed = this.markAllQuestion.open ? byId("mark-all-confirm-yes") : this.markAllButton;
    pressed.disabled = true;
    try {
      await invoke("mark_all_read");
      this.markAllQuestion.close(true);
      for (const li of this.list.querySelectorAll("li.entry")) {
        applyRead(li, true);
      }
      if (this.model.markAllRead(this.filters())) {
        this.clearList();
        this.updateEmpty();
        this.updateMore();
      }
      this.hooks.onUnread(0);
      this.messages.say("All events marked read.");
    } catch (error) {
      this.messages.error(`Could not mark all events read: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      pressed.disabled = false;
    }
  }

  onClearClick() {
    if (this.clearQuestion.close(true)) {
      return;
    }
    this.markAllQuestion.close(false);
    this.clearQuestion.show();
  }

  async clearAll() {
    const yes = byId("clear-confirm-yes");
    yes.disabled = true;
    try {
      await invoke("clear_history");
      // The tray process applies it after answering: clear here rather
      // than read a store that may not be cleared yet.
      this.model.cleared();
      this.days.clear();
      this.hideNewAbove();
      this.clearQuestion.close(true);
      this.renderTypes();
      this.hooks.onUnread(0);
      this.updateEmpty();
      this.updateMore();
      this.messages.say("History cleared.");
    } catch (error) {
      this.messages.error(`Could not clear the history: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      yes.disabled = false;
    }
  }

  onNewAboveClick() {
    this.hideNewAbove();
    this.scroller.scrollTo({ top: 0, behavior: reducedMotion() ? "auto" : "smooth" });
    // The pill is gone: the focus goes to the newest row rather than nowhere.
    this.days.firstRow()?.querySelector("button:not([hidden])")?.focus({ preventScroll: true });
  }

  // ---- wiring --------------------------------------------------------------------

  wire() {
    const reload = () => this.reload();
    const searchLater = debounce(reload, 150);
    this.search.addEventListener("input", searchLater);
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        searchLater.cancel();
        reload();
      }
    });
    this.typeFilter.addEventListener("change", reload);
    this.subscriptionFilter.addEventListener("change", reload);
    this.unreadOnly.addEventListener("change", reload);
    this.markAllButton.addEventListener("click", () => this.onMarkAllClick());
    byId("mark-all-confirm-yes").addEventListener("click", () => this.markAllRead());
    byId("clear-all").addEventListener("click", () => this.onClearClick());
    byId("clear-confirm-yes").addEventListener("click", () => this.clearAll());
    this.newAbove.addEventListener("click", () => this.onNewAboveClick());
    this.list.addEventListener("click", (event) => this.onListClick(event));
    this.wireScroll();
  }

  wireScroll() {
    let queued = false;
    const onFrame = () => {
      queued = false;
      if (this.scroller.scrollTop <= AT_TOP) {
        this.hideNewAbove();
      }
      this.maybeLoadMore();
    };
    const onScroll = () => {
      if (!queued) {
        queued = true;
        requestAnimationFrame(onFrame);
      }
    };
    this.scroller.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", () => this.maybeLoadMore());
  }

  // ---- what the rest of the window asks -------------------------------------------

  /** Add what was stored since the list was read (after subscribing late). */
  catchUp() {
    this.mergeNewest();
  }

  /** The subscriptions there are, in the user's order (from a status). */
  setSubscriptionNames(names) {
    this.setSubscriptions(names.filter((name) => typeof name === "string" && name !== ""));
  }

  /** The store's unread count changed. */
  setUnread(count) {
    this.model.unreadTotal = count;
    this.refreshMarkAll();
  }

  /** Puts the focus in the search field, its text selected to type over. */
  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  /** Whether a question (Clear all, Mark all read) is open. */
  get questionOpen() {
    return this.clearQuestion.open || this.markAllQuestion.open;
  }

  /** Closes the open question, giving the focus back to its button. */
  closeQuestion() {
    this.clearQuestion.close(true);
    this.markAllQuestion.close(true);
  }

  /** Re-render times, and day headings after midnight. */
  tick() {
    refreshTimes(this.list);
    this.days.refreshHeadings();
  }
}

/** The History view; see HistoryView's constructor for the hooks. */
export function createHistory(hooks) {
  return new HistoryView(hooks);
}

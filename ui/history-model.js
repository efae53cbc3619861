// The History view's state and decisions, without a page: which rows are
// shown, what to ask the store for, paging, what a live event does, what
// the filters offer and what the list says when it is empty. history.js
// only puts this on the page, so `node --test tests/js/` checks the rest.

import { matchesFilters, entryFromView } from "./entry.js";
import { sameNames, subscriptionCounts } from "./subscriptions.js";

/** Older entries come in pages of this many as the user scrolls down. */
export const PAGE = 100;
/** No history row is shorter than this (px): enough rows to fill the window are this many per height. */
const MIN_ROW_HEIGHT = 60;
/** Rows kept in the page while the user is near the top; older ones are paged in again. */
export const MAX_ROWS = 1000;

/**
 * The filters as the toolbar holds them (`search` and `type` as typed or
 * chosen, "" for none) in the shape the rest uses: null for "any".
 */
export function historyFilters({ search = "", type = "", subscription = "", unreadOnly = false }) {
  const text = search.trim();
  return {
    search: text === "" ? null : text,
    eventType: type === "" ? null : type,
    subscription: subscription === "" ? null : subscription,
    unreadOnly: unreadOnly === true,
  };
}

/** The `history` command's arguments: a page of `limit` entries older than `beforeId` (null: the newest). */
export function historyQuery(filters, beforeId, limit = PAGE) {
  return {
    query: {
      before_id: beforeId,
      limit,
      unread_only: filters.unreadOnly,
      event_type: filters.eventType,
      search: filters.search,
      subscription: filters.subscription,
    },
  };
}

/** Whether a type or subscription filter or a search hides some events (unread ones among them). */
export function narrowed(filters) {
  return filters.eventType !== null || filters.subscription !== null || filters.search !== null;
}

/** How many rows the first page asks for: enough to fill a window `height` px high, never more than a page. */
export function firstPageSize(height) {
  return Math.min(PAGE, Math.ceil(Math.max(height, 400) / MIN_ROW_HEIGHT) + 2);
}

/**
 * A page the store sent, each part checked for shape: its entries (see
 * entryFromView), and when it has them, the event types the store knows,
 * the unread count per subscription and the unread count of all.
 */
export function pageParts(page) {
  const has = page && typeof page === "object";
  const entries = has && Array.isArray(page.entries) ? page.entries.map(entryFromView).filter((entry) => entry !== null) : [];
  const types = has && Array.isArray(page.types) ? page.types.filter((type) => typeof type === "string" && type !== "") : null;
  const counts = has && Array.isArray(page.subscriptions) ? subscriptionCounts(page.subscriptions) : null;
  const unread = has && typeof page.unread === "number" ? page.unread : null;
  return { entries, types, counts, unread };
}

/** The type filter's choices: the known types, and the one selected even when no longer known. */
export function typeChoices(types, selected) {
  return selected !== "" && !types.includes(selected) ? [...types, selected] : types;
}

/**
 * The history list's state: the rows shown and what the page knows around
 * them (types, subscriptions, paging, the request in flight, live events
 * waiting).
 */
export class HistoryModel {
  constructor() {
    /** id → entry shown */
    this.shown = new Map();
    /** The event types known, sorted. */
    this.types = [];
    /** The subscriptions there are, in the user's order: the filter's choices, and whether rows are labelled. */
    this.subscriptionNames = [];
    this.hasMore = false;
    this.loadFailed = false;
    /** The store's unread count, all types: what "Mark all read" marks. */
    this.unreadTotal = 0;
    /** Live rows put above while the user was scrolled down, not yet seen. */
    this.newAbove = 0;
    /** Bumped by every reload (and a clear): answers to older requests are dropped. */
    this.generation = 0;
    /** The request in flight (a token), or null. */
    this.busy = null;
    this.nextToken = 1;
    /** The token of the reload in flight, or null. */
    this.reloading = null;
    /** Live entries that arrived while a reload was running. */
    this.arrivedDuringReload = [];
    /** Live entries waiting to be shown: a burst is laid out once, not once per event. */
    this.liveQueue = [];
  }

  // ---- requests -----------------------------------------------------------------

  /** A reload begins: it replaces the list, and what is queued is committed, so its answer holds it. */
  beginReload() {
    const request = { generation: ++this.generation, token: this.nextToken++ };
    this.arrivedDuringReload = [];
    this.liveQueue = [];
    this.reloading = request.token;
    this.busy = request.token;
    return request;
  }

  /** A next page begins; null when there is none to ask for, or a request is in flight. */
  beginLoadMore() {
    if (this.busy !== null || !this.hasMore || this.shown.size === 0) {
      return null;
    }
    const request = { generation: this.generation, token: this.nextToken++ };
    this.busy = request.token;
    return request;
  }

  /** Whether the answer to `request` still counts (no reload or clear since). */
  isCurrent(request) {
    return request.generation === this.generation;
  }

  /** A reload ended: the live entries that came meanwhile and pass `filters`, to add after its rows. */
  endReload(request, filters) {
    if (this.reloading !== request.token) {
      return [];
    }
    this.reloading = null;
    const late = this.arrivedDuringReload;
    this.arrivedDuringReload = [];
    return this.isCurrent(request) ? late.filter((entry) => matchesFilters(entry, filters)) : [];
  }

  /** A request ended; true when it was the one in flight (the list is then idle). */
  endRequest(request) {
    if (this.busy !== request.token) {
      return false;
    }
    this.busy = null;
    return true;
  }

  // ---- rows ---------------------------------------------------------------------

  /** Forgets every row. */
  clear() {
    this.shown.clear();
    this.newAbove = 0;
  }

  /** Takes in older entries (below every row): those not shown yet, in the order given. */
  takeOlder(entries) {
    const taken = [];
    for (const entry of entries) {
      if (!this.shown.has(entry.id)) {
        this.shown.set(entry.id, entry);
        taken.push(entry);
      }
    }
    return taken;
  }

  /** The entries of `entries` not shown yet, oldest first (each newer one then goes above the last). */
  unseen(entries) {
    return entries.filter((entry) => !this.shown.has(entry.id)).sort((a, b) => a.id - b.id);
  }

  /**
   * Takes in a newer entry: the id of the row it goes above (the newest
   * shown that is older; null to go last), and whether it is the newest of
   * all (it goes on top).
   */
  place(entry) {
    let below = null;
    let newest = true;
    for (const id of this.shown.keys()) {
      if (id > entry.id) {
        newest = false;
      } else if (id < entry.id && (below === null || id > below)) {
        below = id;
      }
    }
    this.shown.set(entry.id, entry);
    return { below, newest };
  }

  /** Forgets a row taken out of the page. */
  forget(id) {
    this.shown.delete(id);
  }

  /** The id of the newest row shown, 0 for none. */
  newestId() {
    let newest = 0;
    for (const id of this.shown.keys()) {
      newest = Math.max(newest, id);
    }
    return newest;
  }

  /** How many of the oldest rows to drop to keep the page bounded. */
  excess() {
    return Math.max(0, this.shown.size - MAX_ROWS);
  }

  // ---- live events --------------------------------------------------------------

  /**
   * A stored event: "merge" (a search is on: the store matches, so ask it),
   * "skip" (the filters hide it), "after-reload" (kept until the reload's
   * rows are in) or "queue" (shown with the next burst).
   */
  live(entry, filters) {
    if (!this.types.includes(entry.event_type)) {
      this.setTypes([...this.types, entry.event_type]);
    }
    if (filters.search !== null) {
      return "merge";
    }
    if (!matchesFilters(entry, filters)) {
      return "skip";
    }
    if (this.reloading !== null) {
      this.arrivedDuringReload.push(entry);
      return "after-reload";
    }
    this.liveQueue.push(entry);
    return "queue";
  }

  /** The queued live entries to show now (those passing `filters`); none while a search or a reload is on. */
  takeQueue(filters) {
    const queued = this.liveQueue;
    this.liveQueue = [];
    if (this.reloading !== null) {
      this.arrivedDuringReload.push(...queued);
      return [];
    }
    return filters.search === null ? queued.filter((entry) => matchesFilters(entry, filters)) : [];
  }

  // ---- what the page knows around the rows ----------------------------------------

  /** The event types known: sorted, each once. */
  setTypes(next) {
    this.types = [...new Set(next)].sort((a, b) => a.localeCompare(b));
    return this.types;
  }

  /**
   * The subscriptions there are changed to `names` (the filter's choice is
   * `selected`, "" for all): null when they did not; else whether the
   * choice stays, the filter shows (two or more), the rows' labels change
   * and the list must be read again (its filter's subscription is gone).
   */
  setSubscriptions(names, selected) {
    if (sameNames(names, this.subscriptionNames)) {
      return null;
    }
    const labelled = this.subscriptionNames.length;
    this.subscriptionNames = [...names];
    const keep = selected !== "" && names.includes(selected) && names.length >= 2;
    return {
      keep,
      showFilter: names.length >= 2,
      // Labels show with two or more, "removed" with one or more.
      relabel: labelled !== names.length || names.length >= 2,
      reload: selected !== "" && !keep,
    };
  }

  /** What "Mark all read" would say (see markAllQuestion): it marks what the filters hide too. */
  markAllState(filters) {
    return { unread: this.unreadTotal, narrowed: narrowed(filters), bySubscription: filters.subscription !== null };
  }

  /** Every row shown is read now; with "Unread only", none is left to show (then true). */
  markAllRead(filters) {
    for (const entry of this.shown.values()) {
      entry.read = true;
    }
    if (!filters.unreadOnly) {
      return false;
    }
    this.clear();
    this.hasMore = false;
    return true;
  }

  /** The history was cleared: nothing left, and no answer asked before counts. */
  cleared() {
    this.generation++;
    this.clear();
    this.hasMore = false;
    this.setTypes([]);
  }

  // ---- what the list says ---------------------------------------------------------

  /** The note for an empty list, or null while it has rows (or is loading its first). */
  emptyText(filters) {
    if (this.shown.size > 0 || this.busy !== null) {
      return null;
    }
    if (this.loadFailed) {
      return "The history could not be read.";
    }
    return filters.unreadOnly || narrowed(filters) ? "No events match these filters." : "No events yet. They appear here as the server sends them.";
  }

  /** The line under the list: loading, the end, or nothing. */
  moreText() {
    if (this.busy !== null) {
      return this.shown.size > 0 ? "Loading…" : "Loading the history…";
    }
    return !this.hasMore && this.shown.size > PAGE ? "That is everything." : "";
  }
}

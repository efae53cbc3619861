// The History view's state and decisions (ui/history-model.js): queries,
// paging, where live rows go, what live events do during a reload or a
// search, the filters' choices and what the list says.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { HistoryModel, MAX_ROWS, PAGE, firstPageSize, historyFilters, historyQuery, narrowed, pageParts, typeChoices } from "../../ui/history-model.js";

const entry = (id, extra = {}) => ({
  id,
  event_type: "message",
  kind: "message",
  received_at_ms: 1_700_000_000_000 + id,
  read: false,
  unread_weight: 1,
  title: null,
  text: `event ${id}`,
  link: null,
  link_host: null,
  subscription: null,
  ...extra,
});

const none = historyFilters({});

describe("filters and queries", () => {
  test("what the toolbar holds, with null for any", () => {
    assert.deepEqual(none, { search: null, eventType: null, subscription: null, unreadOnly: false });
    assert.deepEqual(historyFilters({ search: "  zebra ", type: "alert", subscription: "work", unreadOnly: true }), {
      search: "zebra",
      eventType: "alert",
      subscription: "work",
      unreadOnly: true,
    });
  });

  test("the store is asked for a page before an id, with the filters", () => {
    const filters = historyFilters({ search: "zebra", unreadOnly: true });
    assert.deepEqual(historyQuery(filters, 42), {
      query: { before_id: 42, limit: PAGE, unread_only: true, event_type: null, search: "zebra", subscription: null },
    });
    assert.equal(historyQuery(none, null, 9).query.limit, 9);
  });

  test("a search, a type or a subscription narrows the list; unread only does not", () => {
    assert.equal(narrowed(none), false);
    assert.equal(narrowed(historyFilters({ unreadOnly: true })), false);
    assert.equal(narrowed(historyFilters({ search: "x" })), true);
    assert.equal(narrowed(historyFilters({ subscription: "work" })), true);
  });

  test("the first page fills the window and no more", () => {
    assert.equal(firstPageSize(0), 9);
    assert.equal(firstPageSize(600), 12);
    assert.equal(firstPageSize(100_000), PAGE);
  });

  test("a page's parts, each checked for shape", () => {
    const parts = pageParts({ entries: [entry(2), { id: "x" }], types: ["a", "", 3], subscriptions: [{ name: "w", unread: 2 }], unread: 5 });
    assert.deepEqual(parts.entries.map((e) => e.id), [2]);
    assert.deepEqual(parts.types, ["a"]);
    assert.deepEqual(parts.counts, [{ name: "w", unread: 2 }]);
    assert.equal(parts.unread, 5);
    assert.deepEqual(pageParts(null), { entries: [], types: null, counts: null, unread: null });
  });

  test("the type filter keeps the type chosen even when no longer known", () => {
    assert.deepEqual(typeChoices(["a", "b"], ""), ["a", "b"]);
    assert.deepEqual(typeChoices(["a", "b"], "c"), ["a", "b", "c"]);
  });
});

describe("rows", () => {
  test("older rows are taken in the order given, each once", () => {
    const model = new HistoryModel();
    assert.deepEqual(model.takeOlder([entry(9), entry(7), entry(9)]).map((e) => e.id), [9, 7]);
    assert.deepEqual(model.takeOlder([entry(7), entry(5)]).map((e) => e.id), [5]);
  });

  test("a newer row goes above the newest older one, or on top", () => {
    const model = new HistoryModel();
    model.takeOlder([entry(10), entry(6), entry(2)]);
    const fresh = model.unseen([entry(12), entry(8), entry(6), entry(1)]);
    assert.deepEqual(fresh.map((e) => e.id), [1, 8, 12], "oldest first, none twice");
    assert.deepEqual(model.place(fresh[0]), { below: null, newest: false });
    assert.deepEqual(model.place(fresh[1]), { below: 6, newest: false });
    assert.deepEqual(model.place(fresh[2]), { below: 10, newest: true });
    assert.equal(model.newestId(), 12);
    model.forget(12);
    assert.equal(model.newestId(), 10);
  });

  test("the page keeps at most MAX_ROWS", () => {
    const model = new HistoryModel();
    model.takeOlder(Array.from({ length: MAX_ROWS + 3 }, (_, i) => entry(i + 1)));
    assert.equal(model.excess(), 3);
  });
});

describe("requests", () => {
  test("a reload drops what was queued and makes older answers stale", () => {
    const model = new HistoryModel();
    model.hasMore = true;
    model.takeOlder([entry(3)]);
    const older = model.beginLoadMore();
    assert.notEqual(older, null);
    assert.equal(model.beginLoadMore(), null, "one request at a time");
    model.live(entry(4), none);
    const reload = model.beginReload();
    assert.deepEqual(model.liveQueue, []);
    assert.equal(model.isCurrent(older), false);
    assert.equal(model.isCurrent(reload), true);
    assert.equal(model.endRequest(older), false, "the reload is the one in flight");
    assert.equal(model.endRequest(reload), true);
    assert.equal(model.busy, null);
  });

  test("no next page without rows, or when there is no more", () => {
    const model = new HistoryModel();
    model.hasMore = true;
    assert.equal(model.beginLoadMore(), null);
    model.takeOlder([entry(1)]);
    model.hasMore = false;
    assert.equal(model.beginLoadMore(), null);
  });

  test("live events during a reload come after its rows, if they pass the filters", () => {
    const model = new HistoryModel();
    const reload = model.beginReload();
    const unread = historyFilters({ unreadOnly: true });
    assert.equal(model.live(entry(5), none), "after-reload");
    assert.equal(model.live(entry(6, { read: true }), none), "after-reload");
    assert.deepEqual(model.endReload(reload, unread).map((e) => e.id), [5]);
    assert.deepEqual(model.endReload(reload, unread), [], "once");
  });

  test("what arrived during a reload that another replaced is dropped", () => {
    const model = new HistoryModel();
    const first = model.beginReload();
    model.live(entry(5), none);
    model.generation++;
    assert.deepEqual(model.endReload(first, none), []);
  });
});

describe("live events", () => {
  test("queued for the next burst, skipped when filtered out, merged from the store under a search", () => {
    const model = new HistoryModel();
    assert.equal(model.live(entry(1, { event_type: "alert" }), none), "queue");
    assert.deepEqual(model.types, ["alert"], "a new type is known at once");
    assert.equal(model.live(entry(2), historyFilters({ type: "alert" })), "skip");
    assert.equal(model.live(entry(3), historyFilters({ search: "x" })), "merge");
    assert.deepEqual(model.types, ["alert", "message"]);
    assert.deepEqual(model.takeQueue(none).map((e) => e.id), [1]);
    assert.deepEqual(model.takeQueue(none), []);
  });

  test("a queue taken while a search is on shows nothing; during a reload it waits for it", () => {
    const model = new HistoryModel();
    model.live(entry(1), none);
    assert.deepEqual(model.takeQueue(historyFilters({ search: "x" })), []);
    model.live(entry(2), none);
    model.reloading = 99;
    assert.deepEqual(model.takeQueue(none), []);
    assert.deepEqual(model.arrivedDuringReload.map((e) => e.id), [2]);
  });
});

describe("around the rows", () => {
  test("types sorted, each once", () => {
    const model = new HistoryModel();
    assert.deepEqual(model.setTypes(["b", "a", "b"]), ["a", "b"]);
  });

  test("the subscription filter follows the subscriptions there are", () => {
    const model = new HistoryModel();
    assert.deepEqual(model.setSubscriptions(["a"], ""), { keep: false, showFilter: false, relabel: true, reload: false });
    assert.equal(model.setSubscriptions(["a"], ""), null, "no change");
    assert.deepEqual(model.setSubscriptions(["a", "b"], "b"), { keep: true, showFilter: true, relabel: true, reload: false });
    // The one filtered on is gone: all again, read afresh.
    assert.deepEqual(model.setSubscriptions(["a", "c"], "b"), { keep: false, showFilter: true, relabel: true, reload: true });
    assert.deepEqual(model.setSubscriptions(["a"], "a"), { keep: false, showFilter: false, relabel: true, reload: true });
  });

  test("mark all read: every row read, and none left under unread only", () => {
    const model = new HistoryModel();
    model.takeOlder([entry(1), entry(2)]);
    assert.equal(model.markAllRead(none), false);
    assert.ok([...model.shown.values()].every((e) => e.read));
    model.hasMore = true;
    assert.equal(model.markAllRead(historyFilters({ unreadOnly: true })), true);
    assert.equal(model.shown.size, 0);
    assert.equal(model.hasMore, false);
    model.unreadTotal = 3;
    assert.deepEqual(model.markAllState(historyFilters({ subscription: "w" })), { unread: 3, narrowed: true, bySubscription: true });
  });

  test("cleared: nothing left, and answers asked before are stale", () => {
    const model = new HistoryModel();
    model.takeOlder([entry(1)]);
    model.setTypes(["a"]);
    const asked = model.beginLoadMore() ?? { generation: model.generation };
    model.cleared();
    assert.equal(model.shown.size, 0);
    assert.deepEqual(model.types, []);
    assert.equal(model.isCurrent(asked), false);
  });
});

describe("what the list says", () => {
  test("empty: loading, failed, filtered, or nothing yet", () => {
    const model = new HistoryModel();
    assert.equal(model.emptyText(none), "No events yet. They appear here as the server sends them.");
    assert.equal(model.emptyText(historyFilters({ unreadOnly: true })), "No events match these filters.");
    model.loadFailed = true;
    assert.equal(model.emptyText(none), "The history could not be read.");
    model.beginReload();
    assert.equal(model.emptyText(none), null, "not while the first page loads");
  });

  test("under the list: loading, the end of a long list, or nothing", () => {
    const model = new HistoryModel();
    model.beginReload();
    assert.equal(model.moreText(), "Loading the history…");
    model.takeOlder([entry(1)]);
    assert.equal(model.moreText(), "Loading…");
    model.busy = null;
    assert.equal(model.moreText(), "");
    model.takeOlder(Array.from({ length: PAGE }, (_, i) => entry(i + 2)));
    assert.equal(model.moreText(), "That is everything.");
    model.hasMore = true;
    assert.equal(model.moreText(), "");
  });
});

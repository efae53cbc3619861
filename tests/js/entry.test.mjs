// The EntryView from the Rust side, checked for shape (ui/entry.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { entryFromView, matchesFilters } from "../../ui/entry.js";

const view = {
  id: 7,
  event_type: "message",
  kind: "message",
  received_at_ms: 1_700_000_000_000,
  read: false,
  unread_weight: 1,
  title: "Deploy",
  text: "v2 is live",
  link: "https://example.com/notes",
  link_host: "example.com",
  subscription: "work",
};

test("an EntryView is used as it is", () => {
  assert.deepEqual(entryFromView(view), view);
});

test("no id, no entry", () => {
  assert.equal(entryFromView({ ...view, id: "7" }), null);
  assert.equal(entryFromView({ ...view, id: 1.5 }), null);
  assert.equal(entryFromView(null), null);
  assert.equal(entryFromView("entry"), null);
});

test("odd fields fall back to what a row can show", () => {
  const entry = entryFromView({ id: 3, kind: "evil", title: "   ", text: 42, read: "yes", received_at_ms: "now" });
  assert.equal(entry.kind, "message");
  assert.equal(entry.event_type, "message");
  assert.equal(entry.title, null);
  assert.equal(entry.text, "");
  assert.equal(entry.read, false);
  assert.equal(entry.received_at_ms, null);
  assert.equal(entry.link, null);
  assert.equal(entry.subscription, null);
});

test("the subscription's name, or none for a stream no longer subscribed", () => {
  assert.equal(entryFromView({ ...view, subscription: null }).subscription, null);
  assert.equal(entryFromView({ ...view, subscription: "" }).subscription, null);
  assert.equal(entryFromView({ ...view, subscription: 3 }).subscription, null);
  const { subscription: _, ...older } = view;
  assert.equal(entryFromView(older).subscription, null);
});

test("a host is shown only with a link to open", () => {
  assert.equal(entryFromView({ ...view, link: null }).link_host, null);
  assert.equal(entryFromView({ ...view, link_host: "" }).link_host, null);
  assert.equal(entryFromView({ ...view, link_host: null }).link, "https://example.com/notes");
});

test("live entries and the type and unread filters", () => {
  const entry = entryFromView(view);
  assert.equal(matchesFilters(entry, { eventType: null, unreadOnly: false }), true);
  assert.equal(matchesFilters(entry, { eventType: "message", unreadOnly: true }), true);
  assert.equal(matchesFilters(entry, { eventType: "notification", unreadOnly: false }), false);
  assert.equal(matchesFilters({ ...entry, read: true }, { eventType: null, unreadOnly: true }), false);
});

test("live entries and the subscription filter", () => {
  const entry = entryFromView(view);
  const all = { eventType: null, unreadOnly: false, subscription: null };
  assert.equal(matchesFilters(entry, all), true);
  assert.equal(matchesFilters(entry, { ...all, subscription: "work" }), true);
  assert.equal(matchesFilters(entry, { ...all, subscription: "home" }), false);
  // An entry of a removed subscription matches no subscription's filter, only "All".
  const orphan = { ...entry, subscription: null };
  assert.equal(matchesFilters(orphan, { ...all, subscription: "work" }), false);
  assert.equal(matchesFilters(orphan, all), true);
});

// What the Settings form decides (ui/settings-model.js) and each card in it
// (ui/card-model.js): what is filled in, what is sent, which Problem stops
// a save and where an error goes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  Problem,
  cardHead,
  cardTitle,
  cardValues,
  isBlank,
  readSubscription,
  revealLabel,
  ruleAction,
  rowInputsNamed,
} from "../../ui/card-model.js";
import {
  FormEdits,
  checkNames,
  globalValues,
  offerFor,
  placeOf,
  problemPlace,
  settingsToSend,
  timeValue,
  wholeNumber,
} from "../../ui/settings-model.js";

const fields = (extra = {}) => ({ name: "", server_url: "", channel: "", web_app_url: "", extra_ca_file: "", certificate_pin: "", ...extra });

/** The Problem `run` throws. */
function problemOf(run) {
  try {
    run();
  } catch (problem) {
    assert.ok(problem instanceof Problem, String(problem));
    return problem;
  }
  assert.fail("no Problem");
}

describe("a card", () => {
  test("what a subscription puts in it", () => {
    const values = cardValues({
      name: "work",
      server_url: "https://a.example/stream",
      headers: { Authorization: "Bearer x", "X-N": 3 },
      rules: { ping: "ignore", odd: "explode" },
      notifications: false,
    });
    assert.equal(values.fields.name, "work");
    assert.equal(values.fields.channel, "");
    assert.equal(values.notifications, false);
    assert.deepEqual(values.headers, [
      ["Authorization", "Bearer x"],
      ["X-N", ""],
    ]);
    assert.deepEqual(values.rules, [
      ["ping", "ignore"],
      ["odd", "notify"],
    ]);
    assert.equal(values.savedName, "work");
    assert.equal(cardValues(null).savedName, null);
    assert.equal(ruleAction("store_only"), "store_only");
  });

  test("its title and head: the name typed, else made from the URL", () => {
    assert.equal(cardTitle(fields({ name: " work " })), "work");
    assert.equal(cardTitle(fields({ server_url: "https://a.example:8443/s", channel: "news" })), "a.example:8443/news");
    assert.equal(cardTitle(fields()), "New subscription");
    const head = cardHead(fields({ server_url: "https://a.example/s" }), false);
    assert.deepEqual(head, {
      title: "a.example",
      host: "a.example",
      hostHidden: true,
      muted: true,
      moveUp: "Move a.example up",
      moveDown: "Move a.example down",
      remove: "Remove subscription a.example",
    });
    assert.equal(cardHead(fields({ name: "work", server_url: "https://a.example/s" }), true).hostHidden, false);
    assert.equal(revealLabel(" Authorization "), "Show value of header Authorization");
    assert.equal(revealLabel(""), "Show value of this header");
  });

  test("blank only when never saved and nothing typed, rows included", () => {
    assert.equal(isBlank(null, fields(), ["", " "]), true);
    assert.equal(isBlank("work", fields(), []), false);
    assert.equal(isBlank(null, fields({ channel: "x" }), []), false);
    assert.equal(isBlank(null, fields(), ["Bearer"]), false);
  });

  test("what it sends: its base with what it holds", () => {
    const sub = readSubscription({
      base: { name: "old", secret_headers: ["Authorization"], server_url: "https://old.example/" },
      fields: fields({ name: " work ", server_url: " https://a.example/s ", channel: " news " }),
      notifications: true,
      headers: [
        { name: "Authorization", value: " Bearer x ", input: "h1" },
        { name: "", value: "", input: "h2" },
      ],
      rules: [
        { type: "ping", action: "ignore", input: "r1" },
        { type: " ", action: "notify", input: "r2" },
      ],
    });
    assert.deepEqual(sub, {
      name: "work",
      secret_headers: ["Authorization"],
      server_url: "https://a.example/s",
      channel: "news",
      web_app_url: null,
      extra_ca_file: null,
      certificate_pin: null,
      notifications: true,
      headers: { Authorization: "Bearer x" },
      rules: { ping: "ignore" },
    });
  });

  test("a header without a name, a header twice, a type with two rules: a Problem on that row", () => {
    const read = (headers, rules = []) => () => readSubscription({ base: {}, fields: fields(), notifications: true, headers, rules, card: "card" });
    const nameless = problemOf(read([{ name: " ", value: "x", input: "h1" }]));
    assert.deepEqual([nameless.field, nameless.hint, nameless.card], ["headers", "h1", "card"]);
    assert.match(nameless.message, /needs a name/);
    const twice = problemOf(read([
      { name: "X-A", value: "1", input: "h1" },
      { name: "x-a", value: "2", input: "h2" },
    ]));
    assert.equal(twice.hint, "h2");
    assert.equal(twice.message, "The header x-a is listed twice.");
    const rules = problemOf(read([], [
      { type: "ping", action: "ignore", input: "r1" },
      { type: "ping", action: "notify", input: "r2" },
    ]));
    assert.deepEqual([rules.field, rules.hint, rules.message], ["rules", "r2", "The event type ping has two rules."]);
  });

  test("an error about a row flags the rows holding what it names, else the first", () => {
    const rows = [
      { value: "A", input: "a" },
      { value: "B", input: "b" },
    ];
    assert.deepEqual(rowInputsNamed(rows, "B"), ["b"]);
    assert.deepEqual(rowInputsNamed(rows, "C"), ["a"]);
    assert.deepEqual(rowInputsNamed(rows, null), ["a"]);
    assert.deepEqual(rowInputsNamed([], "A"), []);
  });
});

describe("the form", () => {
  test("what the settings put in the global fields", () => {
    assert.deepEqual(globalValues({ quiet_hours: { from: "7:05", to: "22:00" }, history: { keep_count: 500 }, autostart: true }), {
      notifications: true,
      autostart: true,
      start_hidden: false,
      quiet_from: "07:05",
      quiet_to: "22:00",
      keep_count: "500",
      keep_days: "",
    });
    assert.equal(timeValue("noon"), "");
    assert.equal(timeValue(null), "");
  });

  const values = { notifications: false, autostart: true, start_hidden: false, quiet_from: "", quiet_to: "", keep_count: "10", keep_days: "7" };

  test("what it sends: the settings loaded, the former top-level fields dropped", () => {
    const loaded = { server_url: "https://old/", rules: {}, history: { keep_count: 1, other: "kept" }, unknown_future: 1 };
    const sent = settingsToSend(loaded, [{ name: "a" }], { ...values, quiet_from: "7:00", quiet_to: "08:30" });
    assert.deepEqual(sent, {
      unknown_future: 1,
      subscriptions: [{ name: "a" }],
      notifications: false,
      autostart: true,
      start_hidden: false,
      quiet_hours: { from: "07:00", to: "08:30" },
      history: { keep_count: 10, other: "kept", keep_days: 7 },
    });
    assert.equal(loaded.history.keep_count, 1, "what was loaded is left as it was");
    assert.equal(settingsToSend(null, [], values).quiet_hours, null);
  });

  test("one time of quiet hours, or a count that is not a whole number: a Problem on that field", () => {
    assert.equal(problemOf(() => settingsToSend({}, [], { ...values, quiet_from: "07:00" })).field, "quiet_hours");
    assert.equal(problemOf(() => settingsToSend({}, [], { ...values, keep_days: "1.5" })).field, "history.keep_days");
    assert.equal(problemOf(() => wholeNumber("0", "f", "Entries to keep")).message, "Entries to keep must be a whole number of at least 1.");
    assert.equal(wholeNumber(" 12 ", "f", "x"), 12);
  });

  test("two subscriptions of one name: a Problem on the second", () => {
    checkNames([{ sub: { name: "a" }, card: 1 }]);
    const problem = problemOf(() => checkNames([
      { sub: { name: "a" }, card: 1 },
      { sub: { name: "a" }, card: 2 },
    ]));
    assert.equal(problem.card, 2);
    assert.equal(problem.message, "Two subscriptions are called \u2068a\u2069: give each its own name.");
  });

  test("where an error goes", () => {
    const cards = ["first", "second"];
    const cardOf = (index) => cards[index] ?? null;
    assert.deepEqual(placeOf("subscriptions.1.headers.X-Token", { cardOf }), { card: "second", key: "headers", rest: "X-Token" });
    assert.deepEqual(placeOf("subscriptions.0", { cardOf }), { card: "first", key: "card", rest: null });
    assert.equal(placeOf("subscriptions.5.channel", { cardOf }), null);
    assert.deepEqual(placeOf("history.keep_days", { cardOf }), { card: null, key: "keep_days", rest: null });
    assert.equal(placeOf("nonsense", { cardOf }), null);
    assert.equal(placeOf(null, { cardOf }), null);
    // A test of one card: its fields, and the ones it shows, are about it.
    assert.deepEqual(placeOf("subscription.channel", { cardOf, tested: "t" }), { card: "t", key: "channel", rest: null });
    assert.deepEqual(placeOf("notifications", { cardOf, tested: "t", hasField: (card, key) => key === "notifications" }), {
      card: "t",
      key: "notifications",
      rest: null,
    });
    assert.deepEqual(problemPlace(new Problem("headers", "x", null, "c")), { card: "c", key: "headers", rest: null });
    assert.deepEqual(problemPlace(new Problem("quiet_hours", "x")), { card: null, key: "quiet_hours", rest: null });
  });

  test("the certificate a card offers", () => {
    const offers = [
      { subscription: "b", fingerprint: "AB" },
      { subscription: null, fingerprint: "CD" },
    ];
    assert.equal(offerFor(offers, "b", false).fingerprint, "AB");
    assert.equal(offerFor(offers, "a", true).fingerprint, "CD", "no name: the first card's");
    assert.equal(offerFor(offers, "a", false), null);
  });

  test("unsaved changes: kept through a load, forgotten by a save", () => {
    const edits = new FormEdits();
    assert.equal(edits.dirty, false);
    edits.change("keep_days");
    edits.change("");
    assert.equal(edits.dirty, true);
    assert.equal(edits.has("keep_days"), true);
    edits.loaded();
    assert.equal(edits.dirty, true, "a load leaves an edit alone");
    edits.discard();
    edits.loaded();
    assert.equal(edits.dirty, false, "discarded, then read afresh");
    edits.change(null);
    edits.loaded();
    assert.equal(edits.dirty, false, "a change of nothing named is read over");
    edits.change("subscriptions");
    edits.forget();
    assert.deepEqual([edits.dirty, edits.has("subscriptions")], [false, false]);
  });
});

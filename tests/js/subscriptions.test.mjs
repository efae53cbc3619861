// Several subscriptions: names, order, errors, states and labels (ui/subscriptions.js).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  CONNECTION_STATES,
  certificateOffers,
  defaultName,
  entryLabel,
  hostOf,
  idSuffix,
  isolate,
  loginNames,
  moveItem,
  parseField,
  positionText,
  removeQuestionText,
  sameNames,
  stateName,
  subscriptionCounts,
  subscriptionLines,
  suffixIds,
  uniqueName,
} from "../../ui/subscriptions.js";

describe("a name made from the URL", () => {
  test("the host, with its port when it has one", () => {
    assert.equal(hostOf("https://example.com/stream"), "example.com");
    assert.equal(hostOf("http://127.0.0.1:5001/stream?channel=x"), "127.0.0.1:5001");
    assert.equal(hostOf("https://Example.COM:443/stream"), "example.com");
    assert.equal(hostOf("http://[::1]:8080/events"), "[::1]:8080");
  });

  test("never the user info, which may hold a password", () => {
    assert.equal(hostOf("https://alice:s3cret@example.com/stream"), "example.com");
    assert.equal(hostOf("alice:s3cret@example.com/stream"), "example.com");
  });

  test("typed without a scheme", () => {
    assert.equal(hostOf("example.com/stream"), "example.com");
    assert.equal(hostOf("localhost:8080/events"), "localhost:8080");
  });

  test("nothing to name it by", () => {
    assert.equal(hostOf(""), "");
    assert.equal(hostOf("   "), "");
    assert.equal(hostOf(null), "");
    assert.equal(hostOf("javascript:alert(1)"), "");
    assert.equal(hostOf("mailto:someone"), "");
  });

  test("host[:port], plus /channel when a channel is set", () => {
    assert.equal(defaultName("https://example.com/stream", ""), "example.com");
    assert.equal(defaultName("https://example.com/stream", "  news "), "example.com/news");
    assert.equal(defaultName("http://localhost:5000/stream", "sse"), "localhost:5000/sse");
    assert.equal(defaultName("", "news"), "");
    assert.equal(defaultName("https://example.com/stream", undefined), "example.com");
  });

  test("the same names the tray process makes (the cases a Rust test checks too)", () => {
    const cases = JSON.parse(readFileSync(new URL("./default-names.json", import.meta.url), "utf8"));
    assert.ok(cases.length > 3);
    for (const [url, channel, name] of cases) {
      assert.equal(defaultName(url, channel), name, `${url} ${channel}`);
    }
  });

  test("a name taken gets -2, -3…", () => {
    assert.equal(uniqueName("example.com", []), "example.com");
    assert.equal(uniqueName("example.com", ["example.com"]), "example.com-2");
    assert.equal(uniqueName("example.com", ["example.com", "example.com-2"]), "example.com-3");
    assert.equal(uniqueName("example.com", ["Example.com"]), "example.com-2");
    assert.equal(uniqueName("x", new Set(["x", "x-3"])), "x-2");
    assert.equal(uniqueName("", ["x"]), "");
  });
});

describe("order", () => {
  test("moving an item up and down", () => {
    assert.deepEqual(moveItem(["a", "b", "c"], 1, -1), ["b", "a", "c"]);
    assert.deepEqual(moveItem(["a", "b", "c"], 1, 1), ["a", "c", "b"]);
    assert.deepEqual(moveItem(["a", "b", "c"], 0, 2), ["b", "c", "a"]);
  });

  test("at the edges, or for no item, nothing moves; the list given is never changed", () => {
    const list = ["a", "b", "c"];
    assert.deepEqual(moveItem(list, 0, -1), ["a", "b", "c"]);
    assert.deepEqual(moveItem(list, 2, 1), ["a", "b", "c"]);
    assert.deepEqual(moveItem(list, -1, 1), ["a", "b", "c"]);
    assert.deepEqual(moveItem(list, 5, -1), ["a", "b", "c"]);
    assert.notEqual(moveItem(list, 1, -1), list);
    assert.deepEqual(list, ["a", "b", "c"]);
  });

  test("the new place is said, counted from 1", () => {
    assert.equal(positionText("work", 0, 3), `${isolate("work")} moved to position 1 of 3. Save to keep this order.`);
    assert.equal(positionText("", 2, 3), "The new subscription moved to position 3 of 3. Save to keep this order.");
  });

  test("a name in a sentence is isolated for bidi", () => {
    assert.equal(isolate("\u202Eevil"), "\u2068\u202Eevil\u2069");
  });

  test("the first card keeps the page's ids, the others are numbered", () => {
    assert.equal(idSuffix(0), "");
    assert.equal(idSuffix(1), "-2");
    assert.equal(idSuffix(4), "-5");
    const known = new Set(["hint-channel", "error-channel", "channel"]);
    assert.equal(suffixIds("hint-channel error-channel", known, "-2"), "hint-channel-2 error-channel-2");
    assert.equal(suffixIds("channel", known, ""), "channel");
    // Ids not of the card (a row's own, the page's #known-types) stay.
    assert.equal(suffixIds("known-types", known, "-3"), "known-types");
    assert.equal(suffixIds("header-value-7  error-channel", known, "-3"), "header-value-7 error-channel-3");
  });
});

describe("where a settings error goes", () => {
  test("a subscription's field, by its index in the array sent", () => {
    assert.deepEqual(parseField("subscriptions.1.server_url"), { scope: "subscription", index: 1, key: "server_url", rest: null });
    assert.deepEqual(parseField("subscriptions.0.name"), { scope: "subscription", index: 0, key: "name", rest: null });
    assert.deepEqual(parseField("subscriptions.2.headers.X-Token"), { scope: "subscription", index: 2, key: "headers", rest: "X-Token" });
    assert.deepEqual(parseField("subscriptions.2.rules.a.b"), { scope: "subscription", index: 2, key: "rules", rest: "a.b" });
    assert.deepEqual(parseField("subscriptions.3"), { scope: "subscription", index: 3, key: null, rest: null });
  });

  test("the one subscription a test was of", () => {
    assert.deepEqual(parseField("subscription.channel"), { scope: "subscription", index: null, key: "channel", rest: null });
  });

  test("a field that once was top-level is the first subscription's", () => {
    assert.deepEqual(parseField("server_url"), { scope: "subscription", index: 0, key: "server_url", rest: null });
    assert.deepEqual(parseField("headers.Authorization"), { scope: "subscription", index: 0, key: "headers", rest: "Authorization" });
    assert.deepEqual(parseField("name"), { scope: "subscription", index: 0, key: "name", rest: null });
    assert.deepEqual(parseField("secret_headers"), { scope: "subscription", index: 0, key: "secret_headers", rest: null });
  });

  test("global fields", () => {
    assert.deepEqual(parseField("history.keep_days"), { scope: "global", index: null, key: "keep_days", rest: null });
    assert.deepEqual(parseField("quiet_hours"), { scope: "global", index: null, key: "quiet_hours", rest: null });
    assert.deepEqual(parseField("notifications"), { scope: "global", index: null, key: "notifications", rest: null });
    assert.deepEqual(parseField("subscriptions"), { scope: "global", index: null, key: "subscriptions", rest: null });
  });

  test("no field", () => {
    for (const field of [null, undefined, "", "  ", 7]) {
      assert.equal(parseField(field).scope, "none");
    }
  });
});

describe("the question before removing a saved subscription", () => {
  test("with its unread count when the history told it", () => {
    assert.equal(removeQuestionText(3), "Its stored events (3 of them unread) can stay in the history or be deleted.");
    assert.equal(removeQuestionText(1), "Its stored events (1 of them unread) can stay in the history or be deleted.");
  });

  test("without a number otherwise", () => {
    for (const unread of [0, undefined, null, -1, 2.5, "3"]) {
      assert.equal(removeQuestionText(unread), "Its stored events can stay in the history or be deleted.");
    }
  });
});

describe("states", () => {
  const line = (name, state, extra = {}) => ({
    name,
    server: `${name}.example`,
    state: { state, ...extra },
    state_text: `${name} is ${state}`,
    since_ms: 1,
    last_event_ms: null,
    events_received: 4,
    reconnects: 0,
  });

  test("the states' names are Rust's (ConnectionState's tags)", () => {
    const rust = JSON.parse(readFileSync(new URL("./rust-names.json", import.meta.url), "utf8")).ConnectionState;
    assert.deepEqual([...CONNECTION_STATES], rust);
    for (const name of rust) {
      assert.equal(stateName({ state: name }), name);
    }
  });

  test("a state's name; anything unknown is connecting", () => {
    assert.equal(stateName({ state: "open" }), "open");
    assert.equal(stateName({ state: "offline" }), "offline");
    assert.equal(stateName({ state: "bogus" }), "connecting");
    assert.equal(stateName(null), "connecting");
  });

  test("the lines of a status, in its order, nameless and repeated ones left out", () => {
    const status = {
      subscriptions: [line("a", "open"), { name: "" }, line("b", "retrying", { detail: "HTTP 503", certificate: "AB:CD" }), line("a", "stopped"), null],
    };
    const lines = subscriptionLines(status);
    assert.deepEqual(
      lines.map((l) => [l.name, l.state, l.stateText]),
      [
        ["a", "open", "a is open"],
        ["b", "retrying", "b is retrying"],
      ],
    );
    assert.equal(lines[1].detail, "HTTP 503");
    assert.equal(lines[1].certificate, "AB:CD");
    assert.equal(lines[0].certificate, null);
    assert.equal(lines[0].lastEventMs, null);
    assert.equal(lines[0].eventsReceived, 4);
    assert.deepEqual(subscriptionLines({}), []);
    assert.deepEqual(subscriptionLines(null), []);
  });

  test("certificates offered, each for the subscription that was refused", () => {
    const status = { state: { state: "retrying", certificate: "AB" }, subscriptions: [line("a", "open"), line("b", "retrying", { certificate: "AB" })] };
    assert.deepEqual(certificateOffers(status), [{ subscription: "b", fingerprint: "AB" }]);
    assert.deepEqual(certificateOffers({ state: { state: "retrying", certificate: "CD" } }), [{ subscription: null, fingerprint: "CD" }]);
    // Only the aggregate carries it: the only subscription's, else no name's.
    const only = { state: { state: "retrying", certificate: "EF" }, subscriptions: [line("a", "retrying")] };
    assert.deepEqual(certificateOffers(only), [{ subscription: "a", fingerprint: "EF" }]);
    const two = { state: { state: "retrying", certificate: "EF" }, subscriptions: [line("a", "retrying"), line("b", "open")] };
    assert.deepEqual(certificateOffers(two), [{ subscription: null, fingerprint: "EF" }]);
    assert.deepEqual(certificateOffers({ state: { state: "retrying", certificate: "" } }), []);
    assert.deepEqual(certificateOffers(null), []);
  });
});

describe("history and login", () => {
  test("the per-subscription counts, in a known shape", () => {
    assert.deepEqual(
      subscriptionCounts([{ name: "a", unread: 2 }, { name: "b" }, { name: "a", unread: 5 }, { unread: 1 }, { name: "c", unread: -4 }]),
      [
        { name: "a", unread: 2 },
        { name: "b", unread: 0 },
        { name: "c", unread: 0 },
      ],
    );
    assert.deepEqual(subscriptionCounts(undefined), []);
  });

  test("a row's label: the name with two or more subscriptions", () => {
    assert.deepEqual(entryLabel("work", ["work", "home"]), { text: "work", removed: false });
    assert.equal(entryLabel("work", ["work"]), null);
    assert.equal(entryLabel("work", []), null);
  });

  test("a row of a stream no longer subscribed says so, except on the demo", () => {
    assert.deepEqual(entryLabel(null, ["work"]), { text: "removed", removed: true });
    assert.deepEqual(entryLabel(null, ["work", "home"]), { text: "removed", removed: true });
    assert.equal(entryLabel(null, []), null);
  });

  test("the subscriptions that sent login events, each once", () => {
    assert.deepEqual(loginNames({ subscriptions_with_login: ["a", "b", "a", "", 3] }), ["a", "b"]);
    assert.deepEqual(loginNames({}), []);
    assert.deepEqual(loginNames(null), []);
  });

  test("the same names in the same order", () => {
    assert.equal(sameNames(["a", "b"], ["a", "b"]), true);
    assert.equal(sameNames(["a", "b"], ["b", "a"]), false);
    assert.equal(sameNames([], []), true);
    assert.equal(sameNames(["a"], ["a", "b"]), false);
  });
});

// What the Status view and the header show (ui/status-model.js): the tray
// process's words as they come, the counters, the lines, the offer.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  NOT_RUNNING,
  StatusModel,
  bytesText,
  countText,
  errorDetailText,
  lineCountsText,
  lineDetailText,
  problemTexts,
  statusOffer,
  wholeConnection,
} from "../../ui/status-model.js";

const line = (name, state, extra = {}) => ({
  name,
  server: `https://${name}.example/stream`,
  state: { state, ...extra },
  state_text: `${name} is ${state}`,
  since_ms: 1,
  last_event_ms: null,
  events_received: 4,
  reconnects: 0,
});

/** A status as the tray process makes it for two subscriptions, one of them retrying. */
const twoOfThem = {
  state: { state: "open", host: "a.example" },
  summary: "1 of 2 connected",
  state_text: "1 of 2 connected (b: Retrying in 4 s: refused)",
  subscriptions: [line("a", "open"), line("b", "retrying", { detail: "connection refused (os error 111)" })],
  events_received: 8,
  last_event_ms: null,
};

describe("the connection as a whole", () => {
  test("the tray process's summary in the header, its full words beneath", () => {
    assert.deepEqual(wholeConnection(twoOfThem), {
      state: "open",
      words: "1 of 2 connected",
      detail: "1 of 2 connected (b: Retrying in 4 s: refused)",
    });
  });

  test("said once when short and full are the same", () => {
    const all = { state: { state: "open" }, summary: "Connected to all 2 subscriptions", state_text: "Connected to all 2 subscriptions" };
    assert.deepEqual(wholeConnection(all), { state: "open", words: "Connected to all 2 subscriptions", detail: "" });
  });

  test("without a summary, the full words; the page words no state itself", () => {
    assert.deepEqual(wholeConnection({ state: { state: "retrying" }, state_text: "Retrying in 2 s: HTTP 503" }), {
      state: "retrying",
      words: "Retrying in 2 s: HTTP 503",
      detail: "",
    });
    assert.equal(wholeConnection(null).state, "connecting");
    assert.equal(NOT_RUNNING, "SSE Tray is not running");
  });

  test("the error chain and the problems, as the tray process words them", () => {
    assert.equal(errorDetailText({ state: { state: "retrying", detail: "tls: bad certificate" } }), "Details: tls: bad certificate");
    assert.equal(errorDetailText({ state: { state: "open" } }), "");
    assert.deepEqual(problemTexts({ settings_problem: "Settings not used: x", store_problem: null, tray_problem: "No tray" }), [
      "Settings not used: x",
      "No tray",
    ]);
    assert.deepEqual(problemTexts(null), []);
  });
});

describe("counters", () => {
  test("counts and sizes, a dash when unknown", () => {
    assert.equal(countText(3), "3");
    assert.equal(countText(undefined), "—");
    assert.equal(bytesText(512), "512 bytes");
    assert.equal(bytesText(1536), "1.5 KiB");
    assert.equal(bytesText(5 * 1024 ** 3), "5.0 GiB");
    assert.equal(bytesText(-1), "—");
    assert.equal(bytesText(Number.NaN), "—");
  });

  test("a line's counts and details", () => {
    assert.equal(lineCountsText({ eventsReceived: 1, reconnects: 0 }), " · 1 event");
    assert.equal(lineCountsText({ eventsReceived: 4, reconnects: 2 }), " · 4 events · 2 reconnects");
    assert.equal(lineCountsText({ eventsReceived: null, reconnects: 1 }), " · 1 reconnect");
    assert.equal(lineCountsText({ eventsReceived: null, reconnects: null }), "");
    assert.equal(lineDetailText({ detail: "HTTP 503" }), "Details: HTTP 503");
    assert.equal(lineDetailText({ detail: "" }), "");
  });

  test("a stored event moves the counters until the next status", () => {
    const model = new StatusModel();
    assert.equal(model.noteStored("a", 5), null, "nothing known yet");
    model.take(structuredClone(twoOfThem));
    const touched = model.noteStored("b", 1000);
    assert.equal(touched.name, "b");
    assert.equal(touched.eventsReceived, 5);
    assert.equal(touched.lastEventMs, 1000);
    assert.equal(model.current.events_received, 9);
    assert.equal(model.current.last_event_ms, 1000);
    assert.equal(model.noteStored(null, 2000), null, "no subscription named");
    assert.equal(model.current.events_received, 10);
    model.take(structuredClone(twoOfThem));
    assert.equal(model.lines.get("b").eventsReceived, 4, "the next status is the truth");
  });
});

describe("the view's state", () => {
  test("a status is taken whole; anything else leaves it", () => {
    const model = new StatusModel();
    assert.equal(model.take("nonsense"), false);
    assert.equal(model.current, null);
    assert.equal(model.take(twoOfThem), true);
    assert.deepEqual(model.names, ["a", "b"]);
    assert.equal(model.lines.get("b").stateText, "b is retrying");
  });

  test("a live state moves that line's dot, and the whole one's with a single subscription", () => {
    const model = new StatusModel();
    model.take(twoOfThem);
    assert.deepEqual(model.liveState({ subscription: "b", state: { state: "open" } }), { line: "b", state: "open", whole: null });
    assert.deepEqual(model.liveState({ subscription: "gone", state: { state: "stopped" } }), { line: null, state: "stopped", whole: null });
    model.take({ ...twoOfThem, subscriptions: [line("a", "open")] });
    assert.deepEqual(model.liveState({ subscription: "a", state: { state: "offline" } }), { line: "a", state: "offline", whole: "offline" });
    assert.deepEqual(model.liveState(null), { line: null, state: null, whole: null });
  });

  test("the certificate offered, named only among several", () => {
    const refused = { ...twoOfThem, subscriptions: [line("a", "open"), line("b", "retrying", { certificate: "AB:CD" })] };
    assert.deepEqual(statusOffer(refused), { fingerprint: "AB:CD", subscription: "b", shownName: "b" });
    const only = { state: { state: "retrying", certificate: "EF" }, subscriptions: [line("a", "retrying")] };
    assert.deepEqual(statusOffer(only), { fingerprint: "EF", subscription: "a", shownName: null });
    assert.equal(statusOffer(twoOfThem), null);
    const model = new StatusModel();
    model.take(only);
    assert.equal(model.trustFor(null), "a", "no offer named: the first subscription");
    assert.equal(model.trustFor({ subscription: "b" }), "b");
  });
});

// The live events' one table (ui/live.js), and that it is Rust's: the tags
// in tests/js/rust-names.json are the ones a Rust test reads from
// WindowEvent itself (src-tauri/ipc/tests.rs).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { LIVE_EVENTS, liveDispatch } from "../../ui/live.js";

const rustTags = JSON.parse(readFileSync(new URL("./rust-names.json", import.meta.url), "utf8")).WindowEvent;

/** A handler for each tag that records what it was given. */
function recording() {
  const calls = [];
  const handlers = Object.fromEntries(LIVE_EVENTS.map((type) => [type, (value) => calls.push([type, value])]));
  return { calls, handlers };
}

test("the page takes exactly the live events Rust sends, no more, no fewer", () => {
  assert.deepEqual([...LIVE_EVENTS], rustTags);
});

test("each live event goes to its own handler with its value", () => {
  const { calls, handlers } = recording();
  const dispatch = liveDispatch(handlers, () => assert.fail("nothing is unknown here"));
  for (const type of LIVE_EVENTS) {
    assert.equal(dispatch({ type, value: { of: type } }), true);
  }
  assert.deepEqual(
    calls,
    LIVE_EVENTS.map((type) => [type, { of: type }]),
  );
});

test("an unknown live event is a logged error, not a silent miss", () => {
  const { calls, handlers } = recording();
  const logged = [];
  const dispatch = liveDispatch(handlers, (message) => logged.push(message));
  assert.equal(dispatch({ type: "exploded", value: 1 }), false);
  assert.equal(dispatch({ value: 1 }), false);
  assert.equal(dispatch(null), false);
  assert.equal(dispatch({ type: "toString" }), false, "nothing inherited is a handler");
  assert.deepEqual(calls, []);
  assert.equal(logged.length, 4);
  assert.match(logged[0], /"exploded"/);
});

test("a table that lacks a variant, or has one Rust does not send, is refused", () => {
  const { handlers } = recording();
  const { stored, ...withoutStored } = handlers;
  assert.ok(stored);
  assert.throws(() => liveDispatch(withoutStored), /lacks \[stored\]/);
  assert.throws(() => liveDispatch({ ...handlers, exploded() {} }), /too many \[exploded\]/);
  assert.throws(() => liveDispatch({ ...handlers, status: "not a function" }), /lacks \[status\]/);
});

test("the window's table (ui/app.js) has a handler for each variant", () => {
  const source = readFileSync(new URL("../../ui/app.js", import.meta.url), "utf8");
  const start = source.indexOf("liveDispatch({");
  assert.ok(start > 0, "app.js builds its table with liveDispatch");
  let depth = 0;
  let end = start + "liveDispatch(".length;
  for (; end < source.length; end++) {
    depth += source[end] === "{" ? 1 : source[end] === "}" ? -1 : 0;
    if (depth === 0) {
      break;
    }
  }
  const table = source.slice(start, end);
  const keys = [...table.matchAll(/^ {2}([a-z_]+)(?=\s*[:(])/gm)].map((match) => match[1]);
  assert.deepEqual(keys.sort(), [...LIVE_EVENTS].sort());
});

// The views and the keys on their tabs (ui/tabs.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { VIEWS, viewAfterKey, viewFromHash } from "../../ui/tabs.js";

test("a hash names a view; anything else is the history", () => {
  assert.deepEqual([...VIEWS], ["history", "login", "settings", "status"]);
  assert.equal(viewFromHash("#status"), "status");
  assert.equal(viewFromHash("settings"), "settings");
  assert.equal(viewFromHash("#elsewhere"), "history");
  assert.equal(viewFromHash(""), "history");
  assert.equal(viewFromHash(undefined), "history");
});

test("arrows go round, Home and End go to the ends, other keys do nothing", () => {
  assert.equal(viewAfterKey("ArrowRight", "history"), "login");
  assert.equal(viewAfterKey("ArrowDown", "status"), "history");
  assert.equal(viewAfterKey("ArrowLeft", "history"), "status");
  assert.equal(viewAfterKey("ArrowUp", "settings"), "login");
  assert.equal(viewAfterKey("Home", "status"), "history");
  assert.equal(viewAfterKey("End", "login"), "status");
  assert.equal(viewAfterKey("Enter", "login"), null);
  assert.equal(viewAfterKey("a", "login"), null);
});

// The window's keyboard shortcuts (ui/keys.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { escapeAction, isEditing, shortcutOf } from "../../ui/keys.js";

test("text fields, selects and editable regions take typed keys; buttons and checkboxes do not", () => {
  assert.equal(isEditing({ tagName: "INPUT", type: "search" }), true);
  assert.equal(isEditing({ tagName: "INPUT", type: "password" }), true);
  assert.equal(isEditing({ tagName: "TEXTAREA" }), true);
  assert.equal(isEditing({ tagName: "SELECT" }), true);
  assert.equal(isEditing({ tagName: "DIV", isContentEditable: true }), true);
  assert.equal(isEditing({ tagName: "INPUT", type: "checkbox" }), false);
  assert.equal(isEditing({ tagName: "BUTTON" }), false);
  assert.equal(isEditing(null), false);
});

test("Ctrl+F searches, and / does where nothing is being typed", () => {
  assert.equal(shortcutOf({ key: "f", ctrlKey: true }), "search");
  assert.equal(shortcutOf({ key: "F", ctrlKey: true, editing: true }), "search");
  assert.equal(shortcutOf({ key: "/" }), "search");
  assert.equal(shortcutOf({ key: "/", editing: true }), null);
  assert.equal(shortcutOf({ key: "f" }), null);
  assert.equal(shortcutOf({ key: "f", ctrlKey: true, altKey: true }), null);
});

test("Ctrl+W closes; other keys are left alone", () => {
  assert.equal(shortcutOf({ key: "w", ctrlKey: true }), "close");
  assert.equal(shortcutOf({ key: "w", ctrlKey: true, editing: true }), "close");
  assert.equal(shortcutOf({ key: "w" }), null);
  assert.equal(shortcutOf({ key: "Escape" }), "escape");
  assert.equal(shortcutOf({ key: "Escape", ctrlKey: true }), null);
  assert.equal(shortcutOf({ key: "ArrowRight" }), null);
  assert.equal(shortcutOf({ key: "Enter" }), null);
});

test("Escape closes what is open first, and the window last", () => {
  const quiet = { questionOpen: false, errorShown: false, editing: false, unsavedSettings: false };
  assert.equal(escapeAction(quiet), "close-window");
  assert.equal(escapeAction({ ...quiet, questionOpen: true, errorShown: true, editing: true }), "close-question");
  assert.equal(escapeAction({ ...quiet, errorShown: true, editing: true }), "dismiss-error");
  assert.equal(escapeAction({ ...quiet, editing: true }), "none");
  assert.equal(escapeAction({ ...quiet, unsavedSettings: true }), "unsaved");
});

// The window's views and the keys that move between their tabs, decided
// from plain values so that `node --test tests/js/` checks them.

/** The views, in the tabs' order. */
export const VIEWS = Object.freeze(["history", "login", "settings", "status"]);

/** The view a location's hash names ("#status"); the history for anything else. */
export function viewFromHash(hash) {
  const name = typeof hash === "string" ? hash.replace(/^#/, "") : "";
  return VIEWS.includes(name) ? name : "history";
}

/** The view a key pressed on the tabs moves to from `current`; null for a key the tabs leave alone. */
export function viewAfterKey(key, current) {
  const index = Math.max(0, VIEWS.indexOf(current));
  switch (key) {
    case "ArrowRight":
    case "ArrowDown":
      return VIEWS[(index + 1) % VIEWS.length];
    case "ArrowLeft":
    case "ArrowUp":
      return VIEWS[(index - 1 + VIEWS.length) % VIEWS.length];
    case "Home":
      return VIEWS[0];
    case "End":
      return VIEWS[VIEWS.length - 1];
    default:
      return null;
  }
}

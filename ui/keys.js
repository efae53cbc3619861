// The window's keyboard shortcuts, decided from plain values so that tests
// can check them: Ctrl+F and "/" search, Ctrl+W closes, Escape closes what
// is open, else the window.

/** Input types that take no typed text: a key pressed on them is not editing. */
const NOT_TYPED = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"]);

/** Whether the focused element takes typed text (a text field, a select, an editable region). */
export function isEditing(element) {
  if (!element || typeof element.tagName !== "string") {
    return false;
  }
  const tag = element.tagName.toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable === true) {
    return true;
  }
  return tag === "INPUT" && !NOT_TYPED.has(String(element.type).toLowerCase());
}

/**
 * What a key press is: "search", "close", "escape", or null for a key the
 * window leaves alone. `editing`: whether the focus takes typed text.
 */
export function shortcutOf({ key, ctrlKey = false, metaKey = false, altKey = false, editing = false }) {
  const letter = typeof key === "string" ? key.toLowerCase() : "";
  if (ctrlKey && !metaKey && !altKey) {
    if (letter === "f") {
      return "search";
    }
    if (letter === "w") {
      return "close";
    }
    return null;
  }
  if (ctrlKey || metaKey || altKey) {
    return null;
  }
  if (key === "/" && !editing) {
    return "search";
  }
  return key === "Escape" ? "escape" : null;
}

/**
 * What Escape does, first match wins: close an open question, dismiss the
 * error shown, nothing while a field is being edited (Escape belongs to
 * it), keep the window when settings are unsaved (say so instead), else
 * close the window.
 *
 * @returns {"close-question"|"dismiss-error"|"none"|"unsaved"|"close-window"}
 */
export function escapeAction({ questionOpen, errorShown, editing, unsavedSettings }) {
  if (questionOpen) {
    return "close-question";
  }
  if (errorShown) {
    return "dismiss-error";
  }
  if (editing) {
    return "none";
  }
  return unsavedSettings ? "unsaved" : "close-window";
}

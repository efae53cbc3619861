// What the window tells the user. A message (done, saved…) is said politely
// in a small toast at the bottom that goes away by itself. An error is said
// assertively in a bar under the tabs, which pushes the view down rather
// than covering it, says what to do, and stays until dismissed (its button,
// Escape) or until what failed works again.

import { byId } from "./dom.js";

/** What to do when an action failed: most failures are a tray process that is not answering. */
export const TRY_AGAIN = "Try again. If it keeps failing, check that SSE Tray is running.";

const SAY_MS = 5_000;
/** Text is set this long after its region shows or empties, so that screen readers announce it, also when it repeats. */
const ANNOUNCE_DELAY_MS = 30;

/**
 * @param {object} hooks
 * @param {() => void} hooks.focusAway  where the focus goes when the bar it was in closes
 */
export function createMessages({ focusAway }) {
  const toast = byId("messages");
  const bar = byId("error-bar");
  const text = byId("error-text");
  const advice = byId("error-advice");
  const actionButton = byId("error-action");
  const dismissButton = byId("error-dismiss");

  let toastTimer = null;
  let errorTimer = null;
  /** What the error shown is about (e.g. "history"), so that success there clears it. */
  let errorKey = null;
  let action = null;

  function say(message) {
    clearTimeout(toastTimer);
    toast.textContent = "";
    toastTimer = setTimeout(() => {
      toast.textContent = message;
      toastTimer = setTimeout(() => {
        toast.textContent = "";
      }, SAY_MS);
    }, ANNOUNCE_DELAY_MS);
  }

  /**
   * Shows an error until dismissed.
   * @param {string} message  what went wrong
   * @param {string} whatToDo  what the user can do about it
   * @param {object} [options]
   * @param {string} [options.key]  what it is about: clearError(key) ends it once that works again
   * @param {{label: string, run: () => void}} [options.action]  a button beside it, e.g. "Try again"
   */
  function error(message, whatToDo, { key = null, action: offered = null } = {}) {
    clearTimeout(errorTimer);
    errorKey = key;
    action = offered;
    actionButton.hidden = offered === null;
    if (offered !== null) {
      actionButton.textContent = offered.label;
    }
    const show = () => {
      text.textContent = message;
      advice.textContent = whatToDo;
    };
    if (bar.hidden) {
      // An alert that appears with its text is announced as it appears.
      show();
      bar.hidden = false;
      return;
    }
    // Already shown: emptied first, so that the same text is said again.
    text.textContent = "";
    advice.textContent = "";
    errorTimer = setTimeout(show, ANNOUNCE_DELAY_MS);
  }

  function dismiss() {
    clearTimeout(errorTimer);
    const hadFocus = bar.contains(document.activeElement);
    bar.hidden = true;
    text.textContent = "";
    advice.textContent = "";
    errorKey = null;
    action = null;
    if (hadFocus) {
      focusAway();
    }
  }

  dismissButton.addEventListener("click", dismiss);
  actionButton.addEventListener("click", () => {
    const run = action?.run;
    dismiss();
    run?.();
  });

  return {
    say,
    error,
    dismiss,
    /** Ends the error shown if it is about `key`: what failed works now. */
    clearError(key) {
      if (!bar.hidden && errorKey === key) {
        dismiss();
      }
    },
    get errorShown() {
      return !bar.hidden;
    },
  };
}

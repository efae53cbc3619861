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

class Messages {
  /**
   * @param {object} hooks
   * @param {() => void} hooks.focusAway  where the focus goes when the bar it was in closes
   */
  constructor({ focusAway }) {
    this.focusAway = focusAway;
    this.toast = byId("messages");
    this.bar = byId("error-bar");
    this.text = byId("error-text");
    this.advice = byId("error-advice");
    this.actionButton = byId("error-action");
    this.toastTimer = null;
    this.errorTimer = null;
    /** What the error shown is about (e.g. "history"), so that success there clears it. */
    this.errorKey = null;
    this.action = null;
    byId("error-dismiss").addEventListener("click", () => this.dismiss());
    this.actionButton.addEventListener("click", () => {
      const run = this.action?.run;
      this.dismiss();
      run?.();
    });
  }

  say(message) {
    clearTimeout(this.toastTimer);
    this.toast.textContent = "";
    this.toastTimer = setTimeout(() => {
      this.toast.textContent = message;
      this.toastTimer = setTimeout(() => {
        this.toast.textContent = "";
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
  error(message, whatToDo, { key = null, action = null } = {}) {
    clearTimeout(this.errorTimer);
    this.errorKey = key;
    this.action = action;
    this.actionButton.hidden = action === null;
    if (action !== null) {
      this.actionButton.textContent = action.label;
    }
    const show = () => {
      this.text.textContent = message;
      this.advice.textContent = whatToDo;
    };
    if (this.bar.hidden) {
      // An alert that appears with its text is announced as it appears.
      show();
      this.bar.hidden = false;
      return;
    }
    // Already shown: emptied first, so that the same text is said again.
    this.text.textContent = "";
    this.advice.textContent = "";
    this.errorTimer = setTimeout(show, ANNOUNCE_DELAY_MS);
  }

  dismiss() {
    clearTimeout(this.errorTimer);
    const hadFocus = this.bar.contains(document.activeElement);
    this.bar.hidden = true;
    this.text.textContent = "";
    this.advice.textContent = "";
    this.errorKey = null;
    this.action = null;
    if (hadFocus) {
      this.focusAway();
    }
  }

  /** Ends the error shown if it is about `key`: what failed works now. */
  clearError(key) {
    if (!this.bar.hidden && this.errorKey === key) {
      this.dismiss();
    }
  }

  get errorShown() {
    return !this.bar.hidden;
  }
}

/** The window's messages; see Messages' constructor for the hooks. */
export function createMessages(hooks) {
  return new Messages(hooks);
}

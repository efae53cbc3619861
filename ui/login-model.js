// What the Login view says and whose login it shows, decided without a
// page so that `node --test tests/js/` checks it. login.js puts it on the
// page.

import { loginNames, sameNames } from "./subscriptions.js";

export const WAITING = "Waiting for a login QR code from the server";

/** The login step a LoginView is at: "scan_qr_code", "confirm_login", "logged_in", "logged_out" or "none". */
export function stepOf(view) {
  return view && typeof view.step === "string" ? view.step : "none";
}

/**
 * What the card says for a LoginView: the step's line, its hint, whether
 * the QR code has expired, and the user logged in (or null). `qrShown`:
 * whether the QR code the server sent could be shown.
 */
export function loginWords(view, qrShown) {
  switch (stepOf(view)) {
    case "scan_qr_code":
      if (view.expired === true) {
        return { step: "This QR code has expired", hint: "The server sends a new one when a login starts again.", expired: true, user: null };
      }
      return {
        step: "Scan with your phone",
        hint: qrShown ? "Open the app on your phone and point its camera at this code." : "The server sent a QR code that cannot be shown.",
        expired: false,
        user: null,
      };
    case "confirm_login":
      return { step: "Confirm the login on your phone", hint: "The code was scanned. Tap to confirm on the phone.", expired: false, user: null };
    case "logged_in": {
      const user = typeof view.user_name === "string" && view.user_name.trim() !== "" ? view.user_name : "Unknown user";
      return { step: "Logged in", hint: "", expired: false, user };
    }
    case "logged_out":
      return { step: WAITING, hint: "You were logged out.", expired: false, user: null };
    default:
      return { step: WAITING, hint: "It appears here as soon as the server sends one.", expired: false, user: null };
  }
}

/**
 * Whose login step shows: the subscription picked in the selector, or the
 * most recent login step of any (null).
 */
export class LoginChoice {
  constructor() {
    /** The subscription picked, or null for the most recent login step. */
    this.chosen = null;
    /** The names offered in the selector. */
    this.offered = [];
  }

  /** The selector's value: "" for the most recent. */
  pick(value) {
    this.chosen = value === "" ? null : value;
  }

  /**
   * A LoginView came: the names to offer (null when they are the same as
   * before), whether the selector shows, whether the one picked is still
   * there (if not, the choice goes back to the most recent), and whose
   * step it is when there is a choice (null otherwise).
   */
  take(view) {
    const names = loginNames(view);
    const changed = !sameNames(names, this.offered);
    this.offered = names;
    const stillThere = this.chosen === null || (names.length >= 2 && names.includes(this.chosen));
    if (!stillThere) {
      this.chosen = null;
    }
    const whose = typeof view?.subscription === "string" && view.subscription !== "" ? view.subscription : null;
    return {
      names: changed ? names : null,
      showPicker: names.length >= 2,
      stillThere,
      whose: names.length >= 2 ? whose : null,
    };
  }
}

// The Login view: the newest step of the server's QR-code login flow. When
// two or more subscriptions sent login events, a selector picks whose step
// shows; by default the most recent one, whichever it came from.

import { invoke, errorText } from "./api.js";
import { byId, debounce, el, setImage } from "./dom.js";
import { loginNames, sameNames } from "./subscriptions.js";

const WAITING = "Waiting for a login QR code from the server";
const POLL_MS = 30_000;

export function createLogin() {
  const card = byId("login-card");
  const step = byId("login-step");
  const hint = byId("login-hint");
  const qr = byId("login-qr");
  const image = byId("login-image");
  const avatar = byId("login-avatar");
  const user = byId("login-user");
  const picker = byId("login-picker");
  const choice = byId("login-subscription");
  const from = byId("login-from");
  const fromName = byId("login-from-name");

  let token = 0;
  let timer = null;
  /** The subscription picked, or null for the most recent login step. */
  let chosen = null;
  /** The names offered in the selector. */
  let offered = [];

  /** The selector, with the subscriptions that sent login events; false when the one picked is gone. */
  function renderPicker(view) {
    const names = loginNames(view);
    picker.hidden = names.length < 2;
    if (!sameNames(names, offered)) {
      offered = names;
      choice.replaceChildren(
        el("option", { text: "Most recent login", attrs: { value: "" } }),
        ...names.map((name) => el("option", { text: name, attrs: { value: name, dir: "auto" } })),
      );
    }
    const stillThere = chosen === null || (names.length >= 2 && names.includes(chosen));
    if (!stillThere) {
      chosen = null;
    }
    choice.value = chosen ?? "";
    // Whose step it is, when there is a choice.
    const whose = typeof view?.subscription === "string" && view.subscription !== "" ? view.subscription : null;
    from.hidden = names.length < 2 || whose === null;
    fromName.textContent = whose ?? "";
    return stillThere;
  }

  function show(stepText, hintText) {
    if (step.textContent !== stepText) {
      step.textContent = stepText;
    }
    hint.textContent = hintText;
  }

  function render(view) {
    const name = view && typeof view.step === "string" ? view.step : "none";
    setImage(qr, null);
    setImage(image, null);
    setImage(avatar, null);
    qr.classList.remove("expired");
    user.hidden = true;
    user.textContent = "";
    card.dataset.step = name;
    card.dataset.expired = "false";

    switch (name) {
      case "scan_qr_code": {
        const expired = view.expired === true;
        const shown = setImage(qr, view.qr_data_url);
        qr.classList.toggle("expired", expired);
        card.dataset.expired = String(expired);
        if (expired) {
          show("This QR code has expired", "The server sends a new one when a login starts again.");
        } else if (shown) {
          show("Scan with your phone", "Open the app on your phone and point its camera at this code.");
        } else {
          show("Scan with your phone", "The server sent a QR code that cannot be shown.");
        }
        break;
      }
      case "confirm_login":
        setImage(image, view.image_data_url);
        show("Confirm the login on your phone", "The code was scanned. Tap to confirm on the phone.");
        break;
      case "logged_in":
        setImage(avatar, view.avatar_data_url);
        user.textContent =
          typeof view.user_name === "string" && view.user_name.trim() !== "" ? view.user_name : "Unknown user";
        user.hidden = false;
        show("Logged in", "");
        break;
      case "logged_out":
        show(WAITING, "You were logged out.");
        break;
      default:
        show(WAITING, "It appears here as soon as the server sends one.");
    }
  }

  async function refresh() {
    const mine = ++token;
    card.setAttribute("aria-busy", "true");
    try {
      const asked = chosen;
      const view = await invoke("login_state", { subscription: asked });
      if (mine === token) {
        render(view);
        if (!renderPicker(view) && asked !== null) {
          // The subscription picked sent no login (any more): show the most recent.
          refresh();
        }
      }
    } catch (error) {
      if (mine === token) {
        render(null);
        hint.textContent = `Could not read the login state: ${errorText(error)}`;
      }
    } finally {
      if (mine === token) {
        card.setAttribute("aria-busy", "false");
      }
    }
  }

  choice.addEventListener("change", () => {
    chosen = choice.value === "" ? null : choice.value;
    refresh();
  });

  return {
    refresh,
    /** A burst of login events asks once. */
    refreshSoon: debounce(refresh, 100),
    /** Poll while the view is shown, so an expiring QR code dims. */
    setActive(active) {
      if (active && timer === null) {
        timer = setInterval(refresh, POLL_MS);
      } else if (!active && timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    },
  };
}

// The Login view: the newest step of the server's QR-code login flow. When
// two or more subscriptions sent login events, a selector picks whose step
// shows; by default the most recent one, whichever it came from. What it
// says is login-model.js's; this is its page.

import { invoke, errorText } from "./api.js";
import { byId, debounce, el, setImage } from "./dom.js";
import { LoginChoice, loginWords, stepOf } from "./login-model.js";

const POLL_MS = 30_000;

class LoginView {
  constructor() {
    this.card = byId("login-card");
    this.choice = new LoginChoice();
    /** Bumped by every read: answers to older ones are dropped. */
    this.token = 0;
    this.timer = null;
    /** A burst of login events asks once. */
    this.refreshSoon = debounce(() => this.refresh(), 100);
    const select = byId("login-subscription");
    select.addEventListener("change", () => {
      this.choice.pick(select.value);
      this.refresh();
    });
  }

  /** The selector, with the subscriptions that sent login events; false when the one picked is gone. */
  renderPicker(view) {
    const picked = this.choice.take(view);
    const select = byId("login-subscription");
    byId("login-picker").hidden = !picked.showPicker;
    if (picked.names !== null) {
      select.replaceChildren(
        el("option", { text: "Most recent login", attrs: { value: "" } }),
        ...picked.names.map((name) => el("option", { text: name, attrs: { value: name, dir: "auto" } })),
      );
    }
    select.value = this.choice.chosen ?? "";
    // Whose step it is, when there is a choice.
    byId("login-from").hidden = picked.whose === null;
    byId("login-from-name").textContent = picked.whose ?? "";
    return picked.stillThere;
  }

  /** Shows a LoginView (null: none). */
  render(view) {
    const qr = byId("login-qr");
    setImage(byId("login-image"), stepOf(view) === "confirm_login" ? view.image_data_url : null);
    setImage(byId("login-avatar"), stepOf(view) === "logged_in" ? view.avatar_data_url : null);
    const qrShown = setImage(qr, stepOf(view) === "scan_qr_code" ? view.qr_data_url : null);
    const words = loginWords(view, qrShown);
    qr.classList.toggle("expired", words.expired);
    this.card.dataset.step = stepOf(view);
    this.card.dataset.expired = String(words.expired);
    const user = byId("login-user");
    user.hidden = words.user === null;
    user.textContent = words.user ?? "";
    this.show(words.step, words.hint);
  }

  show(stepText, hintText) {
    const step = byId("login-step");
    if (step.textContent !== stepText) {
      step.textContent = stepText;
    }
    byId("login-hint").textContent = hintText;
  }

  async refresh() {
    const mine = ++this.token;
    this.card.setAttribute("aria-busy", "true");
    try {
      const asked = this.choice.chosen;
      const view = await invoke("login_state", { subscription: asked });
      if (mine === this.token) {
        this.render(view);
        if (!this.renderPicker(view) && asked !== null) {
          // The subscription picked sent no login (any more): show the most recent.
          this.refresh();
        }
      }
    } catch (error) {
      if (mine === this.token) {
        this.render(null);
        byId("login-hint").textContent = `Could not read the login state: ${errorText(error)}`;
      }
    } finally {
      if (mine === this.token) {
        this.card.setAttribute("aria-busy", "false");
      }
    }
  }

  /** Poll while the view is shown, so an expiring QR code dims. */
  setActive(active) {
    if (active && this.timer === null) {
      this.timer = setInterval(() => this.refresh(), POLL_MS);
    } else if (!active && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

export function createLogin() {
  return new LoginView();
}

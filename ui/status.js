// The Status view and the connection indicator in the header: the page's
// side of status-model.js, which decides what they say. The header and the
// view's state say the connection as a whole (the tray process's summary);
// with two or more subscriptions, a line each says its own.

import { invoke, errorText } from "./api.js";
import { byId, el, msOrNull, refreshTimes, setTime } from "./dom.js";
import { pauseWords } from "./format.js";
import { TRY_AGAIN } from "./messages.js";
import {
  NOT_RUNNING,
  StatusModel,
  bytesText,
  countText,
  errorDetailText,
  lineCountsText,
  lineDetailText,
  problemTexts,
  statusOffer,
  wholeConnection,
} from "./status-model.js";
import { isolate, sameNames } from "./subscriptions.js";

function setText(node, text) {
  if (node.textContent !== text) {
    node.textContent = text;
  }
}

/** A <time> of an event, or "none yet". */
function setLastEvent(node, ms) {
  setTime(node, ms);
  if (msOrNull(ms) === null) {
    node.textContent = "none yet";
  }
}

/** One subscription's line in the view. */
class StatusLine {
  constructor(name) {
    this.stateText = el("span", { className: "sub-line-state", attrs: { dir: "auto" } });
    this.lastEvent = el("time", { className: "sub-line-time" });
    this.counts = el("span", { className: "sub-line-counts" });
    this.detail = el("p", { className: "sub-line-detail", attrs: { dir: "auto" } });
    const reconnect = el("button", {
      className: "small",
      text: "Reconnect",
      attrs: { type: "button", "aria-label": `Reconnect ${name}` },
      dataset: { action: "reconnect" },
    });
    this.li = el("li", { className: "sub-line", dataset: { state: "connecting", name } }, [
      el("span", { className: "sub-dot", attrs: { "aria-hidden": "true" } }),
      el("div", { className: "sub-line-main" }, [
        el("p", { className: "sub-line-head" }, [el("bdi", { className: "sub-line-name", text: name }), this.stateText]),
        el("p", { className: "sub-line-meta" }, [el("span", { text: "Last event " }), this.lastEvent, this.counts]),
        this.detail,
      ]),
      reconnect,
    ]);
  }

  /** A line of subscriptionLines: its state's name and the tray process's words for it. */
  fill(line) {
    this.li.dataset.state = line.state;
    setText(this.stateText, line.stateText);
    this.detail.textContent = lineDetailText(line);
    this.fillCounters(line);
  }

  fillCounters(line) {
    setLastEvent(this.lastEvent, line.lastEventMs);
    this.counts.textContent = lineCountsText(line);
  }
}

class StatusView {
  constructor({ messages }) {
    this.messages = messages;
    this.model = new StatusModel();
    /** The certificate offered in the view (see statusOffer), or null. */
    this.offered = null;
    /** The lines shown, by subscription name. */
    this.shown = new Map();
    this.view = byId("view-status");
    this.indicator = byId("conn-indicator");
    this.wire();
  }

  /** The connection as a whole: the dot's state, and the words in the header and the view. */
  renderWhole(state, words) {
    setText(byId("status-state"), words);
    this.view.dataset.state = state;
    this.indicator.dataset.state = state;
    setText(byId("conn-text"), words);
  }

  render(status) {
    if (!this.model.take(status)) {
      return;
    }
    const whole = wholeConnection(status);
    this.renderWhole(whole.state, whole.words);
    byId("status-detail").textContent = whole.detail;
    byId("status-error-detail").textContent = errorDetailText(status);
    this.indicator.setAttribute("title", typeof status.state_text === "string" ? status.state_text : "");
    this.renderCounters(status);
    this.renderProblems(problemTexts(status));
    this.renderLines();
    this.renderOffer(status);
    this.renderPause();
  }

  renderCounters(status) {
    setTime(byId("status-since"), status.since_ms);
    byId("status-server").textContent = typeof status.server === "string" && status.server !== "" ? status.server : "none";
    byId("status-demo").hidden = status.demo !== true;
    setLastEvent(byId("status-last-event"), status.last_event_ms);
    byId("status-events").textContent = countText(status.events_received);
    byId("status-bytes").textContent = bytesText(status.bytes_received);
    byId("status-reconnects").textContent = countText(status.reconnects);
    byId("status-unread").textContent = countText(status.unread);
  }

  /** A line per subscription, with two or more; in the user's order. */
  renderLines() {
    const names = this.model.names;
    byId("status-subscriptions").hidden = names.length < 2;
    byId("reconnect-now-scope").hidden = names.length < 2;
    for (const [name, line] of this.shown) {
      if (!this.model.lines.has(name)) {
        line.li.remove();
        this.shown.delete(name);
      }
    }
    for (const [name, line] of this.model.lines) {
      if (!this.shown.has(name)) {
        this.shown.set(name, new StatusLine(name));
      }
      this.shown.get(name).fill(line);
    }
    // Moved only when the order changed (a move takes the focus away).
    const list = byId("status-subscriptions-list");
    if (!sameNames([...list.children].map((li) => li.dataset.name), names)) {
      list.replaceChildren(...names.map((name) => this.shown.get(name).li));
    }
  }

  /** A certificate refused: offered to trust, by the fingerprint Rust found, for the subscription it came from. */
  renderOffer(status) {
    this.offered = statusOffer(status);
    byId("status-certificate").hidden = this.offered === null;
    setText(byId("status-certificate-fingerprint"), this.offered?.fingerprint ?? "");
    byId("status-certificate-for").hidden = this.offered?.shownName == null;
    byId("status-certificate-subscription").textContent = this.offered?.shownName ?? "";
  }

  /** What is wrong, as the tray process words it: text only. */
  renderProblems(texts) {
    const problems = byId("status-problems");
    const shown = [...problems.children].map((item) => item.textContent);
    if (sameNames(shown, texts)) {
      return;
    }
    problems.replaceChildren(...texts.map((text) => el("li", { text, attrs: { dir: "auto" } })));
    problems.hidden = texts.length === 0;
  }

  renderPause() {
    const words = pauseWords(this.model.current, Date.now());
    byId("status-paused-row").hidden = words === null;
    byId("status-paused").textContent = words ?? "";
  }

  /** A live state event: the dots now; the words come with the status the tray process sends next. */
  renderLiveState(value) {
    const { line, state, whole } = this.model.liveState(value);
    if (line !== null) {
      this.shown.get(line)?.li.setAttribute("data-state", state);
    }
    if (whole !== null) {
      this.view.dataset.state = whole;
      this.indicator.dataset.state = whole;
    }
  }

  /** The tray process is gone: no connection state is known. */
  renderNotRunning() {
    this.renderWhole("not_running", NOT_RUNNING);
  }

  async refresh() {
    try {
      const status = await invoke("status");
      this.render(status);
      return status;
    } catch (error) {
      byId("status-detail").textContent = errorText(error);
      throw error;
    }
  }

  /** A stored event arrived (from `subscription`, when named): the tray process does not send a status for it. */
  noteStored(subscription = null) {
    const current = this.model.current;
    const line = this.model.noteStored(subscription, Date.now());
    if (current !== null) {
      byId("status-events").textContent = countText(current.events_received);
      setTime(byId("status-last-event"), current.last_event_ms);
    }
    if (line !== null) {
      this.shown.get(line.name)?.fillCounters(line);
    }
  }

  /** Runs `action` with `button` disabled; its failure is said as "Could not `what`". */
  async act(button, what, action) {
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      this.messages.error(`Could not ${what}: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      button.disabled = false;
    }
  }

  reconnect(button, subscription) {
    return this.act(button, "reconnect", async () => {
      await invoke("reconnect", { subscription });
      this.messages.say(subscription === null ? "Reconnecting…" : `Reconnecting ${isolate(subscription)}…`);
    });
  }

  resetResumePoint(button) {
    return this.act(button, "start from now", async () => {
      await invoke("reset_resume_point");
      this.messages.say("Starting from now: older events will not be replayed.");
    });
  }

  trust(button) {
    const fingerprint = byId("status-certificate-fingerprint").textContent;
    if (fingerprint === "") {
      return Promise.resolve();
    }
    return this.act(button, "trust the certificate", async () => {
      await invoke("trust_certificate", { fingerprint, subscription: this.model.trustFor(this.offered) });
      this.messages.say("Certificate trusted for this server: connecting…");
    });
  }

  wire() {
    const resetButton = byId("reset-resume");
    resetButton.addEventListener("click", () => this.resetResumePoint(resetButton));
    const trustButton = byId("trust-certificate");
    trustButton.addEventListener("click", () => this.trust(trustButton));
    const reconnectButton = byId("reconnect-now");
    reconnectButton.addEventListener("click", () => this.reconnect(reconnectButton, null));
    byId("status-subscriptions-list").addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button[data-action=reconnect]") : null;
      const li = button?.closest("li.sub-line");
      if (button && li) {
        this.reconnect(button, li.dataset.name);
      }
    });
  }

  get current() {
    return this.model.current;
  }

  tick() {
    refreshTimes(this.view);
  }
}

/** @param {{messages: ReturnType<import("./messages.js").createMessages>}} hooks */
export function createStatus(hooks) {
  return new StatusView(hooks);
}

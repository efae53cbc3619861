// The Status view and the connection indicator in the header. The header
// and the view's state say the connection as a whole (the tray process's
// aggregate); with two or more subscriptions, a line each says its own.

import { invoke, errorText } from "./api.js";
import { byId, el, msOrNull, refreshTimes, setTime } from "./dom.js";
import { pauseText } from "./format.js";
import { TRY_AGAIN } from "./messages.js";
import { certificateOffers, isolate, sameNames, stateName, stateWords, subscriptionLines, summaryWords } from "./subscriptions.js";

export function createStatus({ messages }) {
  const view = byId("view-status");
  const state = byId("status-state");
  const detail = byId("status-detail");
  const errorDetail = byId("status-error-detail");
  const since = byId("status-since");
  const server = byId("status-server");
  const demo = byId("status-demo");
  const lastEvent = byId("status-last-event");
  const events = byId("status-events");
  const bytes = byId("status-bytes");
  const reconnects = byId("status-reconnects");
  const unread = byId("status-unread");
  const pausedRow = byId("status-paused-row");
  const paused = byId("status-paused");
  const reconnectButton = byId("reconnect-now");
  const reconnectScope = byId("reconnect-now-scope");
  const resetResumeButton = byId("reset-resume");
  const problems = byId("status-problems");
  const certificate = byId("status-certificate");
  const certificateFor = byId("status-certificate-for");
  const certificateSubscription = byId("status-certificate-subscription");
  const certificateFingerprint = byId("status-certificate-fingerprint");
  const trustButton = byId("trust-certificate");
  const subscriptionsSection = byId("status-subscriptions");
  const subscriptionsList = byId("status-subscriptions-list");
  const indicator = byId("conn-indicator");
  const indicatorText = byId("conn-text");

  /** The newest status seen. */
  let current = null;
  /** The certificate offered in the view: {subscription, fingerprint}, or null. */
  let offered = null;
  /** The subscriptions' lines, by name: {li, dot, state, detail, lastEvent, meta, reconnect, line}. */
  const lines = new Map();

  /** The connection as a whole: the dot's state and the words in the header and the view. */
  function renderAggregate(name, words) {
    if (state.textContent !== words) {
      state.textContent = words;
    }
    view.dataset.state = name;
    indicator.dataset.state = name;
    if (indicatorText.textContent !== words) {
      indicatorText.textContent = words;
    }
  }

  /** A ConnectionState for the whole connection (the tray gone, or a state event of the only subscription). */
  function renderState(connection) {
    const name = stateName(connection);
    renderAggregate(name, stateWords(name));
  }

  function formatBytes(value) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      return "—";
    }
    const units = ["bytes", "KiB", "MiB", "GiB"];
    let amount = value;
    let unit = 0;
    while (amount >= 1024 && unit < units.length - 1) {
      amount /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${amount} bytes` : `${amount.toFixed(1)} ${units[unit]}`;
  }

  function number(node, value) {
    node.textContent = typeof value === "number" && Number.isFinite(value) ? String(value) : "—";
  }

  // ---- a line per subscription ----------------------------------------------------

  function makeLine(name) {
    const dot = el("span", { className: "sub-dot", attrs: { "aria-hidden": "true" } });
    const stateText = el("span", { className: "sub-line-state", attrs: { dir: "auto" } });
    const lastEventTime = el("time", { className: "sub-line-time" });
    const meta = el("span", { className: "sub-line-counts" });
    const detailText = el("p", { className: "sub-line-detail", attrs: { dir: "auto" } });
    const reconnect = el("button", {
      className: "small",
      text: "Reconnect",
      attrs: { type: "button", "aria-label": `Reconnect ${name}` },
      dataset: { action: "reconnect" },
    });
    const li = el("li", { className: "sub-line", dataset: { state: "connecting", name } }, [
      dot,
      el("div", { className: "sub-line-main" }, [
        el("p", { className: "sub-line-head" }, [el("bdi", { className: "sub-line-name", text: name }), stateText]),
        el("p", { className: "sub-line-meta" }, [el("span", { text: "Last event " }), lastEventTime, meta]),
        detailText,
      ]),
      reconnect,
    ]);
    return { li, stateText, lastEventTime, meta, detailText, reconnect, line: null };
  }

  function setLineState(parts, name) {
    parts.li.dataset.state = name;
  }

  function fillLine(parts, line) {
    parts.line = line;
    setLineState(parts, line.state);
    const words = line.stateText !== "" ? line.stateText : stateWords(line.state);
    if (parts.stateText.textContent !== words) {
      parts.stateText.textContent = words;
    }
    parts.detailText.textContent = line.detail === "" ? "" : `Details: ${line.detail}`;
    fillLastEvent(parts);
    fillCounts(parts);
  }

  function fillCounts(parts) {
    const line = parts.line;
    const counts = [];
    if (line.eventsReceived !== null) {
      counts.push(line.eventsReceived === 1 ? "1 event" : `${line.eventsReceived} events`);
    }
    if (line.reconnects !== null && line.reconnects > 0) {
      counts.push(line.reconnects === 1 ? "1 reconnect" : `${line.reconnects} reconnects`);
    }
    parts.meta.textContent = counts.length > 0 ? ` · ${counts.join(" · ")}` : "";
  }

  function fillLastEvent(parts) {
    setTime(parts.lastEventTime, parts.line?.lastEventMs);
    if (msOrNull(parts.line?.lastEventMs) === null) {
      parts.lastEventTime.textContent = "none yet";
    }
  }

  function renderLines(status) {
    const next = subscriptionLines(status);
    subscriptionsSection.hidden = next.length < 2;
    reconnectScope.hidden = next.length < 2;
    const names = next.map((line) => line.name);
    for (const [name, parts] of lines) {
      if (!names.includes(name)) {
        parts.li.remove();
        lines.delete(name);
      }
    }
    for (const line of next) {
      let parts = lines.get(line.name);
      if (!parts) {
        parts = makeLine(line.name);
        lines.set(line.name, parts);
      }
      fillLine(parts, line);
    }
    // In the user's order; moved only when it changed (a move takes the focus away).
    const shown = [...subscriptionsList.children].map((li) => li.dataset.name);
    if (!sameNames(shown, names)) {
      subscriptionsList.replaceChildren(...names.map((name) => lines.get(name).li));
    }
  }

  // ---- the status --------------------------------------------------------------------

  function render(status) {
    if (!status || typeof status !== "object") {
      return;
    }
    current = status;
    renderAggregate(stateName(status.state), summaryWords(status));
    const text = typeof status.state_text === "string" ? status.state_text : "";
    detail.textContent = text;
    // The whole error chain behind the state's words, when there is one.
    const chain = typeof status.state?.detail === "string" ? status.state.detail : "";
    errorDetail.textContent = chain === "" ? "" : `Details: ${chain}`;
    indicator.setAttribute("title", text);
    setTime(since, status.since_ms);
    server.textContent = typeof status.server === "string" && status.server !== "" ? status.server : "none";
    demo.hidden = status.demo !== true;
    setTime(lastEvent, status.last_event_ms);
    if (msOrNull(status.last_event_ms) === null) {
      lastEvent.textContent = "none yet";
    }
    number(events, status.events_received);
    bytes.textContent = formatBytes(status.bytes_received);
    number(reconnects, status.reconnects);
    number(unread, status.unread);
    renderProblems([status.settings_problem, status.store_problem, status.tray_problem]);
    renderLines(status);
    renderOffer(status);
    renderPause();
  }

  /** A certificate refused: offered to trust, by the fingerprint Rust found, for the subscription it came from. */
  function renderOffer(status) {
    const first = certificateOffers(status)[0] ?? null;
    offered = first;
    certificate.hidden = first === null;
    const fingerprint = first?.fingerprint ?? "";
    if (certificateFingerprint.textContent !== fingerprint) {
      certificateFingerprint.textContent = fingerprint;
    }
    const named = first !== null && first.subscription !== null && lines.size >= 2;
    certificateFor.hidden = !named;
    certificateSubscription.textContent = named ? first.subscription : "";
  }

  /** What is wrong, as the tray process words it: text only. */
  function renderProblems(list) {
    const texts = list.filter((text) => typeof text === "string" && text !== "");
    const shown = [...problems.children].map((item) => item.textContent);
    if (shown.length === texts.length && shown.every((text, i) => text === texts[i])) {
      return;
    }
    problems.replaceChildren(...texts.map((text) => el("li", { text, attrs: { dir: "auto" } })));
    problems.hidden = texts.length === 0;
  }

  function renderPause() {
    const text = pauseText(current?.paused_until_ms, Date.now());
    pausedRow.hidden = text === null;
    paused.textContent = text ?? "";
  }

  /**
   * A live state event: {subscription, state} names the subscription whose
   * connection changed (an older tray process sends the ConnectionState
   * alone, for the one connection). The status asked for next has the words.
   */
  function renderLiveState(value) {
    if (!value || typeof value !== "object") {
      return;
    }
    if (!Object.hasOwn(value, "subscription")) {
      renderState(value);
      return;
    }
    if (typeof value.subscription !== "string") {
      // No name (the demo): the one connection there is.
      renderState(value.state);
      return;
    }
    const parts = lines.get(value.subscription);
    if (parts) {
      const name = stateName(value.state);
      if (parts.li.dataset.state !== name) {
        setLineState(parts, name);
        parts.stateText.textContent = stateWords(name);
        parts.detailText.textContent = "";
      }
    }
    // With one subscription, its state is the whole connection's.
    const known = subscriptionLines(current);
    if (known.length <= 1) {
      renderState(value.state);
    }
  }

  async function refresh() {
    try {
      const status = await invoke("status");
      render(status);
      return status;
    } catch (error) {
      detail.textContent = errorText(error);
      throw error;
    }
  }

  async function reconnect(button, subscription) {
    button.disabled = true;
    try {
      await invoke("reconnect", { subscription });
      messages.say(subscription === null ? "Reconnecting…" : `Reconnecting ${isolate(subscription)}…`);
    } catch (error) {
      messages.error(`Could not reconnect: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      button.disabled = false;
    }
  }

  resetResumeButton.addEventListener("click", async () => {
    resetResumeButton.disabled = true;
    try {
      await invoke("reset_resume_point");
      messages.say("Starting from now: older events will not be replayed.");
    } catch (error) {
      messages.error(`Could not start from now: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      resetResumeButton.disabled = false;
    }
  });

  trustButton.addEventListener("click", async () => {
    const fingerprint = certificateFingerprint.textContent;
    if (fingerprint === "") {
      return;
    }
    trustButton.disabled = true;
    try {
      await invoke("trust_certificate", { fingerprint, subscription: offered?.subscription ?? subscriptionLines(current)[0]?.name ?? null });
      messages.say("Certificate trusted for this server: connecting…");
    } catch (error) {
      messages.error(`Could not trust the certificate: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      trustButton.disabled = false;
    }
  });

  reconnectButton.addEventListener("click", () => reconnect(reconnectButton, null));
  subscriptionsList.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-action=reconnect]") : null;
    const li = button?.closest("li.sub-line");
    if (button && li) {
      reconnect(button, li.dataset.name);
    }
  });

  return {
    render,
    renderLiveState,
    /** The tray process is gone: no connection state is known. */
    renderNotRunning() {
      renderState({ state: "not_running" });
    },
    renderPause,
    refresh,
    get current() {
      return current;
    },
    /** A stored event arrived (from `subscription`, when named): the tray process does not send a status for it. */
    noteStored(subscription = null) {
      if (current) {
        current.events_received = (Number(current.events_received) || 0) + 1;
        current.last_event_ms = Date.now();
        number(events, current.events_received);
        setTime(lastEvent, current.last_event_ms);
      }
      const parts = typeof subscription === "string" ? lines.get(subscription) : undefined;
      if (parts?.line) {
        parts.line.lastEventMs = Date.now();
        parts.line.eventsReceived = (parts.line.eventsReceived ?? 0) + 1;
        fillLastEvent(parts);
        fillCounts(parts);
      }
    },
    tick() {
      refreshTimes(view);
    },
  };
}

// The Status view and the connection indicator in the header.

import { invoke, errorText } from "./api.js";
import { byId, msOrNull, refreshTimes, setTime } from "./dom.js";
import { pauseText } from "./format.js";
import { TRY_AGAIN } from "./messages.js";

const STATES = new Map([
  ["connecting", "Connecting…"],
  ["open", "Connected"],
  ["retrying", "Retrying"],
  ["stopped", "Stopped"],
  ["offline", "Offline"],
  ["not_running", "SSE Tray is not running"],
]);

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
  const resetResumeButton = byId("reset-resume");
  const problems = byId("status-problems");
  const certificate = byId("status-certificate");
  const certificateFingerprint = byId("status-certificate-fingerprint");
  const trustButton = byId("trust-certificate");
  const indicator = byId("conn-indicator");
  const indicatorText = byId("conn-text");

  /** The newest status seen. */
  let current = null;

  function renderState(connection) {
    const name = connection && STATES.has(connection.state) ? connection.state : "connecting";
    const words = STATES.get(name);
    if (state.textContent !== words) {
      state.textContent = words;
    }
    view.dataset.state = name;
    indicator.dataset.state = name;
    indicatorText.textContent = words;
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

  function render(status) {
    if (!status || typeof status !== "object") {
      return;
    }
    current = status;
    renderState(status.state);
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
    // A certificate refused: offered to trust, by the fingerprint Rust found.
    const offered = typeof status.state?.certificate === "string" ? status.state.certificate : "";
    certificate.hidden = offered === "";
    if (certificateFingerprint.textContent !== offered) {
      certificateFingerprint.textContent = offered;
    }
    renderPause();
  }

  /** What is wrong, as the tray process words it: text only. */
  function renderProblems(list) {
    const texts = list.filter((text) => typeof text === "string" && text !== "");
    const shown = [...problems.children].map((item) => item.textContent);
    if (shown.length === texts.length && shown.every((text, i) => text === texts[i])) {
      return;
    }
    problems.replaceChildren(
      ...texts.map((text) => {
        const item = document.createElement("li");
        item.dir = "auto";
        item.textContent = text;
        return item;
      }),
    );
    problems.hidden = texts.length === 0;
  }

  function renderPause() {
    const text = pauseText(current?.paused_until_ms, Date.now());
    pausedRow.hidden = text === null;
    paused.textContent = text ?? "";
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
      await invoke("trust_certificate", { fingerprint });
      messages.say("Certificate trusted for this server: connecting…");
    } catch (error) {
      messages.error(`Could not trust the certificate: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      trustButton.disabled = false;
    }
  });

  reconnectButton.addEventListener("click", async () => {
    reconnectButton.disabled = true;
    try {
      await invoke("reconnect");
      messages.say("Reconnecting…");
    } catch (error) {
      messages.error(`Could not reconnect: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      reconnectButton.disabled = false;
    }
  });

  return {
    render,
    renderState,
    /** The tray process is gone: no connection state is known. */
    renderNotRunning() {
      renderState({ state: "not_running" });
    },
    renderPause,
    refresh,
    get current() {
      return current;
    },
    /** A stored event arrived: the tray process does not send a status for it. */
    noteStored() {
      if (current) {
        current.events_received = (Number(current.events_received) || 0) + 1;
        current.last_event_ms = Date.now();
        number(events, current.events_received);
        setTime(lastEvent, current.last_event_ms);
      }
    },
    tick() {
      refreshTimes(view);
    },
  };
}

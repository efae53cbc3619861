// What the Status view and the header's indicator show, decided without a
// page so that `node --test tests/js/` checks it. The words for a state,
// for the whole connection and for the pause are the tray process's
// (state_text, summary, pause_text, made where the tray's tooltip and menu
// are made): they are shown as they come, never worded again here.

import { certificateOffers, stateName, subscriptionLines } from "./subscriptions.js";

/** What the page says, of itself, when the tray process is gone. */
export const NOT_RUNNING = "SSE Tray is not running";

function text(value) {
  return typeof value === "string" ? value : "";
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** A count as shown, "—" when unknown. */
export function countText(value) {
  const count = finite(value);
  return count === null ? "—" : String(count);
}

/** "512 bytes", "1.5 KiB"…; "—" when unknown. */
export function bytesText(value) {
  const amount = finite(value);
  if (amount === null || amount < 0) {
    return "—";
  }
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let scaled = amount;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${scaled} bytes` : `${scaled.toFixed(1)} ${units[unit]}`;
}

/**
 * The connection as a whole: its state's name (the dot) and the tray
 * process's words for it, short for the header ("1 of 2 connected") and in
 * full beneath it (empty when they would say the same twice).
 */
export function wholeConnection(status) {
  const summary = text(status?.summary);
  const full = text(status?.state_text);
  const words = summary !== "" ? summary : full;
  return { state: stateName(status?.state), words, detail: full === words ? "" : full };
}

/** The whole error chain behind the state's words, when there is one. */
export function errorDetailText(status) {
  const chain = text(status?.state?.detail);
  return chain === "" ? "" : `Details: ${chain}`;
}

/** What is wrong, as the tray process words it, in its order. */
export function problemTexts(status) {
  if (!status || typeof status !== "object") {
    return [];
  }
  return [status.settings_problem, status.store_problem, status.tray_problem].filter((problem) => typeof problem === "string" && problem !== "");
}

/** A subscription's counters after "Last event …": " · 4 events · 1 reconnect". */
export function lineCountsText(line) {
  const counts = [];
  if (line.eventsReceived !== null) {
    counts.push(line.eventsReceived === 1 ? "1 event" : `${line.eventsReceived} events`);
  }
  if (line.reconnects !== null && line.reconnects > 0) {
    counts.push(line.reconnects === 1 ? "1 reconnect" : `${line.reconnects} reconnects`);
  }
  return counts.length > 0 ? ` · ${counts.join(" · ")}` : "";
}

/** A subscription's detail line beneath its state. */
export function lineDetailText(line) {
  return line.detail === "" ? "" : `Details: ${line.detail}`;
}

/**
 * The certificate the Status view offers to trust (the first refused), and
 * whose it is, named when there are several subscriptions; null for none.
 */
export function statusOffer(status) {
  const first = certificateOffers(status)[0] ?? null;
  if (first === null) {
    return null;
  }
  const named = first.subscription !== null && subscriptionLines(status).length >= 2;
  return { fingerprint: first.fingerprint, subscription: first.subscription, shownName: named ? first.subscription : null };
}

/**
 * The status as the view knows it: the newest from the tray process, with
 * the counters of events stored since (the tray process sends no status
 * for those), and its subscriptions' lines.
 */
export class StatusModel {
  constructor() {
    /** The newest status, or null before the first. */
    this.current = null;
    /** Its subscriptions' lines (see subscriptionLines), by name, in its order. */
    this.lines = new Map();
  }

  /** A status from the tray process; false (and nothing changes) for anything else. */
  take(status) {
    if (!status || typeof status !== "object") {
      return false;
    }
    this.current = status;
    this.lines = new Map(subscriptionLines(status).map((line) => [line.name, line]));
    return true;
  }

  /** The names of the subscriptions, in the user's order. */
  get names() {
    return [...this.lines.keys()];
  }

  /** An event was stored at `now` (from `subscription`, when named): the counters move. Returns that subscription's line, if shown. */
  noteStored(subscription, now) {
    if (this.current !== null) {
      this.current.events_received = (Number(this.current.events_received) || 0) + 1;
      this.current.last_event_ms = now;
    }
    const line = typeof subscription === "string" ? this.lines.get(subscription) : undefined;
    if (line === undefined) {
      return null;
    }
    line.lastEventMs = now;
    line.eventsReceived = (line.eventsReceived ?? 0) + 1;
    return line;
  }

  /**
   * A live state event ({subscription, state}): the state's name for that
   * subscription's line (null when it has none), and for the whole
   * connection when it is the only one. Its words come with the status the
   * tray process sends right after.
   */
  liveState(value) {
    if (!value || typeof value !== "object") {
      return { line: null, state: null, whole: null };
    }
    const state = stateName(value.state);
    const line = typeof value.subscription === "string" && this.lines.has(value.subscription) ? value.subscription : null;
    return { line, state, whole: this.lines.size <= 1 ? state : null };
  }

  /** The subscription a trust of `offer` is for: its own, else the first line's, else none. */
  trustFor(offer) {
    return offer?.subscription ?? this.names[0] ?? null;
  }
}

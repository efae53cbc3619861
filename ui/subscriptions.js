// Several subscriptions at once: what the window works out about them, as
// pure functions (no DOM), so that `node --test tests/js/` checks them.
// A subscription's name is the user's (or made from its server's address);
// it is shown as text, isolated for bidi like server text.

/**
 * The connection states the tray process names (ConnectionState's tags,
 * checked against tests/js/rust-names.json). Only the names, for the dots:
 * the words come from the tray process (state_text, summary).
 */
export const CONNECTION_STATES = Object.freeze(["connecting", "open", "retrying", "stopped", "offline"]);
/** The page's own state for a tray process that is gone. */
const NOT_RUNNING = "not_running";

/**
 * Fields of a subscription that once were top-level settings (and "name"):
 * an error naming one alone is about the first subscription. Not
 * "notifications", which alone is the master switch.
 */
const LEGACY_KEYS = new Set(["name", "server_url", "channel", "headers", "secret_headers", "rules", "web_app_url", "extra_ca_file", "certificate_pin"]);

function text(value) {
  return typeof value === "string" ? value : null;
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** A name as it goes into plain text (a toast, a label, an error): isolated, so a right-to-left name cannot turn the sentence around it. */
export function isolate(name) {
  return `\u2068${name}\u2069`;
}

// ---- states ------------------------------------------------------------------------

/** The state's name of a ConnectionState ({state: "open", ...}); "connecting" for anything unknown. */
export function stateName(connection) {
  const name = connection && typeof connection === "object" ? connection.state : null;
  return CONNECTION_STATES.includes(name) || name === NOT_RUNNING ? name : "connecting";
}

/**
 * The subscriptions of a status, each in a known shape: {name, server,
 * state (its name), connection (the ConnectionState as sent), stateText,
 * detail, certificate, sinceMs, lastEventMs, eventsReceived, reconnects}.
 * Entries without a name are left out; a name comes once.
 */
export function subscriptionLines(status) {
  const list = status && typeof status === "object" && Array.isArray(status.subscriptions) ? status.subscriptions : [];
  const seen = new Set();
  const lines = [];
  for (const item of list) {
    const name = item && typeof item === "object" ? text(item.name) : null;
    if (name === null || name === "" || seen.has(name)) {
      continue;
    }
    seen.add(name);
    const connection = item.state && typeof item.state === "object" ? item.state : null;
    const certificate = text(connection?.certificate);
    lines.push({
      name,
      server: text(item.server) ?? "",
      state: stateName(connection),
      connection,
      stateText: text(item.state_text) ?? "",
      detail: text(connection?.detail) ?? "",
      certificate: certificate !== null && certificate !== "" ? certificate : null,
      sinceMs: finite(item.since_ms),
      lastEventMs: finite(item.last_event_ms),
      eventsReceived: finite(item.events_received),
      reconnects: finite(item.reconnects),
    });
  }
  return lines;
}

/**
 * Certificates offered to trust: one per subscription whose server showed
 * one this computer does not trust, in the subscriptions' order. When no
 * subscription's state carries one, the aggregate state's is offered: for
 * the only subscription there is, else for no name.
 *
 * @returns {{subscription: string|null, fingerprint: string}[]}
 */
export function certificateOffers(status) {
  const lines = subscriptionLines(status);
  const offers = lines.filter((line) => line.certificate !== null).map((line) => ({ subscription: line.name, fingerprint: line.certificate }));
  if (offers.length > 0) {
    return offers;
  }
  const fingerprint = text(status?.state?.certificate);
  if (fingerprint === null || fingerprint === "") {
    return [];
  }
  return [{ subscription: lines.length === 1 ? lines[0].name : null, fingerprint }];
}

// ---- names -------------------------------------------------------------------------

/** The host and port of a stream URL, "example.com:8443"; "" when it has none. Never the user info. */
export function hostOf(url) {
  const value = typeof url === "string" ? url.trim() : "";
  if (value === "") {
    return "";
  }
  let parsed = null;
  try {
    parsed = new URL(value);
  } catch {
    parsed = null;
  }
  if (parsed !== null && (parsed.protocol === "http:" || parsed.protocol === "https:")) {
    return parsed.host;
  }
  // Typed without a scheme ("example.com/stream", "localhost:8080/events",
  // "user:password@example.com/"), which the URL parser refuses or reads as
  // a scheme of its own.
  if (parsed !== null && !/^[^:/?#\s]+:(\d|[^/?#\s]*@)/.test(value)) {
    return "";
  }
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/?#\s]*@)?([^/?#\s@]+)/i.exec(value);
  return match ? match[1].toLowerCase() : "";
}

/** A subscription's name when none is given: the server's host[:port], plus "/channel" when a channel is set. */
export function defaultName(url, channel) {
  const host = hostOf(url);
  if (host === "") {
    return "";
  }
  const ch = typeof channel === "string" ? channel.trim() : "";
  return ch === "" ? host : `${host}/${ch}`;
}

/** `base`, or "base-2", "base-3"… when another subscription already has it (letter case aside). */
export function uniqueName(base, taken) {
  if (typeof base !== "string" || base === "") {
    return "";
  }
  const names = new Set([...taken].filter((name) => typeof name === "string").map((name) => name.toLowerCase()));
  if (!names.has(base.toLowerCase())) {
    return base;
  }
  for (let n = 2; ; n += 1) {
    const candidate = `${base}-${n}`;
    if (!names.has(candidate.toLowerCase())) {
      return candidate;
    }
  }
}

// ---- order -------------------------------------------------------------------------

/** A copy of `list` with the item at `index` moved `delta` places (-1 up, +1 down); unchanged when it cannot move so. */
export function moveItem(list, index, delta) {
  const copy = [...list];
  const to = index + delta;
  if (!Number.isInteger(index) || !Number.isInteger(to) || index < 0 || index >= copy.length || to < 0 || to >= copy.length) {
    return copy;
  }
  const [item] = copy.splice(index, 1);
  copy.splice(to, 0, item);
  return copy;
}

/** What is said after a move: "work moved to position 1 of 3. Save to keep this order." */
export function positionText(name, index, total) {
  const who = typeof name === "string" && name !== "" ? isolate(name) : "The new subscription";
  return `${who} moved to position ${index + 1} of ${total}. Save to keep this order.`;
}

/** The ids of the n-th card (from 0): the first keeps the page's ids, the others get "-2", "-3"… */
export function idSuffix(index) {
  return index === 0 ? "" : `-${index + 1}`;
}

/** An id or an id list ("hint-x error-x") with `suffix` added to the ids in `known`, others kept. */
export function suffixIds(value, known, suffix) {
  if (typeof value !== "string") {
    return value;
  }
  return value
    .split(/\s+/)
    .filter((id) => id !== "")
    .map((id) => (known.has(id) ? `${id}${suffix}` : id))
    .join(" ");
}

// ---- settings errors ---------------------------------------------------------------------

/**
 * Where a settings error belongs, from the field the Rust side names:
 * "subscriptions.1.server_url" → {scope: "subscription", index: 1, key:
 * "server_url", rest: null}; "subscriptions.2.headers.X-Token" → key
 * "headers", rest "X-Token"; "subscription.channel" (a test of one) →
 * index null; "history.keep_days" → {scope: "global", key: "keep_days"};
 * "quiet_hours" → {scope: "global", key: "quiet_hours"}; "subscriptions"
 * alone → {scope: "global", key: "subscriptions"}; no field → scope "none".
 */
export function parseField(field) {
  if (typeof field !== "string" || field.trim() === "") {
    return { scope: "none", index: null, key: null, rest: null };
  }
  const parts = field.split(".");
  const tail = (from) => (parts.length > from ? parts.slice(from).join(".") : null);
  if (parts[0] === "subscriptions" && parts.length >= 2 && /^\d+$/.test(parts[1])) {
    return { scope: "subscription", index: Number(parts[1]), key: parts[2] ?? null, rest: tail(3) };
  }
  if (parts[0] === "subscription" && parts.length >= 2) {
    return { scope: "subscription", index: null, key: parts[1], rest: tail(2) };
  }
  if (LEGACY_KEYS.has(parts[0])) {
    return { scope: "subscription", index: 0, key: parts[0], rest: tail(1) };
  }
  if (parts[0] === "history" && parts.length >= 2) {
    return { scope: "global", index: null, key: parts[1], rest: tail(2) };
  }
  return { scope: "global", index: null, key: parts[0], rest: tail(1) };
}

/** The words after "Remove NAME?" in the question asked before a saved subscription is removed. */
export function removeQuestionText(unread) {
  if (typeof unread === "number" && Number.isInteger(unread) && unread > 0) {
    const some = unread === 1 ? "1 of them unread" : `${unread} of them unread`;
    return `Its stored events (${some}) can stay in the history or be deleted.`;
  }
  return "Its stored events can stay in the history or be deleted.";
}

// ---- history -----------------------------------------------------------------------

/** The history's per-subscription counts, [{name, unread}], each in a known shape, in the order given. */
export function subscriptionCounts(list) {
  if (!Array.isArray(list)) {
    return [];
  }
  const seen = new Set();
  const counts = [];
  for (const item of list) {
    const name = item && typeof item === "object" ? text(item.name) : null;
    if (name === null || name === "" || seen.has(name)) {
      continue;
    }
    seen.add(name);
    const unread = finite(item.unread);
    counts.push({ name, unread: unread !== null && unread >= 0 ? Math.floor(unread) : 0 });
  }
  return counts;
}

/**
 * The subscription label of a history row, given the subscriptions there
 * are: the name when there are two or more, "removed" for an entry of a
 * stream no longer subscribed; none with one subscription or the demo.
 *
 * @returns {{text: string, removed: boolean} | null}
 */
export function entryLabel(subscription, names) {
  const count = Array.isArray(names) ? names.length : 0;
  if (count === 0) {
    return null;
  }
  if (typeof subscription !== "string" || subscription === "") {
    return { text: "removed", removed: true };
  }
  return count >= 2 ? { text: subscription, removed: false } : null;
}

// ---- login -------------------------------------------------------------------------

/** The subscriptions that sent login events (a LoginView's subscriptions_with_login), each once. */
export function loginNames(view) {
  const list = view && typeof view === "object" && Array.isArray(view.subscriptions_with_login) ? view.subscriptions_with_login : [];
  return [...new Set(list.filter((name) => typeof name === "string" && name !== ""))];
}

/** Whether two lists of names are the same, in the same order. */
export function sameNames(a, b) {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

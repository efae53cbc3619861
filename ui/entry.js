// The history entry the Rust side sends (an EntryView), checked for shape.
// Its words are decided in Rust, for stored rows and live events alike; the
// page shows them as they are and never sees an event's raw data.

const KINDS = new Set(["message", "notification", "login", "server_closed"]);

function text(value) {
  return typeof value === "string" ? value : null;
}

/**
 * An EntryView in a known shape, or null when it has no id: {id, event_type,
 * kind, received_at_ms, read, unread_weight, title, text, link, link_host,
 * subscription}. An unknown kind shows as a message; a blank title as none;
 * subscription is the name of the subscription it came from, null for a
 * stream no longer subscribed.
 */
export function entryFromView(view) {
  if (!view || typeof view !== "object" || !Number.isSafeInteger(view.id)) {
    return null;
  }
  const title = text(view.title);
  const link = text(view.link);
  return {
    id: view.id,
    event_type: text(view.event_type) || "message",
    kind: KINDS.has(view.kind) ? view.kind : "message",
    received_at_ms: Number.isFinite(view.received_at_ms) ? view.received_at_ms : null,
    read: view.read === true,
    unread_weight: Number.isFinite(view.unread_weight) ? view.unread_weight : 0,
    title: title !== null && title.trim() !== "" ? title : null,
    text: text(view.text) ?? "",
    link,
    // A host shown without its link would name a destination nothing opens.
    link_host: link !== null ? text(view.link_host) || null : null,
    subscription: text(view.subscription) || null,
  };
}

/**
 * Whether a live entry belongs in the list under the type, subscription
 * and unread filters. A search is matched by the store, never here.
 */
export function matchesFilters(entry, { eventType, unreadOnly, subscription = null }) {
  if (eventType !== null && entry.event_type !== eventType) {
    return false;
  }
  if (subscription !== null && entry.subscription !== subscription) {
    return false;
  }
  return !(unreadOnly && entry.read);
}

// The window's wording and time formats, as pure functions: no DOM and no
// locale (the window speaks English, and a test can then pin every word),
// so that `node --test tests/js/` checks them. Times are local.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function isTime(ms) {
  return typeof ms === "number" && Number.isFinite(ms);
}

function plural(count, one, many) {
  return count === 1 ? `1 ${one}` : `${count} ${many}`;
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "30 November 2025". */
function longDate(date) {
  return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
}

// ---- days and times ----------------------------------------------------------

/** The local calendar day of a time, "2026-11-30"; "" without a time. */
export function dayKey(ms) {
  if (!isTime(ms)) {
    return "";
  }
  const date = new Date(ms);
  const month = String(date.getMonth() + 1).padStart(2, "0");
  const day = String(date.getDate()).padStart(2, "0");
  return `${date.getFullYear()}-${month}-${day}`;
}

/** A day's heading in the history: "Today", "Yesterday", "Monday 30 November", with the year when not this year's. */
export function dayHeading(ms, now) {
  if (!isTime(ms)) {
    return "Date unknown";
  }
  const date = new Date(ms);
  const today = new Date(now);
  if (sameDay(date, today)) {
    return "Today";
  }
  // Built from the calendar, not by subtracting 24 h: a day around a
  // daylight-saving change is 23 or 25 hours long.
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (sameDay(date, yesterday)) {
    return "Yesterday";
  }
  const text = `${WEEKDAYS[date.getDay()]} ${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === today.getFullYear() ? text : `${text} ${date.getFullYear()}`;
}

/** "just now", "2 min ago", "in 59 min", "3 days ago", or the date for anything a month or more away. */
export function relativeTime(ms, now) {
  const diff = now - ms;
  const future = diff < 0;
  const seconds = Math.abs(diff) / 1000;
  if (seconds < 10) {
    return future ? "in a moment" : "just now";
  }
  let amount;
  if (seconds < 60) {
    amount = `${Math.floor(seconds)} s`;
  } else if (seconds < 3600) {
    amount = `${Math.floor(seconds / 60)} min`;
  } else if (seconds < 86400) {
    amount = `${Math.floor(seconds / 3600)} h`;
  } else if (seconds < 86400 * 31) {
    amount = plural(Math.floor(seconds / 86400), "day", "days");
  } else {
    return longDate(new Date(ms));
  }
  return future ? `in ${amount}` : `${amount} ago`;
}

/**
 * A history row's time: relative within the hour ("5 min ago"), else the
 * time of day, `clock(ms)` (the day is in the heading above the row).
 */
export function rowTime(ms, now, clock) {
  return Math.abs(now - ms) < HOUR_MS ? relativeTime(ms, now) : clock(ms);
}

// ---- notifications paused ------------------------------------------------------

/**
 * How long notifications stay paused, as the tray process words it for the
 * tray's menu too ("until 14:30", "until resumed"); null when not paused,
 * or when the pause's end has passed since the status was made.
 */
export function pauseWords(status, now) {
  const words = status && typeof status === "object" ? status.pause_text : null;
  const until = status && typeof status === "object" ? status.paused_until_ms : null;
  if (typeof words !== "string" || words === "" || !isTime(until) || until <= now) {
    return null;
  }
  return words;
}

/** The Settings view's pause line for a status (null when unknown). */
export function pauseLine(status, now) {
  const words = pauseWords(status, now);
  return words === null ? "Notifications are on." : `Notifications are paused ${words}.`;
}

// ---- history wording -------------------------------------------------------------

/** The accessible name of a row's "Open link" button: where it leads. */
export function openLinkLabel(host) {
  return typeof host === "string" && host !== "" ? `Open link to ${host}` : "Open link";
}

/** The pill shown when live events were put above a scrolled-down list. */
export function newAboveText(count) {
  return count === 1 ? "1 new event above" : `${count} new events above`;
}

/**
 * "Mark all read" marks every event read, whatever the list shows. A type
 * or subscription filter or a search hides some unread events, so then it
 * asks first, saying so; "Unread only" alone hides none of them.
 * `bySubscription`: a subscription filter is on (the question says that
 * every subscription's events are marked).
 *
 * @returns {{text: string, confirm: string} | null} the question, or null to mark at once
 */
export function markAllQuestion({ unread, narrowed, bySubscription = false }) {
  if (!narrowed || !(unread > 0)) {
    return null;
  }
  if (unread === 1) {
    return { text: "This marks the 1 unread event read, whether it is shown or not.", confirm: "Mark it read" };
  }
  return {
    text: bySubscription
      ? `This marks all ${unread} unread events read, of every subscription and type, not only the ones shown.`
      : `This marks all ${unread} unread events read, of every type, not only the ones shown.`,
    confirm: `Mark all ${unread} read`,
  };
}

/** The "Mark all read" button's label: an ellipsis when it asks first. */
export function markAllLabel(state) {
  return markAllQuestion(state) === null ? "Mark all read" : "Mark all read…";
}

/** The unread badge's tooltip. */
export function unreadTitle(count) {
  return plural(count, "unread message", "unread messages");
}

// ---- appearance --------------------------------------------------------------------

/** The desktop's style as the page applies it: "dark", "light", or null to follow the CSS preference. */
export function schemeOf(value) {
  return value === "dark" || value === "light" ? value : null;
}

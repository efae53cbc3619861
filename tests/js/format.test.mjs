// The window's words and time formats (ui/format.js).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  dayHeading,
  dayKey,
  markAllLabel,
  markAllQuestion,
  newAboveText,
  openLinkLabel,
  pauseLine,
  pauseWords,
  relativeTime,
  rowTime,
  schemeOf,
  unreadTitle,
} from "../../ui/format.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Local times in a zone with daylight saving, whatever the machine's.
before(() => {
  process.env.TZ = "Europe/Berlin";
});

/** A local time: at(2026, 12, 2, 12, 30) is 2 December 2026, 12:30. */
function at(year, month, day, hour = 12, minute = 0) {
  return new Date(year, month - 1, day, hour, minute).getTime();
}

describe("day headings", () => {
  const now = at(2026, 12, 2, 9, 15); // a Wednesday

  test("today and yesterday by the calendar, not by 24 hours", () => {
    assert.equal(dayHeading(at(2026, 12, 2, 0, 0), now), "Today");
    assert.equal(dayHeading(at(2026, 12, 1, 23, 59), now), "Yesterday");
    assert.equal(dayHeading(at(2026, 12, 1, 0, 1), now), "Yesterday");
    // 9 h 16 min before "now", and yet the day before yesterday.
    assert.equal(dayHeading(at(2026, 11, 30, 23, 59), now), "Monday 30 November");
  });

  test("a date of this year without the year, of another year with it", () => {
    assert.equal(dayHeading(at(2026, 1, 5), now), "Monday 5 January");
    assert.equal(dayHeading(at(2025, 12, 31, 23), now), "Wednesday 31 December 2025");
  });

  test("yesterday across a month and a daylight-saving change", () => {
    assert.equal(dayHeading(at(2026, 2, 28, 8), at(2026, 3, 1, 8)), "Yesterday");
    // Clocks went forward on 29 March 2026: that day had 23 hours.
    assert.equal(dayHeading(at(2026, 3, 29, 0, 30), at(2026, 3, 30, 0, 10)), "Yesterday");
    assert.equal(dayHeading(at(2026, 3, 28, 23, 50), at(2026, 3, 30, 0, 10)), "Saturday 28 March");
  });

  test("no time, no date", () => {
    assert.equal(dayHeading(null, now), "Date unknown");
    assert.equal(dayHeading(Number.NaN, now), "Date unknown");
  });

  test("day keys are local calendar days", () => {
    assert.equal(dayKey(at(2026, 3, 5, 0, 0)), "2026-03-05");
    assert.equal(dayKey(at(2026, 3, 5, 23, 59)), "2026-03-05");
    assert.notEqual(dayKey(at(2026, 3, 5, 23, 59)), dayKey(at(2026, 3, 6, 0, 0)));
    assert.equal(dayKey(undefined), "");
  });
});

describe("relative times", () => {
  const now = at(2026, 12, 2, 12, 0);

  test("past and future", () => {
    assert.equal(relativeTime(now - 3_000, now), "just now");
    assert.equal(relativeTime(now + 3_000, now), "in a moment");
    assert.equal(relativeTime(now - 42_000, now), "42 s ago");
    assert.equal(relativeTime(now - 5 * MINUTE - 30_000, now), "5 min ago");
    assert.equal(relativeTime(now + 59 * MINUTE, now), "in 59 min");
    assert.equal(relativeTime(now - 3 * HOUR, now), "3 h ago");
    assert.equal(relativeTime(now - DAY, now), "1 day ago");
    assert.equal(relativeTime(now - 3 * DAY, now), "3 days ago");
  });

  test("a month or more away is a date", () => {
    assert.equal(relativeTime(at(2026, 10, 23, 12), now), "23 October 2026");
  });

  test("a row shows relative times within the hour, else the time of day", () => {
    const clock = (ms) => `clock ${ms}`;
    assert.equal(rowTime(now - 5 * MINUTE, now, clock), "5 min ago");
    assert.equal(rowTime(now - 2 * HOUR, now, clock), `clock ${now - 2 * HOUR}`);
    assert.equal(rowTime(now + 2 * HOUR, now, clock), `clock ${now + 2 * HOUR}`);
  });
});

describe("the pause", () => {
  const now = at(2026, 12, 2, 12, 0);
  // The words are the tray process's (the tray's menu says the same); the page keeps them while the pause lasts.
  const status = { paused_until_ms: now + 42 * MINUTE, pause_text: "until 12:42" };

  test("not paused, or a pause that is over", () => {
    assert.equal(pauseWords(null, now), null);
    assert.equal(pauseWords({ paused_until_ms: null, pause_text: null }, now), null);
    assert.equal(pauseWords(status, now + 42 * MINUTE), null);
    assert.equal(pauseWords({ ...status, paused_until_ms: now - MINUTE }, now), null);
  });

  test("the tray process's words, as they are", () => {
    assert.equal(pauseWords(status, now), "until 12:42");
    assert.equal(pauseWords({ paused_until_ms: now + 100 * 365 * DAY, pause_text: "until resumed" }, now), "until resumed");
  });

  test("no words, or no end, is not paused: the page makes up neither", () => {
    assert.equal(pauseWords({ paused_until_ms: now + HOUR }, now), null);
    assert.equal(pauseWords({ paused_until_ms: now + HOUR, pause_text: "" }, now), null);
    assert.equal(pauseWords({ pause_text: "until 13:00" }, now), null);
  });

  test("the Settings line flips to on when the pause ends, without a new status", () => {
    assert.equal(pauseLine(status, now), "Notifications are paused until 12:42.");
    assert.equal(pauseLine(status, now + 41 * MINUTE + 1), "Notifications are paused until 12:42.");
    assert.equal(pauseLine(status, now + 42 * MINUTE), "Notifications are on.");
    assert.equal(pauseLine(null, now), "Notifications are on.");
  });
});

describe("history wording", () => {
  test("the Open link button names where it leads", () => {
    assert.equal(openLinkLabel("example.com"), "Open link to example.com");
    assert.equal(openLinkLabel(null), "Open link");
    assert.equal(openLinkLabel(""), "Open link");
  });

  test("new events above", () => {
    assert.equal(newAboveText(1), "1 new event above");
    assert.equal(newAboveText(3), "3 new events above");
  });

  test("Mark all read asks first only when a type filter or a search hides unread events", () => {
    assert.equal(markAllQuestion({ unread: 12, narrowed: false }), null);
    assert.equal(markAllQuestion({ unread: 0, narrowed: true }), null);
    assert.deepEqual(markAllQuestion({ unread: 12, narrowed: true }), {
      text: "This marks all 12 unread events read, of every type, not only the ones shown.",
      confirm: "Mark all 12 read",
    });
    assert.deepEqual(markAllQuestion({ unread: 1, narrowed: true }), {
      text: "This marks the 1 unread event read, whether it is shown or not.",
      confirm: "Mark it read",
    });
    assert.deepEqual(markAllQuestion({ unread: 12, narrowed: true, bySubscription: true }), {
      text: "This marks all 12 unread events read, of every subscription and type, not only the ones shown.",
      confirm: "Mark all 12 read",
    });
    assert.equal(markAllLabel({ unread: 12, narrowed: false }), "Mark all read");
    assert.equal(markAllLabel({ unread: 12, narrowed: true }), "Mark all read…");
  });

  test("the badge's tooltip", () => {
    assert.equal(unreadTitle(1), "1 unread message");
    assert.equal(unreadTitle(0), "0 unread messages");
  });
});

test("appearance: dark, light, or follow the webview", () => {
  assert.equal(schemeOf("dark"), "dark");
  assert.equal(schemeOf("light"), "light");
  assert.equal(schemeOf(null), null);
  assert.equal(schemeOf("Dark"), null);
  assert.equal(schemeOf({ scheme: "dark" }), null);
});

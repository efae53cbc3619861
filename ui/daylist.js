// The history list, grouped by day. The list holds one <li class="day"> per
// run of rows from the same local day, newest first: a heading and a
// <ul class="day-entries"> of rows labelled by it. Rows are added and
// removed only through here, so a day never shows without rows, and two
// neighbouring groups never have the same day.
//
// Rows are kept in the order the caller gives (by id, newest first); a clock
// set back can give an older day above a newer one, and then that day simply
// has two groups, each headed.

import { dayHeading, dayKey } from "./format.js";

const rowsOf = (day) => day.lastElementChild;
const dayOf = (row) => row.parentElement.parentElement;

class DayList {
  /**
   * @param {HTMLElement} list  the <ul> of days
   * @param {() => number} now  the current time, for "Today" and "Yesterday"
   */
  constructor(list, now) {
    this.list = list;
    this.now = now;
    /** Heading ids stay unique even when a day has two groups. */
    this.headings = 0;
  }

  makeDay(key, ms) {
    const doc = this.list.ownerDocument;
    const id = `day-heading-${++this.headings}`;
    const heading = doc.createElement("h3");
    heading.className = "day-heading";
    heading.id = id;
    heading.textContent = dayHeading(ms, this.now());
    const rows = doc.createElement("ul");
    rows.className = "day-entries";
    rows.setAttribute("aria-labelledby", id);
    const day = doc.createElement("li");
    day.className = "day";
    day.dataset.day = key;
    day.dataset.dayMs = String(ms);
    day.append(heading, rows);
    return day;
  }

  firstRow() {
    const day = this.list.firstElementChild;
    return day ? rowsOf(day).firstElementChild : null;
  }

  lastRow() {
    const day = this.list.lastElementChild;
    return day ? rowsOf(day).lastElementChild : null;
  }

  nextRow(row) {
    const day = dayOf(row).nextElementSibling;
    return row.nextElementSibling ?? (day ? rowsOf(day).firstElementChild : null);
  }

  previousRow(row) {
    const day = dayOf(row).previousElementSibling;
    return row.previousElementSibling ?? (day ? rowsOf(day).lastElementChild : null);
  }

  /** Moves `from` and the rows after it in its day into a new group of the same day, just below. */
  split(from) {
    const day = dayOf(from);
    const rest = this.makeDay(day.dataset.day, Number(day.dataset.dayMs));
    for (let row = from; row !== null; ) {
      const following = row.nextElementSibling;
      rowsOf(rest).append(row);
      row = following;
    }
    this.list.insertBefore(rest, day.nextElementSibling);
  }

  /** Puts `row` (received at `ms`) just above the row `next`, or last when `next` is null. */
  insertBefore(row, ms, next) {
    const key = dayKey(ms);
    row.dataset.day = key;
    const previous = next === null ? this.lastRow() : this.previousRow(next);
    if (next !== null && next.dataset.day === key) {
      next.parentElement.insertBefore(row, next);
      return;
    }
    if (previous !== null && previous.dataset.day === key) {
      // `next` is in another group, so `previous` ends its own.
      rowsOf(dayOf(previous)).append(row);
      return;
    }
    if (previous !== null && next !== null && dayOf(previous) === dayOf(next)) {
      this.split(next);
    }
    const day = this.makeDay(key, ms);
    rowsOf(day).append(row);
    this.list.insertBefore(day, next === null ? null : dayOf(next));
  }

  /** Adds a row newer than every row shown. */
  prepend(row, ms) {
    this.insertBefore(row, ms, this.firstRow());
  }

  /** Adds a row older than every row shown. */
  append(row, ms) {
    this.insertBefore(row, ms, null);
  }

  /** Takes a row out; its group goes with its last row, and the groups around it join when they are of one day. */
  remove(row) {
    const day = dayOf(row);
    row.remove();
    if (rowsOf(day).firstElementChild !== null) {
      return;
    }
    const above = day.previousElementSibling;
    const below = day.nextElementSibling;
    day.remove();
    if (above !== null && below !== null && above.dataset.day === below.dataset.day) {
      rowsOf(above).append(...rowsOf(below).children);
      below.remove();
    }
  }

  clear() {
    this.list.replaceChildren();
  }

  /** Words the headings afresh: after midnight "Today" is "Yesterday". */
  refreshHeadings() {
    const time = this.now();
    for (const day of this.list.children) {
      const heading = day.firstElementChild;
      const text = dayHeading(Number(day.dataset.dayMs), time);
      if (heading.textContent !== text) {
        heading.textContent = text;
      }
    }
  }
}

/**
 * @param {HTMLElement} list  the <ul> of days
 * @param {() => number} now  the current time, for "Today" and "Yesterday"
 */
export function createDayList(list, now = Date.now) {
  return new DayList(list, now);
}

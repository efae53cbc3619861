// The history list grouped by day (ui/daylist.js), on a fake DOM: the
// groups stay right through paging, live inserts, deletes and trimming.
import assert from "node:assert/strict";
import { before, beforeEach, describe, test } from "node:test";

import { createDayList } from "../../ui/daylist.js";
import { fakeDocument } from "./fake-dom.mjs";

before(() => {
  process.env.TZ = "Europe/Berlin";
});

/** A local time in 2026: at(12, 2, 9) is 2 December, 9:00 (a Wednesday). */
const at = (month, day, hour = 12, minute = 0) => new Date(2026, month - 1, day, hour, minute).getTime();

let clock;
let list;
let days;

function row(id) {
  const li = list.ownerDocument.createElement("li");
  li.className = "entry";
  li.dataset.id = String(id);
  return li;
}

/** The list as [heading, [row ids]] per group, top to bottom. */
function groups() {
  return list.children.map((day) => {
    const [heading, rows] = day.children;
    return [heading.textContent, rows.children.map((li) => Number(li.dataset.id))];
  });
}

/** Every row, top to bottom, by walking nextRow from the first. */
function walk() {
  const ids = [];
  for (let at = days.firstRow(); at !== null; at = days.nextRow(at)) {
    ids.push(Number(at.dataset.id));
  }
  return ids;
}

function rowById(id) {
  for (let at = days.firstRow(); at !== null; at = days.nextRow(at)) {
    if (Number(at.dataset.id) === id) {
      return at;
    }
  }
  throw new Error(`no row ${id}`);
}

/** A first page, then an older one, as the history loads them. */
function loadPages() {
  days.append(row(10), at(12, 2, 9));
  days.append(row(9), at(12, 2, 8));
  days.append(row(8), at(12, 1, 22));
  days.append(row(7), at(12, 1, 7));
  days.append(row(6), at(12, 1, 6));
  days.append(row(5), at(11, 30, 20));
}

beforeEach(() => {
  clock = at(12, 2, 12);
  list = fakeDocument().createElement("ul");
  days = createDayList(list, () => clock);
});

describe("paging", () => {
  test("older pages extend the last day or start new ones", () => {
    loadPages();
    assert.deepEqual(groups(), [
      ["Today", [10, 9]],
      ["Yesterday", [8, 7, 6]],
      ["Monday 30 November", [5]],
    ]);
    days.append(row(4), at(11, 30, 8));
    days.append(row(3), at(11, 28));
    assert.deepEqual(groups(), [
      ["Today", [10, 9]],
      ["Yesterday", [8, 7, 6]],
      ["Monday 30 November", [5, 4]],
      ["Saturday 28 November", [3]],
    ]);
    assert.deepEqual(walk(), [10, 9, 8, 7, 6, 5, 4, 3]);
  });

  test("each group's list is labelled by its own heading", () => {
    loadPages();
    const ids = list.children.map((day) => {
      const [heading, rows] = day.children;
      assert.equal(heading.tagName, "H3");
      assert.equal(rows.getAttribute("aria-labelledby"), heading.id);
      return heading.id;
    });
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe("live inserts", () => {
  test("a newer row on the same day joins the top group", () => {
    loadPages();
    days.prepend(row(11), at(12, 2, 11));
    assert.deepEqual(groups()[0], ["Today", [11, 10, 9]]);
    assert.equal(list.children.length, 3);
  });

  test("after midnight a new day starts at the top, and the headings move on", () => {
    loadPages();
    clock = at(12, 3, 0, 1);
    days.prepend(row(11), clock);
    days.refreshHeadings();
    assert.deepEqual(groups(), [
      ["Today", [11]],
      ["Yesterday", [10, 9]],
      ["Tuesday 1 December", [8, 7, 6]],
      ["Monday 30 November", [5]],
    ]);
  });

  test("a row inserted inside a day of another date splits it (a clock set back)", () => {
    loadPages();
    // Between 7 and 6, both of 1 December, a row stamped 30 November.
    days.insertBefore(row(6.5), at(11, 30, 23), rowById(6));
    assert.deepEqual(groups(), [
      ["Today", [10, 9]],
      ["Yesterday", [8, 7]],
      ["Monday 30 November", [6.5]],
      ["Yesterday", [6]],
      ["Monday 30 November", [5]],
    ]);
    assert.deepEqual(walk(), [10, 9, 8, 7, 6.5, 6, 5]);
  });

  test("a row between two days joins the one of its date", () => {
    loadPages();
    days.insertBefore(row(8.5), at(12, 1, 23), rowById(8));
    days.insertBefore(row(9.5), at(12, 2, 8, 30), rowById(9));
    days.insertBefore(row(5.5), at(12, 1, 5), rowById(5));
    assert.deepEqual(groups(), [
      ["Today", [10, 9.5, 9]],
      ["Yesterday", [8.5, 8, 7, 6, 5.5]],
      ["Monday 30 November", [5]],
    ]);
  });
});

describe("deletes and trimming", () => {
  test("a day goes with its last row", () => {
    loadPages();
    days.remove(rowById(10));
    days.remove(rowById(9));
    assert.deepEqual(groups(), [
      ["Yesterday", [8, 7, 6]],
      ["Monday 30 November", [5]],
    ]);
    assert.deepEqual(walk(), [8, 7, 6, 5]);
  });

  test("the groups around a day that went join when they are of one date", () => {
    loadPages();
    days.insertBefore(row(6.5), at(11, 30, 23), rowById(6));
    days.remove(rowById(6.5));
    assert.deepEqual(groups(), [
      ["Today", [10, 9]],
      ["Yesterday", [8, 7, 6]],
      ["Monday 30 November", [5]],
    ]);
  });

  test("trimming from the bottom takes emptied days with it", () => {
    loadPages();
    for (let i = 0; i < 4; i++) {
      days.remove(days.lastRow());
    }
    assert.deepEqual(groups(), [["Today", [10, 9]]]);
    assert.equal(days.lastRow().dataset.id, "9");
  });

  test("neighbours across days, and an empty list", () => {
    loadPages();
    assert.equal(days.nextRow(rowById(9)).dataset.id, "8");
    assert.equal(days.previousRow(rowById(8)).dataset.id, "9");
    assert.equal(days.previousRow(rowById(10)), null);
    assert.equal(days.nextRow(rowById(5)), null);
    days.clear();
    assert.deepEqual(groups(), []);
    assert.equal(days.firstRow(), null);
    assert.equal(days.lastRow(), null);
  });
});

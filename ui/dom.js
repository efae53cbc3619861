// Small DOM helpers. Text only ever goes in through textContent;
// attributes only through setAttribute on names chosen here.

import { relativeTime, rowTime } from "./format.js";

/**
 * Make an element. `options`: className, text, attrs (name → value; only
 * ever call it with attribute names written in this code), dataset.
 */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) {
    node.className = options.className;
  }
  if (options.text !== undefined && options.text !== null) {
    node.textContent = String(options.text);
  }
  if (options.attrs) {
    for (const [name, value] of Object.entries(options.attrs)) {
      if (value !== undefined && value !== null && value !== false) {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    }
  }
  if (options.dataset) {
    for (const [name, value] of Object.entries(options.dataset)) {
      node.dataset[name] = String(value);
    }
  }
  for (const child of children) {
    if (child) {
      node.append(child);
    }
  }
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) {
    throw new Error(`the page lacks #${id}`);
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

/** A decorative line icon (hidden from screen readers) from SVG path data on a 24-unit grid; style.css draws `.icon`. */
export function icon(className, paths) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `icon ${className}`);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** Set an <img> only from a data:image/png URL (the Rust side makes them from the PNGs it checked); hide it otherwise. */
export function setImage(img, source) {
  if (typeof source === "string" && source.startsWith("data:image/png;base64,")) {
    if (img.getAttribute("src") !== source) {
      img.setAttribute("src", source);
    }
    img.hidden = false;
    return true;
  }
  img.removeAttribute("src");
  img.hidden = true;
  return false;
}

/** A finite number of milliseconds, or null. */
export function msOrNull(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

// Making an Intl formatter costs far more than using one, and a history page
// formats a hundred times: each format is made once, on first use.
const formats = new Map();

function format(name, options) {
  let formatter = formats.get(name);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat(undefined, options);
    } catch {
      formatter = null;
    }
    formats.set(name, formatter);
  }
  return formatter;
}

/** The exact local date and time, in the user's locale. */
export function exactTime(ms) {
  const date = new Date(ms);
  return format("exact", { dateStyle: "medium", timeStyle: "medium" })?.format(date) ?? date.toLocaleString();
}

/** The local time of day in the user's locale, "14:05". */
export function timeOfDay(ms) {
  const date = new Date(ms);
  return format("clock", { hour: "numeric", minute: "2-digit" })?.format(date) ?? date.toLocaleTimeString();
}

function timeText(node, ms, now) {
  return node.dataset.time === "row" ? rowTime(ms, now, timeOfDay) : relativeTime(ms, now);
}

/**
 * Fill a <time> element with a relative time, or with a history row's time
 * (`style` "row"), and the exact time as its tooltip.
 */
export function setTime(node, ms, style = "relative") {
  const value = msOrNull(ms);
  if (value === null) {
    node.textContent = "—";
    node.removeAttribute("title");
    node.removeAttribute("datetime");
    delete node.dataset.ms;
    return;
  }
  node.dataset.ms = String(value);
  node.dataset.time = style;
  node.textContent = timeText(node, value, Date.now());
  node.setAttribute("title", exactTime(value));
  if (node.tagName === "TIME") {
    node.setAttribute("datetime", new Date(value).toISOString());
  }
}

/** Refresh every time under `root` (the <time> elements setTime filled). */
export function refreshTimes(root) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time[data-ms]")) {
    const ms = Number(node.dataset.ms);
    if (Number.isFinite(ms)) {
      const text = timeText(node, ms, now);
      if (node.textContent !== text) {
        node.textContent = text;
      }
    }
  }
}

/** Resolves once the next frame has been drawn (after its animation-frame callbacks). */
export function afterNextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Call `fn` once `wait` ms after the last call. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, wait);
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return debounced;
}

// Small DOM and formatting helpers. Text only ever goes in through
// textContent; attributes only through setAttribute on names chosen here.

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

/** Set an <img> only from a data:image/ URL (made by the Rust side); hide it otherwise. */
export function setImage(img, source) {
  if (typeof source === "string" && source.startsWith("data:image/")) {
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

/** "just now", "2 min ago", "in 59 min", or a date for anything older than a month. */
export function relativeTime(ms, now = Date.now()) {
  const diff = now - ms;
  const future = diff < 0;
  const seconds = Math.abs(diff) / 1000;
  if (seconds < 10) {
    return future ? "in a moment" : "just now";
  }
  let amount;
  let unit;
  if (seconds < 60) {
    amount = Math.floor(seconds);
    unit = "s";
  } else if (seconds < 3600) {
    amount = Math.floor(seconds / 60);
    unit = "min";
  } else if (seconds < 86400) {
    amount = Math.floor(seconds / 3600);
    unit = "h";
  } else if (seconds < 86400 * 31) {
    amount = Math.floor(seconds / 86400);
    unit = amount === 1 ? "day" : "days";
  } else {
    return shortDate(ms);
  }
  return future ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
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

/** The exact local date and time. */
export function exactTime(ms) {
  const date = new Date(ms);
  return format("exact", { dateStyle: "medium", timeStyle: "medium" })?.format(date) ?? date.toLocaleString();
}

function shortDate(ms) {
  const date = new Date(ms);
  return format("date", { dateStyle: "medium" })?.format(date) ?? date.toLocaleDateString();
}

/** Local time of day, "14:05" (with the date when not today). */
export function clockTime(ms, now = Date.now()) {
  const date = new Date(ms);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  if (sameDay) {
    return format("clock", { hour: "2-digit", minute: "2-digit" })?.format(date) ?? date.toLocaleTimeString();
  }
  return format("day-clock", { dateStyle: "medium", timeStyle: "short" })?.format(date) ?? date.toLocaleString();
}

/** Fill a <time> element with a relative time, the exact one as its tooltip. */
export function setTime(node, ms) {
  const value = msOrNull(ms);
  if (value === null) {
    node.textContent = "—";
    node.removeAttribute("title");
    node.removeAttribute("datetime");
    delete node.dataset.ms;
    return;
  }
  node.dataset.ms = String(value);
  node.textContent = relativeTime(value);
  node.setAttribute("title", exactTime(value));
  if (node.tagName === "TIME") {
    node.setAttribute("datetime", new Date(value).toISOString());
  }
}

/** Refresh every relative time under `root` (elements with data-ms). */
export function refreshTimes(root) {
  for (const node of root.querySelectorAll("[data-ms]")) {
    const ms = Number(node.dataset.ms);
    if (Number.isFinite(ms)) {
      node.textContent = relativeTime(ms);
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

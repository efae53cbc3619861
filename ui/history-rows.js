// A history row on the page: the EntryView the Rust side made, shown as it
// is: server text only as text, each piece isolated for bidi (<bdi> inline,
// dir="auto" for blocks), so that a right-to-left override in a title
// cannot turn the row around it.

import { el, setTime } from "./dom.js";
import { openLinkLabel } from "./format.js";
import { entryLabel } from "./subscriptions.js";

function actionButton(label, action, describedBy, name = null) {
  return el("button", {
    className: `small action-${action}`,
    text: label,
    attrs: { type: "button", "aria-describedby": describedBy, "aria-label": name },
    dataset: { action },
  });
}

/** Where the row's link leads, shown beside its actions: "↗ example.com". */
function linkHost(entry) {
  return el("span", { className: "entry-host", attrs: { title: entry.link } }, [
    el("span", { text: "↗", attrs: { "aria-hidden": "true" } }),
    el("bdi", { text: entry.link_host }),
  ]);
}

/** The row's subscription, with two or more of them: its name, or "removed" for one no longer subscribed. */
function subscriptionTag(entry, names) {
  const label = entryLabel(entry.subscription, names);
  if (label === null) {
    return null;
  }
  return el(
    "span",
    {
      className: label.removed ? "entry-subscription removed" : "entry-subscription",
      attrs: { title: label.removed ? "Its subscription was removed" : "Subscription" },
    },
    [el("span", { className: "visually-hidden", text: "Subscription: " }), el("bdi", { text: label.text })],
  );
}

/** Shows a row read or unread. */
export function applyRead(li, read) {
  li.classList.toggle("unread", !read);
  li.querySelector(".unread-dot").hidden = read;
  li.querySelector(".action-mark-read").hidden = read;
}

/** The row of an entry; `names`: the subscriptions there are (for its label). */
export function renderRow(entry, names) {
  const textId = `entry-text-${entry.id}`;
  const time = el("time", { className: "entry-time" });
  setTime(time, entry.received_at_ms, "row");
  const actions = el("div", { className: "entry-actions" }, [
    actionButton("Mark read", "mark-read", textId),
    entry.link !== null ? actionButton("Open link", "open-link", textId, openLinkLabel(entry.link_host)) : null,
    actionButton("Delete", "delete", textId),
  ]);
  const meta = el("div", { className: "entry-meta" }, [
    el("span", { className: "unread-dot", attrs: { role: "img", "aria-label": "unread" } }),
    el("span", { className: "entry-type" }, [el("bdi", { text: entry.event_type })]),
    subscriptionTag(entry, names),
    time,
    entry.link_host !== null ? linkHost(entry) : null,
    actions,
  ]);
  const li = el("li", { className: `entry kind-${entry.kind}`, dataset: { id: entry.id } }, [
    meta,
    entry.title !== null ? el("p", { className: "entry-title", text: entry.title, attrs: { dir: "auto" } }) : null,
    el("p", { className: "entry-text", text: entry.text, attrs: { id: textId, dir: "auto" } }),
  ]);
  li.classList.toggle("has-link", entry.link !== null);
  applyRead(li, entry.read);
  return li;
}

/** The row's subscription label again, for the subscriptions there are now. */
export function relabelRow(li, entry, names) {
  li.querySelector(".entry-subscription")?.remove();
  const tag = subscriptionTag(entry, names);
  if (tag !== null) {
    li.querySelector(".entry-type").after(tag);
  }
}

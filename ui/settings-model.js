// What the Settings form decides, without a page: what the settings put in
// its global fields and what those send back (or the Problem that stops
// them), whether it holds unsaved changes, which error goes beside which
// field, and which certificate a card offers. settings.js puts it on the
// page; card-model.js decides for each subscription's card.

import { Problem, copyOf } from "./card-model.js";
import { isolate, parseField } from "./subscriptions.js";

/** Global fields whose error element is #error-<key>, and the inputs to flag. */
export const GLOBAL_FIELDS = new Map([
  ["notifications", ["notifications"]],
  ["quiet_hours", ["quiet_from", "quiet_to"]],
  ["autostart", ["autostart"]],
  ["start_hidden", ["start_hidden"]],
  ["keep_count", ["keep_count"]],
  ["keep_days", ["keep_days"]],
  ["subscriptions", []],
]);

/** The top-level fields of the settings before subscriptions: never sent again. */
const FORMER_FIELDS = ["server_url", "channel", "headers", "extra_ca_file", "certificate_pin", "web_app_url", "rules"];

/** "7:00" → "07:00"; anything else that is not a time → "". */
export function timeValue(text) {
  if (typeof text !== "string") {
    return "";
  }
  const match = /^\s*(\d{1,2}):(\d{2})/.exec(text);
  if (!match) {
    return "";
  }
  return `${match[1].padStart(2, "0")}:${match[2]}`;
}

/** What the settings put in the global inputs, by their ids: checkboxes as booleans, the rest as text. */
export function globalValues(settings) {
  const quiet = settings.quiet_hours && typeof settings.quiet_hours === "object" ? settings.quiet_hours : null;
  const history = settings.history && typeof settings.history === "object" ? settings.history : {};
  const count = (value) => (typeof value === "number" ? String(value) : "");
  return {
    notifications: settings.notifications !== false,
    autostart: settings.autostart === true,
    start_hidden: settings.start_hidden === true,
    quiet_from: timeValue(quiet?.from),
    quiet_to: timeValue(quiet?.to),
    keep_count: count(history.keep_count),
    keep_days: count(history.keep_days),
  };
}

/** A whole number of at least 1 typed in a field, or a Problem naming `field`. */
export function wholeNumber(value, field, label) {
  const typed = value.trim();
  const number = Number(typed);
  if (typed === "" || !Number.isSafeInteger(number) || number < 1) {
    throw new Problem(field, `${label} must be a whole number of at least 1.`);
  }
  return number;
}

/** Two subscriptions of one name cannot be saved: a Problem on the second card ({sub, card}). */
export function checkNames(sent) {
  const names = new Set();
  for (const { sub, card } of sent) {
    if (names.has(sub.name)) {
      throw new Problem("name", `Two subscriptions are called ${isolate(sub.name)}: give each its own name.`, null, card);
    }
    names.add(sub.name);
  }
}

/**
 * The settings to send: those loaded (fields the form does not show go
 * back as they were, the former top-level ones never), with `subscriptions`
 * and the global inputs' `values` (as globalValues has them); a Problem
 * thrown for what the form can tell.
 */
export function settingsToSend(loaded, subscriptions, values) {
  const settings = copyOf(loaded);
  for (const field of FORMER_FIELDS) {
    delete settings[field];
  }
  settings.subscriptions = subscriptions;
  settings.notifications = values.notifications;
  settings.autostart = values.autostart;
  settings.start_hidden = values.start_hidden;
  const from = values.quiet_from.trim();
  const to = values.quiet_to.trim();
  if ((from === "") !== (to === "")) {
    throw new Problem("quiet_hours", "Give both times for quiet hours, or leave both empty to turn them off.");
  }
  settings.quiet_hours = from === "" ? null : { from: timeValue(from) || from, to: timeValue(to) || to };
  const history = settings.history && typeof settings.history === "object" ? settings.history : {};
  history.keep_count = wholeNumber(values.keep_count, "history.keep_count", "Entries to keep");
  history.keep_days = wholeNumber(values.keep_days, "history.keep_days", "Days to keep");
  settings.history = history;
  return settings;
}

/**
 * Where an error goes: {card, key, rest} for a subscription's field (the
 * card's own error line when the key is not one of its fields), {card:
 * null, key} for a global one; null when it names no field of the form.
 * `cardOf(index)`: the card an index names; `tested`: the card a test was
 * of (any subscription field is then about it); `hasField(card, key)`:
 * whether a card shows errors about `key`.
 */
export function placeOf(field, { cardOf, tested = null, hasField = () => false }) {
  const parsed = parseField(field);
  if (parsed.scope === "none") {
    return null;
  }
  if (tested !== null && (parsed.scope === "subscription" || hasField(tested, parsed.key))) {
    return { card: tested, key: parsed.key ?? "card", rest: parsed.rest };
  }
  if (parsed.scope === "subscription") {
    const card = cardOf(parsed.index ?? 0);
    return card ? { card, key: parsed.key ?? "card", rest: parsed.rest } : null;
  }
  return GLOBAL_FIELDS.has(parsed.key) ? { card: null, key: parsed.key, rest: parsed.rest } : null;
}

/** Where a Problem found in the form goes. */
export function problemPlace(problem) {
  if (problem.card) {
    return { card: problem.card, key: problem.field, rest: null };
  }
  return placeOf(problem.field, { cardOf: () => null });
}

/**
 * The certificate a card offers to trust ({subscription, fingerprint} of
 * certificateOffers): its subscription's, or for a status without names,
 * the first card's.
 */
export function offerFor(offers, savedName, isFirst) {
  const named = offers.find((offer) => offer.subscription !== null && offer.subscription === savedName);
  if (named) {
    return named;
  }
  const unnamed = offers.find((offer) => offer.subscription === null);
  return unnamed && isFirst ? unnamed : null;
}

/**
 * Whether the form holds what the user changed, and what: a global
 * input's id, or "subscriptions". A load leaves alone what was changed
 * since; a save, or "Discard changes", forgets it.
 */
export class FormEdits {
  constructor() {
    this.dirty = false;
    this.edited = new Set();
    /** Bumped by every save: a load that began before it must not undo what it showed. */
    this.saves = 0;
  }

  /** The user changed `what` (an input's id, or "subscriptions"); null for something unnamed. */
  change(what) {
    this.dirty = true;
    if (typeof what === "string" && what !== "") {
      this.edited.add(what);
    }
  }

  has(what) {
    return this.edited.has(what);
  }

  /** "Discard changes": what was changed is read afresh. */
  discard() {
    this.edited.clear();
  }

  /** A load's answer is in: changes made while it was on its way stay (and keep the form dirty). */
  loaded() {
    this.dirty = this.edited.size > 0;
  }

  /** Saved, or discarded: nothing is changed any more. */
  forget() {
    this.dirty = false;
    this.edited.clear();
  }
}

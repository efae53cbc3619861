// What one subscription's card in the Settings form decides, without a
// page: its title and head, whether it is blank, the subscription it sends
// (or the Problem that stops it), and which inputs an error is about.
// subscription-card.js puts it on the page.

import { defaultName, hostOf } from "./subscriptions.js";

/** The rule actions a rule row offers: [value, label]. */
export const RULES = [
  ["notify", "Notify"],
  ["store_only", "Store only"],
  ["ignore", "Ignore"],
];

/** The card's text fields, by the key the settings give them. */
export const TEXT_FIELDS = ["name", "server_url", "channel", "web_app_url", "extra_ca_file", "certificate_pin"];

/** A problem the form finds before sending: the field (a key of the card, or a global one), the message, the input to flag, the card. */
export class Problem {
  constructor(field, message, hint = null, card = null) {
    this.field = field;
    this.message = message;
    this.hint = hint;
    this.card = card;
  }
}

function text(value) {
  return typeof value === "string" ? value : "";
}

function optional(value) {
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

/** A deep copy of a settings object (plain JSON). */
export function copyOf(value) {
  return JSON.parse(JSON.stringify(value ?? {}));
}

/** A rule's action as the row's select can show it: an unknown one notifies. */
export function ruleAction(rule) {
  return RULES.some(([value]) => value === rule) ? rule : "notify";
}

/**
 * What a subscription (as get_settings gives it) puts in the card: its
 * text fields, the switch, header and rule rows, the name it was saved as
 * (null for none).
 */
export function cardValues(subscription) {
  const sub = subscription && typeof subscription === "object" ? subscription : {};
  return {
    fields: Object.fromEntries(TEXT_FIELDS.map((key) => [key, text(sub[key])])),
    notifications: sub.notifications !== false,
    headers: sub.headers && typeof sub.headers === "object" ? Object.entries(sub.headers).map(([name, value]) => [name, text(value)]) : [],
    rules: sub.rules && typeof sub.rules === "object" ? Object.entries(sub.rules).map(([type, rule]) => [type, ruleAction(rule)]) : [],
    savedName: typeof sub.name === "string" && sub.name !== "" ? sub.name : null,
  };
}

/** What the card is called: the name typed, else one made from its URL and channel, else "New subscription". */
export function cardTitle(fields) {
  const typed = fields.name.trim();
  if (typed !== "") {
    return typed;
  }
  return defaultName(fields.server_url, fields.channel) || "New subscription";
}

/** The card's head: its title, its server's host (hidden when it says the title again), its buttons' names. */
export function cardHead(fields, notifications) {
  const title = cardTitle(fields);
  const host = hostOf(fields.server_url);
  return {
    title,
    host,
    hostHidden: host === "" || host === title,
    muted: !notifications,
    moveUp: `Move ${title} up`,
    moveDown: `Move ${title} down`,
    remove: `Remove subscription ${title}`,
  };
}

/** The accessible name of a header row's reveal button, by the header's name as typed. */
export function revealLabel(headerName) {
  const header = headerName.trim();
  return header === "" ? "Show value of this header" : `Show value of header ${header}`;
}

/** A card added here and left empty (fields and rows): saving leaves it out. */
export function isBlank(savedName, fields, rowTexts) {
  if (savedName !== null) {
    return false;
  }
  return TEXT_FIELDS.every((key) => fields[key].trim() === "") && rowTexts.every((value) => value.trim() === "");
}

/** The headers of the header rows ({name, value, input}): a Problem (flagging that row's name) for a nameless or repeated one. */
function headersOf(rows, card) {
  const headers = [];
  const seen = new Set();
  for (const row of rows) {
    const name = row.name.trim();
    const value = row.value.trim();
    if (name === "" && value === "") {
      continue;
    }
    if (name === "") {
      throw new Problem("headers", "Each header needs a name, such as Authorization.", row.input, card);
    }
    if (seen.has(name.toLowerCase())) {
      throw new Problem("headers", `The header ${name} is listed twice.`, row.input, card);
    }
    seen.add(name.toLowerCase());
    headers.push([name, value]);
  }
  return Object.fromEntries(headers);
}

/** The rules of the rule rows ({type, action, input}); a Problem for a type with two. */
function rulesOf(rows, card) {
  const rules = [];
  const seen = new Set();
  for (const row of rows) {
    const type = row.type.trim();
    if (type === "") {
      continue;
    }
    if (seen.has(type)) {
      throw new Problem("rules", `The event type ${type} has two rules.`, row.input, card);
    }
    seen.add(type);
    rules.push([type, row.action]);
  }
  return Object.fromEntries(rules);
}

/**
 * The subscription a card sends: `base` (as loaded or last saved, so that
 * fields the form does not show go back as they were) with what the card
 * holds; a Problem thrown for what the card can tell. Its name is "" when
 * none was typed (the settings make one).
 */
export function readSubscription({ base, fields, notifications, headers, rules, card = null }) {
  const sub = copyOf(base);
  sub.name = fields.name.trim();
  sub.server_url = optional(fields.server_url);
  sub.channel = fields.channel.trim();
  sub.web_app_url = optional(fields.web_app_url);
  sub.extra_ca_file = optional(fields.extra_ca_file);
  sub.certificate_pin = optional(fields.certificate_pin);
  sub.notifications = notifications;
  sub.headers = headersOf(headers, card);
  sub.rules = rulesOf(rules, card);
  return sub;
}

/**
 * Which of `inputs` ({input, value}, a header's names or a rule's types)
 * an error about the row `rest` names: those holding it, else the first.
 */
export function rowInputsNamed(inputs, rest) {
  const named = inputs.filter(({ value }) => typeof rest === "string" && rest !== "" && value.trim() === rest);
  return (named.length > 0 ? named : inputs.slice(0, 1)).map(({ input }) => input);
}

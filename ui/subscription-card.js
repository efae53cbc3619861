// One subscription's card in the Settings form, cloned from the page's
// #subscription-template: its fields, header and rule rows, Test
// connection, the certificate offer, Move up / Move down, and the
// question asked before a saved subscription is removed. The first card
// keeps the template's ids (#server_url, #test-connection…); the n-th
// gets "-n" on each (#server_url-2), renumbered as cards move.
//
// What the card decides alone it does here; what involves the other cards
// (order, unique names, saving, removing) goes through the hooks.

import { el, icon } from "./dom.js";
import { defaultName, hostOf, idSuffix, removeQuestionText, suffixIds } from "./subscriptions.js";

const RULES = [
  ["notify", "Notify"],
  ["store_only", "Store only"],
  ["ignore", "Ignore"],
];

/** An eye: the header value toggle's icon. */
const EYE = ["M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z", "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z"];

/** Attributes that hold ids, renumbered with the card. */
const ID_ATTRS = ["id", "for", "aria-describedby", "aria-labelledby", "aria-controls"];

/** The card's text fields, by the key the settings give them. */
const TEXT_FIELDS = ["name", "server_url", "channel", "web_app_url", "extra_ca_file", "certificate_pin"];

/** Header and rule row ids are unique across all cards. */
let rowCounter = 0;

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

function optionalText(input) {
  const value = input.value.trim();
  return value === "" ? null : value;
}

/**
 * @param {HTMLTemplateElement} template
 * @param {object} hooks
 * @param {() => void} hooks.changed  the user changed the card
 * @param {(card, delta: number, button: HTMLElement) => void} hooks.move
 * @param {(card) => void} hooks.remove  "Remove" pressed
 * @param {(card, deleteHistory: boolean) => void} hooks.unsubscribe  the question answered
 * @param {(card) => void} hooks.test  "Test connection" pressed
 * @param {(card) => void} hooks.trust  "Trust this certificate" pressed
 * @param {(card) => string} hooks.nameFor  the name this card gets when left empty (unique among the cards)
 */
export function createCard(template, hooks) {
  const root = template.content.firstElementChild.cloneNode(true);
  const part = (name) => root.querySelector(`[data-part="${name}"]`);
  const fields = Object.fromEntries(TEXT_FIELDS.map((key) => [key, root.querySelector(`[data-field="${key}"]`)]));
  const notifications = root.querySelector('[data-field="notifications"]');
  const body = part("body");
  const toggle = part("toggle");
  const titleText = part("title");
  const host = part("host");
  const hostText = part("host-text");
  const offerChip = part("offer-chip");
  const mutedChip = part("muted-chip");
  const moveUp = part("move-up");
  const moveDown = part("move-down");
  const removeButton = part("remove");
  const question = part("question");
  const questionName = part("question-name");
  const questionText = part("question-text");
  const keepButton = part("keep");
  const deleteButton = part("delete");
  const cancelButton = part("cancel");
  const headersList = part("headers");
  const rulesList = part("rules");
  const addHeaderButton = part("add-header");
  const addRuleButton = part("add-rule");
  const testButton = part("test");
  const testResult = part("test-result");
  const offer = part("offer");
  const offerFingerprint = part("offer-fingerprint");
  const trustButton = part("trust");

  /** The template's ids: references to these are renumbered, others (a row's own id, #known-types) kept. */
  const templateIds = new Set([...root.querySelectorAll("[id]")].map((node) => node.id));
  /** Each element's id attributes as the template (or the row maker) wrote them. */
  const bases = new WeakMap();
  let suffix = "";
  let expanded = true;
  /** The name was made from the URL in this form, not typed: it follows the URL and channel until the user types one. */
  let autoName = false;

  const card = {
    root,
    /** The subscription's name as saved (what unsubscribe names); null for one not saved yet. */
    savedName: null,
    /** The subscription as loaded or last saved: fields the form does not show are sent back as they were. */
    base: {},
  };

  // ---- ids ------------------------------------------------------------------

  /** Gives the elements under `scope` the card's ids (the template's plus the card's suffix). */
  function applyIds(scope) {
    for (const node of [scope, ...scope.querySelectorAll("*")]) {
      let base = bases.get(node);
      if (base === undefined) {
        base = {};
        for (const name of ID_ATTRS) {
          if (node.hasAttribute(name)) {
            base[name] = node.getAttribute(name);
          }
        }
        bases.set(node, base);
      }
      for (const [name, value] of Object.entries(base)) {
        const next = suffixIds(value, templateIds, suffix);
        if (node.getAttribute(name) !== next) {
          node.setAttribute(name, next);
        }
      }
    }
  }

  // ---- head -----------------------------------------------------------------

  function title() {
    const typed = fields.name.value.trim();
    if (typed !== "") {
      return typed;
    }
    return defaultName(fields.server_url.value, fields.channel.value) || "New subscription";
  }

  function refreshHead() {
    const name = title();
    if (titleText.textContent !== name) {
      titleText.textContent = name;
    }
    const where = hostOf(fields.server_url.value);
    hostText.textContent = where;
    host.hidden = where === "" || where === name;
    mutedChip.hidden = notifications.checked;
    moveUp.setAttribute("aria-label", `Move ${name} up`);
    moveDown.setAttribute("aria-label", `Move ${name} down`);
    removeButton.setAttribute("aria-label", `Remove subscription ${name}`);
  }

  function setExpanded(open) {
    expanded = open;
    body.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    root.classList.toggle("collapsed", !open);
  }

  // ---- rows -----------------------------------------------------------------

  function labelled(id, label, input, extra = null) {
    return el("div", { className: "cell" }, [el("label", { className: "visually-hidden", text: label, attrs: { for: id } }), input, extra]);
  }

  function rowRemoveButton(row, what, focusAfter) {
    const remove = el("button", {
      className: "small quiet remove-row",
      text: "Remove",
      attrs: { type: "button", "aria-label": `Remove ${what}` },
    });
    remove.addEventListener("click", () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      (next?.querySelector("input") ?? focusAfter).focus();
      hooks.changed();
    });
    return remove;
  }

  /** Shows or masks a header's value; its name says which header, as typed. */
  function revealButton(nameInput, valueInput) {
    const button = el(
      "button",
      {
        className: "small quiet reveal",
        attrs: { type: "button", "aria-pressed": "false", "aria-controls": valueInput.id, title: "Show or mask the value" },
      },
      [icon("icon-eye", EYE)],
    );
    const name = () => {
      const header = nameInput.value.trim();
      button.setAttribute("aria-label", header === "" ? "Show value of this header" : `Show value of header ${header}`);
    };
    name();
    nameInput.addEventListener("input", name);
    button.addEventListener("click", () => {
      const show = valueInput.type === "password";
      valueInput.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", String(show));
    });
    return button;
  }

  function addHeader(name = "", value = "") {
    const n = ++rowCounter;
    const row = el("li", { className: "pair-row header-row" });
    const nameInput = el("input", {
      className: "header-name",
      attrs: { id: `header-name-${n}`, type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Authorization", "aria-describedby": "error-headers" },
    });
    // Masked: header values are tokens, and a window is easily seen over a shoulder or shared on a call.
    const valueInput = el("input", {
      className: "header-value",
      attrs: { id: `header-value-${n}`, type: "password", autocomplete: "off", spellcheck: "false", placeholder: "Bearer …", "aria-describedby": "error-headers" },
    });
    nameInput.value = name;
    valueInput.value = value;
    row.append(
      labelled(`header-name-${n}`, "Header name", nameInput),
      labelled(`header-value-${n}`, "Header value", valueInput, revealButton(nameInput, valueInput)),
      rowRemoveButton(row, "this header", addHeaderButton),
    );
    headersList.append(row);
    applyIds(row);
    return nameInput;
  }

  function addRule(type = "", rule = "notify") {
    const n = ++rowCounter;
    const row = el("li", { className: "pair-row rule-row" });
    const typeInput = el("input", {
      className: "rule-type",
      attrs: { id: `rule-type-${n}`, type: "text", autocomplete: "off", spellcheck: "false", list: "known-types", placeholder: "event type", "aria-describedby": "error-rules" },
    });
    typeInput.value = type;
    const select = el("select", { className: "rule-action", attrs: { id: `rule-action-${n}`, "aria-describedby": "error-rules" } });
    for (const [value, label] of RULES) {
      select.append(el("option", { text: label, attrs: { value } }));
    }
    select.value = RULES.some(([value]) => value === rule) ? rule : "notify";
    row.append(
      labelled(`rule-type-${n}`, "Event type", typeInput),
      labelled(`rule-action-${n}`, "What to do", select),
      rowRemoveButton(row, "this rule", addRuleButton),
    );
    rulesList.append(row);
    applyIds(row);
    return typeInput;
  }

  // ---- name from the URL ------------------------------------------------------

  /** The URL or the channel was left: an empty (or made-up) name is made from them. */
  function fillName() {
    if (fields.name.value.trim() !== "" && !autoName) {
      return;
    }
    const name = hooks.nameFor(card);
    if (name !== "" && fields.name.value !== name) {
      fields.name.value = name;
      autoName = true;
      refreshHead();
      hooks.changed();
    }
  }

  // ---- question --------------------------------------------------------------

  function closeQuestion(focusBack) {
    if (question.hidden) {
      return false;
    }
    question.hidden = true;
    removeButton.setAttribute("aria-expanded", "false");
    if (focusBack) {
      removeButton.focus();
    }
    return true;
  }

  // ---- wiring ------------------------------------------------------------------

  toggle.addEventListener("click", () => setExpanded(!expanded));
  moveUp.addEventListener("click", () => hooks.move(card, -1, moveUp));
  moveDown.addEventListener("click", () => hooks.move(card, 1, moveDown));
  removeButton.addEventListener("click", () => {
    if (!closeQuestion(true)) {
      hooks.remove(card);
    }
  });
  keepButton.addEventListener("click", () => hooks.unsubscribe(card, false));
  deleteButton.addEventListener("click", () => hooks.unsubscribe(card, true));
  cancelButton.addEventListener("click", () => closeQuestion(true));
  testButton.addEventListener("click", () => hooks.test(card));
  trustButton.addEventListener("click", () => hooks.trust(card));
  addHeaderButton.addEventListener("click", () => {
    addHeader().focus();
    hooks.changed();
  });
  addRuleButton.addEventListener("click", () => {
    addRule().focus();
    hooks.changed();
  });
  fields.name.addEventListener("input", () => {
    autoName = false;
    refreshHead();
  });
  for (const input of [fields.server_url, fields.channel]) {
    input.addEventListener("input", refreshHead);
    input.addEventListener("blur", fillName);
  }
  fields.server_url.addEventListener("input", () => card.showTestResult("", null));
  notifications.addEventListener("change", refreshHead);

  // ---- the card ------------------------------------------------------------------

  // With their descriptors: the getters stay getters (Object.assign would read each once).
  const members = {
    /** The card's place: its ids, and which moves it offers. */
    setPosition(index, total) {
      suffix = idSuffix(index);
      applyIds(root);
      moveUp.hidden = total < 2;
      moveDown.hidden = total < 2;
      moveUp.disabled = index === 0;
      moveDown.disabled = index === total - 1;
    },

    /** Puts a subscription (as get_settings gives it) in the card. */
    fill(subscription) {
      const sub = subscription && typeof subscription === "object" ? subscription : {};
      card.base = JSON.parse(JSON.stringify(sub));
      card.savedName = typeof sub.name === "string" && sub.name !== "" ? sub.name : null;
      autoName = false;
      for (const key of TEXT_FIELDS) {
        fields[key].value = text(sub[key]);
      }
      notifications.checked = sub.notifications !== false;
      headersList.replaceChildren();
      if (sub.headers && typeof sub.headers === "object") {
        for (const [name, value] of Object.entries(sub.headers)) {
          addHeader(name, text(value));
        }
      }
      rulesList.replaceChildren();
      if (sub.rules && typeof sub.rules === "object") {
        for (const [type, rule] of Object.entries(sub.rules)) {
          addRule(type, rule);
        }
      }
      refreshHead();
    },

    /** Saved as `subscription`: it is now what the tray process has. */
    markSaved(subscription) {
      card.base = JSON.parse(JSON.stringify(subscription));
      card.savedName = subscription.name;
      autoName = false;
    },

    /** A card added here and left empty: saving leaves it out. */
    isBlank() {
      if (card.savedName !== null) {
        return false;
      }
      if (TEXT_FIELDS.some((key) => fields[key].value.trim() !== "")) {
        return false;
      }
      const rowsFilled = [...root.querySelectorAll(".header-row input, .rule-row .rule-type")].some((input) => input.value.trim() !== "");
      return !rowsFilled;
    },

    /**
     * The subscription to send, or a Problem thrown for what the card can
     * tell. Its name is "" when none was typed (the settings make one).
     */
    read() {
      const sub = JSON.parse(JSON.stringify(card.base));
      sub.name = fields.name.value.trim();
      sub.server_url = optionalText(fields.server_url);
      sub.channel = fields.channel.value.trim();
      sub.web_app_url = optionalText(fields.web_app_url);
      sub.extra_ca_file = optionalText(fields.extra_ca_file);
      sub.certificate_pin = optionalText(fields.certificate_pin);
      sub.notifications = notifications.checked;

      const headers = [];
      const headerNames = new Set();
      for (const row of headersList.querySelectorAll(".header-row")) {
        const nameInput = row.querySelector(".header-name");
        const name = nameInput.value.trim();
        const value = row.querySelector(".header-value").value.trim();
        if (name === "" && value === "") {
          continue;
        }
        if (name === "") {
          throw new Problem("headers", "Each header needs a name, such as Authorization.", nameInput, card);
        }
        if (headerNames.has(name.toLowerCase())) {
          throw new Problem("headers", `The header ${name} is listed twice.`, nameInput, card);
        }
        headerNames.add(name.toLowerCase());
        headers.push([name, value]);
      }
      sub.headers = Object.fromEntries(headers);

      const rules = [];
      const ruleTypes = new Set();
      for (const row of rulesList.querySelectorAll(".rule-row")) {
        const typeInput = row.querySelector(".rule-type");
        const type = typeInput.value.trim();
        if (type === "") {
          continue;
        }
        if (ruleTypes.has(type)) {
          throw new Problem("rules", `The event type ${type} has two rules.`, typeInput, card);
        }
        ruleTypes.add(type);
        rules.push([type, row.querySelector(".rule-action").value]);
      }
      sub.rules = Object.fromEntries(rules);
      return sub;
    },

    /** The name the user typed (trimmed), or "". */
    get typedName() {
      return fields.name.value.trim();
    },
    get url() {
      return fields.server_url.value.trim();
    },
    get channel() {
      return fields.channel.value.trim();
    },
    /** What the card is called in its head and its buttons' names. */
    get title() {
      return title();
    },

    /** Writes a name made for the card (shown before it is saved). */
    setMadeName(name) {
      fields.name.value = name;
      autoName = true;
      refreshHead();
    },

    get expanded() {
      return expanded;
    },
    setExpanded,

    focusUrl() {
      setExpanded(true);
      fields.server_url.focus();
    },
    focusHead() {
      toggle.focus();
    },

    /** The element where an error about `key` goes, or null. */
    errorElement(key) {
      return [...root.querySelectorAll("[data-error]")].find((node) => node.dataset.error === key) ?? null;
    },

    /** The inputs to flag for an error about `key`; for headers and rules, the row `rest` names. */
    inputsFor(key, rest, hint) {
      if (hint instanceof HTMLElement) {
        return [hint];
      }
      if (key === "headers" || key === "rules") {
        const list = key === "headers" ? headersList : rulesList;
        const all = [...list.querySelectorAll(key === "headers" ? ".header-name" : ".rule-type")];
        const named = all.filter((input) => typeof rest === "string" && rest !== "" && input.value.trim() === rest);
        return named.length > 0 ? named : all.slice(0, 1);
      }
      if (key === "notifications") {
        return [notifications];
      }
      return fields[key] ? [fields[key]] : [];
    },

    /** `ok`: true or false for a verdict, null for none. */
    showTestResult(words, ok) {
      testResult.textContent = words;
      testResult.classList.toggle("ok", ok === true);
      testResult.classList.toggle("fail", ok === false);
    },
    setTesting(testing) {
      testButton.disabled = testing;
      testButton.textContent = testing ? "Testing…" : "Test connection";
    },
    focusTest() {
      testButton.focus();
    },

    /** A refused certificate's fingerprint offered to trust, or null. */
    showOffer(fingerprint) {
      const offered = typeof fingerprint === "string" ? fingerprint : "";
      offer.hidden = offered === "";
      offerChip.hidden = offered === "";
      if (offerFingerprint.textContent !== offered) {
        offerFingerprint.textContent = offered;
      }
    },
    get offeredFingerprint() {
      return offerFingerprint.textContent;
    },
    setTrusting(busy) {
      trustButton.disabled = busy;
    },
    /** The fingerprint just trusted, as the field that clears it. */
    setPin(fingerprint) {
      fields.certificate_pin.value = fingerprint;
    },

    /** Asks before removing the saved subscription; `unread`: its unread count when known. */
    askRemove(unread) {
      questionName.textContent = card.savedName ?? title();
      questionText.textContent = removeQuestionText(unread);
      question.hidden = false;
      removeButton.setAttribute("aria-expanded", "true");
      cancelButton.focus();
    },
    closeQuestion,
    get questionOpen() {
      return !question.hidden;
    },
    setQuestionBusy(busy) {
      keepButton.disabled = busy;
      deleteButton.disabled = busy;
    },
  };
  Object.defineProperties(card, Object.getOwnPropertyDescriptors(members));

  card.fill({});
  return card;
}

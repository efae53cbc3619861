// One subscription's card in the Settings form, cloned from the page's
// #subscription-template: its fields, header and rule rows, Test
// connection, the certificate offer, Move up / Move down, and the
// question asked before a saved subscription is removed. The first card
// keeps the template's ids (#server_url, #test-connection…); the n-th
// gets "-n" on each (#server_url-2), renumbered as cards move.
//
// What the card decides is card-model.js's (tested under node); this is
// its page. What involves the other cards (order, unique names, saving,
// removing) goes through the hooks.

import { RULES, TEXT_FIELDS, cardHead, cardTitle, cardValues, copyOf, isBlank, readSubscription, revealLabel, rowInputsNamed } from "./card-model.js";
import { el, icon } from "./dom.js";
import { idSuffix, removeQuestionText, suffixIds } from "./subscriptions.js";

/** An eye: the header value toggle's icon. */
const EYE = ["M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z", "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z"];

/** Attributes that hold ids, renumbered with the card. */
const ID_ATTRS = ["id", "for", "aria-describedby", "aria-labelledby", "aria-controls"];

/** Header and rule row ids are unique across all cards. */
let rowCounter = 0;

function labelled(id, label, input, extra = null) {
  return el("div", { className: "cell" }, [el("label", { className: "visually-hidden", text: label, attrs: { for: id } }), input, extra]);
}

function textInput(className, id, placeholder, extra = {}) {
  return el("input", {
    className,
    attrs: { id, type: "text", autocomplete: "off", spellcheck: "false", placeholder, ...extra },
  });
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
  const name = () => button.setAttribute("aria-label", revealLabel(nameInput.value));
  name();
  nameInput.addEventListener("input", name);
  button.addEventListener("click", () => {
    const show = valueInput.type === "password";
    valueInput.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", String(show));
  });
  return button;
}

/** A header row: its name, its value (masked), a reveal and a remove button. */
function headerRow(name, value) {
  const n = ++rowCounter;
  const nameInput = textInput("header-name", `header-name-${n}`, "Authorization", { "aria-describedby": "error-headers" });
  // Masked: header values are tokens, and a window is easily seen over a shoulder or shared on a call.
  const valueInput = textInput("header-value", `header-value-${n}`, "Bearer …", { "aria-describedby": "error-headers" });
  valueInput.type = "password";
  nameInput.value = name;
  valueInput.value = value;
  const row = el("li", { className: "pair-row header-row" }, [
    labelled(`header-name-${n}`, "Header name", nameInput),
    labelled(`header-value-${n}`, "Header value", valueInput, revealButton(nameInput, valueInput)),
  ]);
  return { row, first: nameInput };
}

/** A rule row: an event type and what to do with it. */
function ruleRow(type, rule) {
  const n = ++rowCounter;
  const typeInput = textInput("rule-type", `rule-type-${n}`, "event type", { list: "known-types", "aria-describedby": "error-rules" });
  typeInput.value = type;
  const select = el("select", { className: "rule-action", attrs: { id: `rule-action-${n}`, "aria-describedby": "error-rules" } });
  for (const [value, label] of RULES) {
    select.append(el("option", { text: label, attrs: { value } }));
  }
  select.value = rule;
  const row = el("li", { className: "pair-row rule-row" }, [
    labelled(`rule-type-${n}`, "Event type", typeInput),
    labelled(`rule-action-${n}`, "What to do", select),
  ]);
  return { row, first: typeInput };
}

class SubscriptionCard {
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
  constructor(template, hooks) {
    this.hooks = hooks;
    this.root = template.content.firstElementChild.cloneNode(true);
    this.fields = Object.fromEntries(TEXT_FIELDS.map((key) => [key, this.root.querySelector(`[data-field="${key}"]`)]));
    this.notifications = this.root.querySelector('[data-field="notifications"]');
    /** The template's ids: references to these are renumbered, others (a row's own id, #known-types) kept. */
    this.templateIds = new Set([...this.root.querySelectorAll("[id]")].map((node) => node.id));
    /** Each element's id attributes as the template (or the row maker) wrote them. */
    this.bases = new WeakMap();
    this.suffix = "";
    this.expanded = true;
    /** The name was made from the URL in this form, not typed: it follows the URL and channel until the user types one. */
    this.autoName = false;
    /** The subscription's name as saved (what unsubscribe names); null for one not saved yet. */
    this.savedName = null;
    /** The subscription as loaded or last saved: fields the form does not show are sent back as they were. */
    this.base = {};
    this.wire();
    this.fill({});
  }

  /** An element of the card's template, by its data-part. */
  part(name) {
    return this.root.querySelector(`[data-part="${name}"]`);
  }

  /** Gives the elements under `scope` the card's ids (the template's plus the card's suffix). */
  applyIds(scope) {
    for (const node of [scope, ...scope.querySelectorAll("*")]) {
      let base = this.bases.get(node);
      if (base === undefined) {
        base = Object.fromEntries(ID_ATTRS.filter((name) => node.hasAttribute(name)).map((name) => [name, node.getAttribute(name)]));
        this.bases.set(node, base);
      }
      for (const [name, value] of Object.entries(base)) {
        const next = suffixIds(value, this.templateIds, this.suffix);
        if (node.getAttribute(name) !== next) {
          node.setAttribute(name, next);
        }
      }
    }
  }

  /** The text fields' values now, by key. */
  fieldValues() {
    return Object.fromEntries(TEXT_FIELDS.map((key) => [key, this.fields[key].value]));
  }

  refreshHead() {
    const head = cardHead(this.fieldValues(), this.notifications.checked);
    const title = this.part("title");
    if (title.textContent !== head.title) {
      title.textContent = head.title;
    }
    this.part("host-text").textContent = head.host;
    this.part("host").hidden = head.hostHidden;
    this.part("muted-chip").hidden = !head.muted;
    this.part("move-up").setAttribute("aria-label", head.moveUp);
    this.part("move-down").setAttribute("aria-label", head.moveDown);
    this.part("remove").setAttribute("aria-label", head.remove);
  }

  setExpanded(open) {
    this.expanded = open;
    this.part("body").hidden = !open;
    this.part("toggle").setAttribute("aria-expanded", String(open));
    this.root.classList.toggle("collapsed", !open);
  }

  // ---- rows ------------------------------------------------------------------------

  /** Puts a made row in `list`, with its Remove button; returns its first input. */
  addRow({ row, first }, list, what, addButton) {
    const remove = el("button", {
      className: "small quiet remove-row",
      text: "Remove",
      attrs: { type: "button", "aria-label": `Remove ${what}` },
    });
    remove.addEventListener("click", () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      (next?.querySelector("input") ?? addButton).focus();
      this.hooks.changed();
    });
    row.append(remove);
    list.append(row);
    this.applyIds(row);
    return first;
  }

  addHeader(name = "", value = "") {
    return this.addRow(headerRow(name, value), this.part("headers"), "this header", this.part("add-header"));
  }

  addRule(type = "", rule = "notify") {
    return this.addRow(ruleRow(type, rule), this.part("rules"), "this rule", this.part("add-rule"));
  }

  headerRows() {
    return [...this.part("headers").querySelectorAll(".header-row")].map((row) => {
      const input = row.querySelector(".header-name");
      return { name: input.value, value: row.querySelector(".header-value").value, input };
    });
  }

  ruleRows() {
    return [...this.part("rules").querySelectorAll(".rule-row")].map((row) => {
      const input = row.querySelector(".rule-type");
      return { type: input.value, action: row.querySelector(".rule-action").value, input };
    });
  }

  // ---- name from the URL -----------------------------------------------------------

  /** The URL or the channel was left: an empty (or made-up) name is made from them. */
  fillName() {
    if (this.fields.name.value.trim() !== "" && !this.autoName) {
      return;
    }
    const name = this.hooks.nameFor(this);
    if (name !== "" && this.fields.name.value !== name) {
      this.fields.name.value = name;
      this.autoName = true;
      this.refreshHead();
      this.hooks.changed();
    }
  }

  // ---- wiring ----------------------------------------------------------------------

  wire() {
    const on = (part, type, handler) => this.part(part).addEventListener(type, handler);
    on("toggle", "click", () => this.setExpanded(!this.expanded));
    on("move-up", "click", () => this.hooks.move(this, -1, this.part("move-up")));
    on("move-down", "click", () => this.hooks.move(this, 1, this.part("move-down")));
    on("remove", "click", () => {
      if (!this.closeQuestion(true)) {
        this.hooks.remove(this);
      }
    });
    on("keep", "click", () => this.hooks.unsubscribe(this, false));
    on("delete", "click", () => this.hooks.unsubscribe(this, true));
    on("cancel", "click", () => this.closeQuestion(true));
    on("test", "click", () => this.hooks.test(this));
    on("trust", "click", () => this.hooks.trust(this));
    on("add-header", "click", () => {
      this.addHeader().focus();
      this.hooks.changed();
    });
    on("add-rule", "click", () => {
      this.addRule().focus();
      this.hooks.changed();
    });
    this.wireFields();
  }

  wireFields() {
    this.fields.name.addEventListener("input", () => {
      this.autoName = false;
      this.refreshHead();
    });
    for (const input of [this.fields.server_url, this.fields.channel]) {
      input.addEventListener("input", () => this.refreshHead());
      input.addEventListener("blur", () => this.fillName());
    }
    this.fields.server_url.addEventListener("input", () => this.showTestResult("", null));
    this.notifications.addEventListener("change", () => this.refreshHead());
  }

  // ---- what the form asks of a card ------------------------------------------------

  /** The card's place: its ids, and which moves it offers. */
  setPosition(index, total) {
    this.suffix = idSuffix(index);
    this.applyIds(this.root);
    const up = this.part("move-up");
    const down = this.part("move-down");
    up.hidden = total < 2;
    down.hidden = total < 2;
    up.disabled = index === 0;
    down.disabled = index === total - 1;
  }

  /** Puts a subscription (as get_settings gives it) in the card. */
  fill(subscription) {
    const values = cardValues(subscription);
    this.base = copyOf(subscription && typeof subscription === "object" ? subscription : {});
    this.savedName = values.savedName;
    this.autoName = false;
    for (const key of TEXT_FIELDS) {
      this.fields[key].value = values.fields[key];
    }
    this.notifications.checked = values.notifications;
    this.part("headers").replaceChildren();
    for (const [name, value] of values.headers) {
      this.addHeader(name, value);
    }
    this.part("rules").replaceChildren();
    for (const [type, rule] of values.rules) {
      this.addRule(type, rule);
    }
    this.refreshHead();
  }

  /** Saved as `subscription`: it is now what the tray process has. */
  markSaved(subscription) {
    this.base = copyOf(subscription);
    this.savedName = subscription.name;
    this.autoName = false;
  }

  /** A card added here and left empty: saving leaves it out. */
  isBlank() {
    const rowTexts = [...this.root.querySelectorAll(".header-row input, .rule-row .rule-type")].map((input) => input.value);
    return isBlank(this.savedName, this.fieldValues(), rowTexts);
  }

  /** The subscription to send, or a Problem thrown for what the card can tell (see readSubscription). */
  read() {
    return readSubscription({
      base: this.base,
      fields: this.fieldValues(),
      notifications: this.notifications.checked,
      headers: this.headerRows(),
      rules: this.ruleRows(),
      card: this,
    });
  }

  /** The name the user typed (trimmed), or "". */
  get typedName() {
    return this.fields.name.value.trim();
  }

  get url() {
    return this.fields.server_url.value.trim();
  }

  get channel() {
    return this.fields.channel.value.trim();
  }

  /** What the card is called in its head and its buttons' names. */
  get title() {
    return cardTitle(this.fieldValues());
  }

  /** Writes a name made for the card (shown before it is saved). */
  setMadeName(name) {
    this.fields.name.value = name;
    this.autoName = true;
    this.refreshHead();
  }

  focusUrl() {
    this.setExpanded(true);
    this.fields.server_url.focus();
  }

  focusHead() {
    this.part("toggle").focus();
  }

  /** The element where an error about `key` goes, or null. */
  errorElement(key) {
    return [...this.root.querySelectorAll("[data-error]")].find((node) => node.dataset.error === key) ?? null;
  }

  /** The inputs to flag for an error about `key`; for headers and rules, the row `rest` names. */
  inputsFor(key, rest, hint) {
    if (hint instanceof HTMLElement) {
      return [hint];
    }
    if (key === "headers") {
      return rowInputsNamed(this.headerRows().map(({ name, input }) => ({ value: name, input })), rest);
    }
    if (key === "rules") {
      return rowInputsNamed(this.ruleRows().map(({ type, input }) => ({ value: type, input })), rest);
    }
    if (key === "notifications") {
      return [this.notifications];
    }
    return this.fields[key] ? [this.fields[key]] : [];
  }

  /** `ok`: true or false for a verdict, null for none. */
  showTestResult(words, ok) {
    const result = this.part("test-result");
    result.textContent = words;
    result.classList.toggle("ok", ok === true);
    result.classList.toggle("fail", ok === false);
  }

  setTesting(testing) {
    const button = this.part("test");
    button.disabled = testing;
    button.textContent = testing ? "Testing…" : "Test connection";
  }

  focusTest() {
    this.part("test").focus();
  }

  /** A refused certificate's fingerprint offered to trust, or null. */
  showOffer(fingerprint) {
    const offered = typeof fingerprint === "string" ? fingerprint : "";
    this.part("offer").hidden = offered === "";
    this.part("offer-chip").hidden = offered === "";
    const shown = this.part("offer-fingerprint");
    if (shown.textContent !== offered) {
      shown.textContent = offered;
    }
  }

  get offeredFingerprint() {
    return this.part("offer-fingerprint").textContent;
  }

  setTrusting(busy) {
    this.part("trust").disabled = busy;
  }

  /** The fingerprint just trusted, as the field that clears it. */
  setPin(fingerprint) {
    this.fields.certificate_pin.value = fingerprint;
  }

  /** Asks before removing the saved subscription; `unread`: its unread count when known. */
  askRemove(unread) {
    this.part("question-name").textContent = this.savedName ?? this.title;
    this.part("question-text").textContent = removeQuestionText(unread);
    this.part("question").hidden = false;
    this.part("remove").setAttribute("aria-expanded", "true");
    this.part("cancel").focus();
  }

  /** Shuts the question, the focus back on Remove when `focusBack`; false when it was not open. */
  closeQuestion(focusBack) {
    const question = this.part("question");
    if (question.hidden) {
      return false;
    }
    question.hidden = true;
    const remove = this.part("remove");
    remove.setAttribute("aria-expanded", "false");
    if (focusBack) {
      remove.focus();
    }
    return true;
  }

  get questionOpen() {
    return !this.part("question").hidden;
  }

  setQuestionBusy(busy) {
    this.part("keep").disabled = busy;
    this.part("delete").disabled = busy;
  }
}

/** A card for the Settings form; see SubscriptionCard's constructor for the hooks. */
export function createCard(template, hooks) {
  return new SubscriptionCard(template, hooks);
}

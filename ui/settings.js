// The Settings view: the subscriptions (a card each, see
// subscription-card.js) and the global settings, bound to get_settings /
// save_settings; plus what acts at once and is not part of the saved form:
// the pause, removing a saved subscription (unsubscribe), trusting a
// certificate.

import { invoke, errorDetail, errorText } from "./api.js";
import { byId, el } from "./dom.js";
import { pauseLine, pauseText } from "./format.js";
import { TRY_AGAIN } from "./messages.js";
import { createCard, Problem } from "./subscription-card.js";
import {
  certificateOffers,
  defaultName,
  isolate,
  moveItem,
  parseField,
  positionText,
  subscriptionCounts,
  uniqueName,
} from "./subscriptions.js";

/** Global fields whose error element is #error-<key>, and the inputs to flag. */
const GLOBAL_FIELDS = new Map([
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
function timeValue(text) {
  if (typeof text !== "string") {
    return "";
  }
  const match = /^\s*(\d{1,2}):(\d{2})/.exec(text);
  if (!match) {
    return "";
  }
  return `${match[1].padStart(2, "0")}:${match[2]}`;
}

/**
 * @param {object} hooks
 * @param {ReturnType<import("./messages.js").createMessages>} hooks.messages
 * @param {(settings: object) => void} [hooks.onSaved]
 * @param {(name: string, deleted: boolean) => void} [hooks.onUnsubscribed]  a saved subscription was removed
 * @param {() => void} [hooks.refreshStatus]
 */
export function createSettings({ messages, onSaved, onUnsubscribed, refreshStatus }) {
  const form = byId("settings-form");
  const general = byId("settings-error");
  const saved = byId("settings-saved");
  const saveButton = byId("save-settings");
  const revertButton = byId("revert-settings");
  const list = byId("subscriptions-list");
  const emptyNote = byId("subscriptions-empty");
  const addButton = byId("add-subscription");
  const template = byId("subscription-template");
  const knownTypes = byId("known-types");
  const pauseState = byId("pause-state");
  const inputs = {
    notifications: byId("notifications"),
    quiet_from: byId("quiet_from"),
    quiet_to: byId("quiet_to"),
    autostart: byId("autostart"),
    start_hidden: byId("start_hidden"),
    keep_count: byId("keep_count"),
    keep_days: byId("keep_days"),
  };

  /** The cards, in the order shown (the order saved). */
  let cards = [];
  /** The settings as loaded or last saved; the base of what is sent. */
  let loaded = null;
  let dirty = false;
  /** What the user changed since the last load or save: ids of global inputs, or "subscriptions". */
  const edited = new Set();
  let saving = false;
  let loading = null;
  /** Bumped by every save: a load that began before it must not undo what it showed. */
  let saves = 0;
  /** Elements flagged aria-invalid by the last error. */
  let flagged = [];
  /** The history's unread count per subscription name, for the question before removing one. */
  let unreadByName = new Map();
  /** The certificates offered by the newest status. */
  let offers = [];

  // ---- cards -------------------------------------------------------------------

  const hooks = {
    changed: () => changed("subscriptions"),
    move: moveCard,
    remove: removeCard,
    unsubscribe,
    test: testConnection,
    trust,
    nameFor(card) {
      return uniqueName(defaultName(card.url, card.channel), namesBesides(card));
    },
  };

  /** The names the other cards have (typed or made). */
  function namesBesides(card) {
    return cards.filter((other) => other !== card).map((other) => other.typedName).filter((name) => name !== "");
  }

  /** Ids and moves follow the cards' order; the demo note shows without any. */
  function renumber() {
    cards.forEach((card, index) => card.setPosition(index, cards.length));
    emptyNote.hidden = cards.length > 0;
  }

  function fillCards(subscriptions) {
    const wasOpen = new Map(cards.filter((card) => card.savedName !== null).map((card) => [card.savedName, card.expanded]));
    const valid = Array.isArray(subscriptions) ? subscriptions.filter((sub) => sub && typeof sub === "object") : [];
    cards = valid.map((sub) => {
      const card = createCard(template, hooks);
      card.fill(sub);
      // One subscription shows open; of several, only those open before.
      card.setExpanded(wasOpen.get(card.savedName) ?? valid.length === 1);
      return card;
    });
    list.replaceChildren(...cards.map((card) => card.root));
    renumber();
    applyOffers();
  }

  function addCard() {
    const card = createCard(template, hooks);
    cards.push(card);
    list.append(card.root);
    renumber();
    card.setExpanded(true);
    return card;
  }

  /** Takes a card out of the form; the focus goes to the card that takes its place, else "Add subscription". */
  function dropCard(card) {
    const index = cards.indexOf(card);
    if (index < 0) {
      return;
    }
    const hadFocus = card.root.contains(document.activeElement);
    card.root.remove();
    cards.splice(index, 1);
    renumber();
    if (hadFocus) {
      const next = cards[index] ?? cards[index - 1];
      if (next) {
        next.focusHead();
      } else {
        addButton.focus();
      }
    }
  }

  function moveCard(card, delta, button) {
    const index = cards.indexOf(card);
    const next = moveItem(cards, index, delta);
    if (next[index] === card) {
      return;
    }
    // The neighbour moves in the page, not this card: the pressed button
    // keeps the focus (an element taken out of the page loses it).
    const neighbour = cards[index + delta];
    list.insertBefore(neighbour.root, delta < 0 ? card.root.nextElementSibling : card.root);
    cards = next;
    renumber();
    changed("subscriptions");
    const at = cards.indexOf(card);
    if (button.disabled || button.hidden) {
      // At the top or the bottom now: the other way is the one left.
      (delta < 0 ? card.root.querySelector('[data-part="move-down"]') : card.root.querySelector('[data-part="move-up"]'))?.focus();
    } else if (document.activeElement !== button) {
      button.focus();
    }
    messages.say(positionText(card.title, at, cards.length));
  }

  function removeCard(card) {
    if (card.savedName === null) {
      // Never saved: nothing to ask, it simply leaves the form.
      dropCard(card);
      changed("subscriptions");
      messages.say("The new subscription was taken out of the form.");
      return;
    }
    for (const other of cards) {
      if (other !== card) {
        other.closeQuestion(false);
      }
    }
    card.askRemove(unreadByName.get(card.savedName));
  }

  /** Removes a saved subscription at once, through the tray process. */
  async function unsubscribe(card, deleteHistory) {
    const name = card.savedName;
    if (name === null) {
      dropCard(card);
      return;
    }
    card.setQuestionBusy(true);
    try {
      await invoke("unsubscribe", { name, delete_history: deleteHistory });
      card.closeQuestion(false);
      dropCard(card);
      if (loaded && Array.isArray(loaded.subscriptions)) {
        loaded.subscriptions = loaded.subscriptions.filter((sub) => sub?.name !== name);
      }
      unreadByName.delete(name);
      messages.clearError("unsubscribe");
      messages.say(
        deleteHistory ? `${isolate(name)} removed, and its events deleted.` : `${isolate(name)} removed; its events stay in the history.`,
      );
      onUnsubscribed?.(name, deleteHistory);
    } catch (error) {
      messages.error(`Could not remove ${isolate(name)}: ${errorText(error)}`, TRY_AGAIN, { key: "unsubscribe" });
    } finally {
      card.setQuestionBusy(false);
    }
  }

  // ---- certificates ------------------------------------------------------------

  /** The offer for a card: its subscription's, or for a status without names, the first card's. */
  function offerFor(card) {
    const named = offers.find((offer) => offer.subscription !== null && offer.subscription === card.savedName);
    if (named) {
      return named;
    }
    const unnamed = offers.find((offer) => offer.subscription === null);
    return unnamed && card === cards[0] ? unnamed : null;
  }

  function applyOffers() {
    for (const card of cards) {
      card.showOffer(offerFor(card)?.fingerprint ?? null);
    }
  }

  async function trust(card) {
    const fingerprint = card.offeredFingerprint;
    if (fingerprint === "") {
      return;
    }
    const subscription = offerFor(card)?.subscription ?? card.savedName;
    card.setTrusting(true);
    try {
      await invoke("trust_certificate", { fingerprint, subscription });
      card.setPin(fingerprint);
      messages.say("Certificate trusted for this server: connecting…");
    } catch (error) {
      messages.error(`Could not trust the certificate: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      card.setTrusting(false);
    }
  }

  // ---- form <-> object ---------------------------------------------------------

  /** Put the settings in the form, leaving alone what the user is editing. */
  function fill(settings) {
    const set = (input, value) => {
      if (!edited.has(input.id)) {
        input.value = value;
      }
    };
    const check = (input, value) => {
      if (!edited.has(input.id)) {
        input.checked = value;
      }
    };
    check(inputs.notifications, settings.notifications !== false);
    check(inputs.autostart, settings.autostart === true);
    check(inputs.start_hidden, settings.start_hidden === true);
    const quiet = settings.quiet_hours && typeof settings.quiet_hours === "object" ? settings.quiet_hours : null;
    set(inputs.quiet_from, timeValue(quiet?.from));
    set(inputs.quiet_to, timeValue(quiet?.to));
    const history = settings.history && typeof settings.history === "object" ? settings.history : {};
    set(inputs.keep_count, typeof history.keep_count === "number" ? String(history.keep_count) : "");
    set(inputs.keep_days, typeof history.keep_days === "number" ? String(history.keep_days) : "");
    if (!edited.has("subscriptions")) {
      fillCards(settings.subscriptions);
    }
  }

  function wholeNumber(input, field, label) {
    const value = input.value.trim();
    const number = Number(value);
    if (value === "" || !Number.isSafeInteger(number) || number < 1) {
      throw new Problem(field, `${label} must be a whole number of at least 1.`);
    }
    return number;
  }

  /**
   * The subscription a card sends: its name, when none was typed, made
   * from its URL (and shown in the card), unique among the cards.
   */
  function subscriptionOf(card) {
    const sub = card.read();
    if (sub.name === "") {
      const made = uniqueName(defaultName(sub.server_url ?? "", sub.channel), namesBesides(card));
      if (made === "") {
        throw new Problem("server_url", "Enter the event stream’s address (the name is made from it), or remove this subscription.", null, card);
      }
      card.setMadeName(made);
      sub.name = made;
    }
    return sub;
  }

  /**
   * The settings object to send, and the card behind each subscription in
   * it (errors name them by that index); a Problem thrown for what the form
   * can tell, in the page's order.
   */
  function collect() {
    const settings = JSON.parse(JSON.stringify(loaded ?? {}));
    for (const field of FORMER_FIELDS) {
      delete settings[field];
    }

    const subscriptions = [];
    const sentFrom = [];
    const names = new Set();
    for (const card of cards) {
      if (card.isBlank()) {
        continue;
      }
      const sub = subscriptionOf(card);
      if (names.has(sub.name)) {
        throw new Problem("name", `Two subscriptions are called ${isolate(sub.name)}: give each its own name.`, null, card);
      }
      names.add(sub.name);
      subscriptions.push(sub);
      sentFrom.push(card);
    }
    settings.subscriptions = subscriptions;

    settings.notifications = inputs.notifications.checked;
    settings.autostart = inputs.autostart.checked;
    settings.start_hidden = inputs.start_hidden.checked;
    const from = inputs.quiet_from.value.trim();
    const to = inputs.quiet_to.value.trim();
    if ((from === "") !== (to === "")) {
      throw new Problem("quiet_hours", "Give both times for quiet hours, or leave both empty to turn them off.");
    }
    settings.quiet_hours = from === "" ? null : { from: timeValue(from) || from, to: timeValue(to) || to };

    const history = settings.history && typeof settings.history === "object" ? settings.history : {};
    history.keep_count = wholeNumber(inputs.keep_count, "history.keep_count", "Entries to keep");
    history.keep_days = wholeNumber(inputs.keep_days, "history.keep_days", "Days to keep");
    settings.history = history;
    return { settings, sentFrom };
  }

  // ---- errors ------------------------------------------------------------------

  function clearErrors() {
    for (const node of flagged) {
      node.removeAttribute("aria-invalid");
    }
    flagged = [];
    for (const node of form.querySelectorAll(".field-error")) {
      node.textContent = "";
    }
    general.textContent = "";
  }

  /**
   * Where an error goes: {card, key, rest} for a subscription's field (the
   * card's own error line when the key is not one of its fields), {card:
   * null, key} for a global one; null when it names no field of the form.
   * `cardOf(index)`: the card an index names; `tested`: the card a test
   * was of (any subscription field is then about it).
   */
  function placeOf(field, cardOf, tested = null) {
    const parsed = parseField(field);
    if (parsed.scope === "none") {
      return null;
    }
    if (tested !== null && (parsed.scope === "subscription" || tested.errorElement(parsed.key) !== null)) {
      return { card: tested, key: parsed.key ?? "card", rest: parsed.rest };
    }
    if (parsed.scope === "subscription") {
      const card = cardOf(parsed.index ?? 0);
      return card ? { card, key: parsed.key ?? "card", rest: parsed.rest } : null;
    }
    return GLOBAL_FIELDS.has(parsed.key) ? { card: null, key: parsed.key, rest: parsed.rest } : null;
  }

  /** Shows a message beside its field (flagged and focused); false when there is no such field. */
  function flag(place, message, hint = null) {
    if (place === null) {
      return false;
    }
    let target;
    if (place.card !== null) {
      target = place.card.errorElement(place.key) ?? place.card.errorElement("card");
      place.card.setExpanded(true);
      flagged = place.card.inputsFor(place.key, place.rest, hint);
    } else {
      target = document.getElementById(`error-${place.key}`);
      flagged = hint instanceof HTMLElement ? [hint] : (GLOBAL_FIELDS.get(place.key) ?? []).map((id) => byId(id));
    }
    if (!target) {
      flagged = [];
      return false;
    }
    target.textContent = message;
    for (const input of flagged) {
      input.setAttribute("aria-invalid", "true");
    }
    const first = flagged[0];
    if (first) {
      first.focus();
      first.scrollIntoView?.({ block: "center" });
    } else {
      target.scrollIntoView?.({ block: "center" });
    }
    return true;
  }

  /** Where a Problem found here goes. */
  function problemPlace(problem) {
    if (problem.card) {
      return { card: problem.card, key: problem.field, rest: null };
    }
    return placeOf(problem.field, () => null);
  }

  function showSaveError(message, beside) {
    if (!beside) {
      general.textContent = message;
    }
    messages.error(
      `Settings not saved: ${message}`,
      beside ? "Fix the field that now has the focus, then save again." : "Check the settings, then save again.",
      { key: "settings" },
    );
  }

  // ---- load / save -------------------------------------------------------------

  /** The user changed something: a global input (by id) or "subscriptions". */
  function changed(what) {
    dirty = true;
    saved.textContent = "";
    if (typeof what === "string") {
      edited.add(what);
    } else if (what && what.target instanceof HTMLElement) {
      const target = what.target;
      if (list.contains(target)) {
        edited.add("subscriptions");
      } else if (target.id) {
        edited.add(target.id);
      }
    }
  }

  function setReady() {
    saveButton.disabled = loaded === null || saving;
    revertButton.disabled = loaded === null || saving;
    addButton.disabled = loaded === null;
  }

  /** Read the settings into the form, unless the user has unsaved edits (or `force`). */
  function load(force = false) {
    if (force) {
      edited.clear();
    }
    if (loading) {
      return loading;
    }
    if (dirty && !force) {
      return Promise.resolve();
    }
    const savesBefore = saves;
    loading = (async () => {
      form.setAttribute("aria-busy", "true");
      try {
        const settings = await invoke("get_settings");
        if (savesBefore !== saves) {
          // A save went out meanwhile: its answer (saved, or an error next
          // to a field) is newer than this read.
          return;
        }
        if (!settings || typeof settings !== "object") {
          throw new Error("the settings came back empty");
        }
        loaded = settings;
        clearErrors();
        // Edits made while this was on its way stay (and keep the form dirty).
        fill(settings);
        dirty = edited.size > 0;
      } catch (error) {
        general.textContent = `Could not read the settings: ${errorText(error)}`;
      } finally {
        form.setAttribute("aria-busy", saving ? "true" : "false");
        loading = null;
        setReady();
      }
    })();
    return loading;
  }

  async function save(event) {
    event.preventDefault();
    if (saving || loaded === null) {
      return;
    }
    saves++;
    clearErrors();
    saved.textContent = "";
    let collected;
    try {
      collected = collect();
    } catch (problem) {
      if (problem instanceof Problem) {
        showSaveError(problem.message, flag(problemPlace(problem), problem.message, problem.hint));
        return;
      }
      throw problem;
    }
    const { settings, sentFrom } = collected;
    saving = true;
    setReady();
    form.setAttribute("aria-busy", "true");
    try {
      await invoke("save_settings", { settings });
      loaded = settings;
      sentFrom.forEach((card, index) => card.markSaved(settings.subscriptions[index]));
      // Cards left empty were not sent: they go.
      for (const card of cards.filter((card) => !sentFrom.includes(card))) {
        dropCard(card);
      }
      dirty = false;
      edited.clear();
      saved.textContent = "Saved";
      messages.clearError("settings");
      onSaved?.(settings);
    } catch (error) {
      const { field, message } = errorDetail(error);
      const place = placeOf(field, (index) => sentFrom[index] ?? null);
      showSaveError(message, flag(place, message));
    } finally {
      saving = false;
      form.setAttribute("aria-busy", "false");
      setReady();
    }
  }

  /** Tests what a card holds, the subscription a save would send; the Rust side's words are shown as they are. */
  async function testConnection(card) {
    clearErrors();
    card.showTestResult("", null);
    if (card.url === "") {
      card.showTestResult("Enter a server URL first.", false);
      card.focusUrl();
      return;
    }
    let subscription;
    try {
      subscription = card.read();
      if (subscription.name === "") {
        subscription.name = uniqueName(defaultName(subscription.server_url ?? "", subscription.channel), namesBesides(card));
      }
    } catch (problem) {
      if (problem instanceof Problem) {
        flag(problemPlace(problem), problem.message, problem.hint);
        card.showTestResult(`Not tested: ${problem.message}`, false);
        return;
      }
      throw problem;
    }
    card.setTesting(true);
    try {
      const result = await invoke("test_connection", { subscription });
      const ok = result?.ok === true;
      card.showTestResult(typeof result?.message === "string" ? result.message : ok ? "Connected." : "The test failed.", ok);
    } catch (error) {
      const { field, message } = errorDetail(error);
      flag(placeOf(field, () => card, card), message);
      card.showTestResult(`Not tested: ${message}`, false);
    } finally {
      card.setTesting(false);
    }
  }

  async function pause(args, done) {
    try {
      await invoke(args === null ? "resume" : "pause", args ?? {});
      messages.say(done);
    } catch (error) {
      messages.error(`Could not change the pause: ${errorText(error)}`, TRY_AGAIN);
    }
    // The tray process sends no status for a pause: ask.
    refreshStatus?.();
  }

  // ---- wiring ------------------------------------------------------------------

  form.addEventListener("submit", save);
  form.addEventListener("input", (event) => {
    changed(event);
    const target = event.target;
    if (target instanceof HTMLElement && target.getAttribute("aria-invalid") === "true") {
      // The user is fixing it: take the flag off this one.
      target.removeAttribute("aria-invalid");
    }
  });
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLElement && event.target.closest(".field")) {
      changed(event);
    }
  });
  revertButton.addEventListener("click", () => {
    saved.textContent = "";
    load(true);
  });
  addButton.addEventListener("click", () => {
    addCard().focusUrl();
    changed("subscriptions");
  });

  byId("pause-1h").addEventListener("click", () => pause({ minutes: 60 }, "Notifications paused for an hour."));
  byId("pause-forever").addEventListener("click", () => pause({ minutes: null }, "Notifications paused until you resume them."));
  byId("resume").addEventListener("click", () => pause(null, "Notifications resumed."));
  renumber();
  setReady();

  return {
    load,
    /** "Set my server": the first subscription's URL, in a new card when there is none. */
    async focusServerUrl() {
      await load();
      if (cards.length === 0) {
        addCard();
        changed("subscriptions");
      }
      cards[0].focusUrl();
    },
    /** The event types the history knows, offered in the rules. */
    setKnownTypes(types) {
      knownTypes.replaceChildren(...types.map((type) => el("option", { attrs: { value: type } })));
    },
    /** The history's per-subscription unread counts ([{name, unread}]). */
    setStoredCounts(counts) {
      unreadByName = new Map(subscriptionCounts(counts).map(({ name, unread }) => [name, unread]));
    },
    /** Refused certificates' fingerprints from a status, offered to trust beside their subscription. */
    showCertificateOffer(status) {
      offers = certificateOffers(status);
      applyOffers();
    },
    /** The pause as of now, from a status (null: not known). */
    showPause(status) {
      const now = Date.now();
      const line = pauseLine(status, now);
      if (pauseState.textContent !== line) {
        pauseState.textContent = line;
      }
      pauseState.classList.toggle("paused", pauseText(status?.paused_until_ms, now) !== null);
    },
    /** Whether the form holds changes not saved: closing the window would lose them. */
    hasUnsavedChanges() {
      return dirty;
    },
    /** Whether a question (Remove a subscription) is open. */
    get questionOpen() {
      return cards.some((card) => card.questionOpen);
    },
    /** Closes the open question, giving the focus back to its Remove button. */
    closeQuestion() {
      for (const card of cards) {
        card.closeQuestion(true);
      }
    },
  };
}

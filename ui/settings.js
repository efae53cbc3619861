// The Settings view: the subscriptions (a card each, see
// subscription-card.js) and the global settings, bound to get_settings /
// save_settings; plus what acts at once and is not part of the saved form:
// the pause, removing a saved subscription (unsubscribe), trusting a
// certificate. What the form decides is settings-model.js's and
// card-model.js's (tested under node); this is its page.

import { invoke, errorDetail, errorText } from "./api.js";
import { Problem } from "./card-model.js";
import { byId, el } from "./dom.js";
import { pauseLine, pauseWords } from "./format.js";
import { TRY_AGAIN } from "./messages.js";
import {
  FormEdits,
  GLOBAL_FIELDS,
  checkNames,
  globalValues,
  offerFor,
  placeOf,
  problemPlace,
  settingsToSend,
} from "./settings-model.js";
import { createCard } from "./subscription-card.js";
import { certificateOffers, defaultName, isolate, moveItem, positionText, subscriptionCounts, uniqueName } from "./subscriptions.js";

/** The global inputs, by id: the checkboxes and the text fields. */
const CHECKBOXES = ["notifications", "autostart", "start_hidden"];
const TEXT_INPUTS = ["quiet_from", "quiet_to", "keep_count", "keep_days"];

class SettingsView {
  /**
   * @param {object} hooks
   * @param {ReturnType<import("./messages.js").createMessages>} hooks.messages
   * @param {(settings: object) => void} [hooks.onSaved]
   * @param {(name: string, deleted: boolean) => void} [hooks.onUnsubscribed]  a saved subscription was removed
   * @param {() => void} [hooks.refreshStatus]
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.messages = hooks.messages;
    this.form = byId("settings-form");
    this.list = byId("subscriptions-list");
    this.addButton = byId("add-subscription");
    /** The cards, in the order shown (the order saved). */
    this.cards = [];
    /** The settings as loaded or last saved; the base of what is sent. */
    this.loaded = null;
    this.edits = new FormEdits();
    this.saving = false;
    /** The load in flight, or null. */
    this.loading = null;
    /** Elements flagged aria-invalid by the last error. */
    this.flagged = [];
    /** The history's unread count per subscription name, for the question before removing one. */
    this.unreadByName = new Map();
    /** The certificates offered by the newest status. */
    this.offers = [];
    this.cardHooks = {
      changed: () => this.changed("subscriptions"),
      move: (card, delta, button) => this.moveCard(card, delta, button),
      remove: (card) => this.removeCard(card),
      unsubscribe: (card, deleteHistory) => this.unsubscribe(card, deleteHistory),
      test: (card) => this.testConnection(card),
      trust: (card) => this.trust(card),
      nameFor: (card) => this.madeName(card, card.url, card.channel),
    };
    this.wire();
    this.renumber();
    this.setReady();
  }

  // ---- cards ---------------------------------------------------------------------

  /** The names the other cards have (typed or made). */
  namesBesides(card) {
    return this.cards
      .filter((other) => other !== card)
      .map((other) => other.typedName)
      .filter((name) => name !== "");
  }

  /** The name a card without one gets: made from `url` and `channel`, unique among the cards. */
  madeName(card, url, channel) {
    return uniqueName(defaultName(url ?? "", channel), this.namesBesides(card));
  }

  /** Ids and moves follow the cards' order; the demo note shows without any. */
  renumber() {
    this.cards.forEach((card, index) => card.setPosition(index, this.cards.length));
    byId("subscriptions-empty").hidden = this.cards.length > 0;
  }

  fillCards(subscriptions) {
    const wasOpen = new Map(this.cards.filter((card) => card.savedName !== null).map((card) => [card.savedName, card.expanded]));
    const valid = Array.isArray(subscriptions) ? subscriptions.filter((sub) => sub && typeof sub === "object") : [];
    this.cards = valid.map((sub) => {
      const card = createCard(byId("subscription-template"), this.cardHooks);
      card.fill(sub);
      // One subscription shows open; of several, only those open before.
      card.setExpanded(wasOpen.get(card.savedName) ?? valid.length === 1);
      return card;
    });
    this.list.replaceChildren(...this.cards.map((card) => card.root));
    this.renumber();
    this.applyOffers();
  }

  addCard() {
    const card = createCard(byId("subscription-template"), this.cardHooks);
    this.cards.push(card);
    this.list.append(card.root);
    this.renumber();
    card.setExpanded(true);
    return card;
  }

  /** Takes a card out of the form; the focus goes to the card that takes its place, else "Add subscription". */
  dropCard(card) {
    const index = this.cards.indexOf(card);
    if (index < 0) {
      return;
    }
    const hadFocus = card.root.contains(document.activeElement);
    card.root.remove();
    this.cards.splice(index, 1);
    this.renumber();
    if (hadFocus) {
      const next = this.cards[index] ?? this.cards[index - 1];
      if (next) {
        next.focusHead();
      } else {
        this.addButton.focus();
      }
    }
  }

  moveCard(card, delta, button) {
    const index = this.cards.indexOf(card);
    const next = moveItem(this.cards, index, delta);
    if (next[index] === card) {
      return;
    }
    // The neighbour moves in the page, not this card: the pressed button
    // keeps the focus (an element taken out of the page loses it).
    const neighbour = this.cards[index + delta];
    this.list.insertBefore(neighbour.root, delta < 0 ? card.root.nextElementSibling : card.root);
    this.cards = next;
    this.renumber();
    this.changed("subscriptions");
    if (button.disabled || button.hidden) {
      // At the top or the bottom now: the other way is the one left.
      card.root.querySelector(delta < 0 ? '[data-part="move-down"]' : '[data-part="move-up"]')?.focus();
    } else if (document.activeElement !== button) {
      button.focus();
    }
    this.messages.say(positionText(card.title, this.cards.indexOf(card), this.cards.length));
  }

  removeCard(card) {
    if (card.savedName === null) {
      // Never saved: nothing to ask, it simply leaves the form.
      this.dropCard(card);
      this.changed("subscriptions");
      this.messages.say("The new subscription was taken out of the form.");
      return;
    }
    for (const other of this.cards) {
      if (other !== card) {
        other.closeQuestion(false);
      }
    }
    card.askRemove(this.unreadByName.get(card.savedName));
  }

  /** Removes a saved subscription at once, through the tray process. */
  async unsubscribe(card, deleteHistory) {
    const name = card.savedName;
    if (name === null) {
      this.dropCard(card);
      return;
    }
    card.setQuestionBusy(true);
    try {
      await invoke("unsubscribe", { name, delete_history: deleteHistory });
      card.closeQuestion(false);
      this.dropCard(card);
      if (this.loaded && Array.isArray(this.loaded.subscriptions)) {
        this.loaded.subscriptions = this.loaded.subscriptions.filter((sub) => sub?.name !== name);
      }
      this.unreadByName.delete(name);
      this.messages.clearError("unsubscribe");
      this.messages.say(
        deleteHistory ? `${isolate(name)} removed, and its events deleted.` : `${isolate(name)} removed; its events stay in the history.`,
      );
      this.hooks.onUnsubscribed?.(name, deleteHistory);
    } catch (error) {
      this.messages.error(`Could not remove ${isolate(name)}: ${errorText(error)}`, TRY_AGAIN, { key: "unsubscribe" });
    } finally {
      card.setQuestionBusy(false);
    }
  }

  // ---- certificates ----------------------------------------------------------------

  offerOf(card) {
    return offerFor(this.offers, card.savedName, card === this.cards[0]);
  }

  applyOffers() {
    for (const card of this.cards) {
      card.showOffer(this.offerOf(card)?.fingerprint ?? null);
    }
  }

  async trust(card) {
    const fingerprint = card.offeredFingerprint;
    if (fingerprint === "") {
      return;
    }
    const subscription = this.offerOf(card)?.subscription ?? card.savedName;
    card.setTrusting(true);
    try {
      await invoke("trust_certificate", { fingerprint, subscription });
      card.setPin(fingerprint);
      this.messages.say("Certificate trusted for this server: connecting…");
    } catch (error) {
      this.messages.error(`Could not trust the certificate: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      card.setTrusting(false);
    }
  }

  // ---- form <-> object -------------------------------------------------------------

  /** Put the settings in the form, leaving alone what the user is editing. */
  fill(settings) {
    const values = globalValues(settings);
    for (const id of [...CHECKBOXES, ...TEXT_INPUTS]) {
      if (!this.edits.has(id)) {
        byId(id)[CHECKBOXES.includes(id) ? "checked" : "value"] = values[id];
      }
    }
    if (!this.edits.has("subscriptions")) {
      this.fillCards(settings.subscriptions);
    }
  }

  /** The global inputs' values now, by id. */
  inputValues() {
    return Object.fromEntries([...CHECKBOXES.map((id) => [id, byId(id).checked]), ...TEXT_INPUTS.map((id) => [id, byId(id).value])]);
  }

  /**
   * The subscription a card sends: its name, when none was typed, made
   * from its URL (and shown in the card), unique among the cards.
   */
  subscriptionOf(card) {
    const sub = card.read();
    if (sub.name === "") {
      const made = this.madeName(card, sub.server_url, sub.channel);
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
  collect() {
    const sent = [];
    for (const card of this.cards) {
      if (!card.isBlank()) {
        sent.push({ sub: this.subscriptionOf(card), card });
        checkNames(sent);
      }
    }
    const settings = settingsToSend(
      this.loaded,
      sent.map(({ sub }) => sub),
      this.inputValues(),
    );
    return { settings, sentFrom: sent.map(({ card }) => card) };
  }

  // ---- errors --------------------------------------------------------------------

  clearErrors() {
    for (const node of this.flagged) {
      node.removeAttribute("aria-invalid");
    }
    this.flagged = [];
    for (const node of this.form.querySelectorAll(".field-error")) {
      node.textContent = "";
    }
    byId("settings-error").textContent = "";
  }

  /** Where an error about `field` goes (see placeOf). */
  placeOf(field, cardOf, tested = null) {
    return placeOf(field, { cardOf, tested, hasField: (card, key) => card.errorElement(key) !== null });
  }

  /** Shows a message beside its field (flagged and focused); false when there is no such field. */
  flag(place, message, hint = null) {
    if (place === null) {
      return false;
    }
    let target;
    if (place.card !== null) {
      target = place.card.errorElement(place.key) ?? place.card.errorElement("card");
      place.card.setExpanded(true);
      this.flagged = place.card.inputsFor(place.key, place.rest, hint);
    } else {
      target = document.getElementById(`error-${place.key}`);
      this.flagged = hint instanceof HTMLElement ? [hint] : (GLOBAL_FIELDS.get(place.key) ?? []).map((id) => byId(id));
    }
    if (!target) {
      this.flagged = [];
      return false;
    }
    target.textContent = message;
    for (const input of this.flagged) {
      input.setAttribute("aria-invalid", "true");
    }
    const first = this.flagged[0];
    first?.focus();
    (first ?? target).scrollIntoView?.({ block: "center" });
    return true;
  }

  showSaveError(message, beside) {
    if (!beside) {
      byId("settings-error").textContent = message;
    }
    this.messages.error(
      `Settings not saved: ${message}`,
      beside ? "Fix the field that now has the focus, then save again." : "Check the settings, then save again.",
      { key: "settings" },
    );
  }

  // ---- load / save -----------------------------------------------------------------

  /** The user changed something: a global input (by id) or "subscriptions". */
  changed(what) {
    this.edits.change(what);
    byId("settings-saved").textContent = "";
  }

  /** An input or change event in the form: what it changed. */
  changedBy(event) {
    const target = event.target;
    if (!(target instanceof HTMLElement)) {
      this.changed(null);
    } else if (this.list.contains(target)) {
      this.changed("subscriptions");
    } else {
      this.changed(target.id);
    }
  }

  setReady() {
    byId("save-settings").disabled = this.loaded === null || this.saving;
    byId("revert-settings").disabled = this.loaded === null || this.saving;
    this.addButton.disabled = this.loaded === null;
  }

  /** Read the settings into the form, unless the user has unsaved edits (or `force`). */
  load(force = false) {
    if (force) {
      this.edits.discard();
    }
    if (this.loading) {
      return this.loading;
    }
    if (this.edits.dirty && !force) {
      return Promise.resolve();
    }
    this.loading = this.readSettings().finally(() => {
      this.form.setAttribute("aria-busy", this.saving ? "true" : "false");
      this.loading = null;
      this.setReady();
    });
    return this.loading;
  }

  async readSettings() {
    const savesBefore = this.edits.saves;
    this.form.setAttribute("aria-busy", "true");
    try {
      const settings = await invoke("get_settings");
      if (savesBefore !== this.edits.saves) {
        // A save went out meanwhile: its answer (saved, or an error next
        // to a field) is newer than this read.
        return;
      }
      if (!settings || typeof settings !== "object") {
        throw new Error("the settings came back empty");
      }
      this.loaded = settings;
      this.clearErrors();
      // Edits made while this was on its way stay (and keep the form dirty).
      this.fill(settings);
      this.edits.loaded();
    } catch (error) {
      byId("settings-error").textContent = `Could not read the settings: ${errorText(error)}`;
    }
  }

  /** The form's settings, or null (the Problem said beside its field). */
  collectOrSay() {
    try {
      return this.collect();
    } catch (problem) {
      if (problem instanceof Problem) {
        this.showSaveError(problem.message, this.flag(problemPlace(problem), problem.message, problem.hint));
        return null;
      }
      throw problem;
    }
  }

  async save(event) {
    event.preventDefault();
    if (this.saving || this.loaded === null) {
      return;
    }
    this.edits.saves++;
    this.clearErrors();
    byId("settings-saved").textContent = "";
    const collected = this.collectOrSay();
    if (collected === null) {
      return;
    }
    this.saving = true;
    this.setReady();
    this.form.setAttribute("aria-busy", "true");
    try {
      await invoke("save_settings", { settings: collected.settings });
      this.saved(collected);
    } catch (error) {
      const { field, message } = errorDetail(error);
      const place = this.placeOf(field, (index) => collected.sentFrom[index] ?? null);
      this.showSaveError(message, this.flag(place, message));
    } finally {
      this.saving = false;
      this.form.setAttribute("aria-busy", "false");
      this.setReady();
    }
  }

  saved({ settings, sentFrom }) {
    this.loaded = settings;
    sentFrom.forEach((card, index) => card.markSaved(settings.subscriptions[index]));
    // Cards left empty were not sent: they go.
    for (const card of this.cards.filter((card) => !sentFrom.includes(card))) {
      this.dropCard(card);
    }
    this.edits.forget();
    byId("settings-saved").textContent = "Saved";
    this.messages.clearError("settings");
    this.hooks.onSaved?.(settings);
  }

  /** Tests what a card holds, the subscription a save would send; the Rust side's words are shown as they are. */
  async testConnection(card) {
    this.clearErrors();
    card.showTestResult("", null);
    if (card.url === "") {
      card.showTestResult("Enter a server URL first.", false);
      card.focusUrl();
      return;
    }
    let subscription;
    try {
      subscription = card.read();
    } catch (problem) {
      if (problem instanceof Problem) {
        this.flag(problemPlace(problem), problem.message, problem.hint);
        card.showTestResult(`Not tested: ${problem.message}`, false);
        return;
      }
      throw problem;
    }
    if (subscription.name === "") {
      subscription.name = this.madeName(card, subscription.server_url, subscription.channel);
    }
    await this.runTest(card, subscription);
  }

  async runTest(card, subscription) {
    card.setTesting(true);
    try {
      const result = await invoke("test_connection", { subscription });
      const ok = result?.ok === true;
      card.showTestResult(typeof result?.message === "string" ? result.message : ok ? "Connected." : "The test failed.", ok);
    } catch (error) {
      const { field, message } = errorDetail(error);
      this.flag(this.placeOf(field, () => card, card), message);
      card.showTestResult(`Not tested: ${message}`, false);
    } finally {
      card.setTesting(false);
    }
  }

  async pause(args, done) {
    try {
      await invoke(args === null ? "resume" : "pause", args ?? {});
      this.messages.say(done);
    } catch (error) {
      this.messages.error(`Could not change the pause: ${errorText(error)}`, TRY_AGAIN);
    }
    // The tray process sends no status for a pause: ask.
    this.hooks.refreshStatus?.();
  }

  // ---- wiring ----------------------------------------------------------------------

  wire() {
    this.form.addEventListener("submit", (event) => this.save(event));
    this.form.addEventListener("input", (event) => {
      this.changedBy(event);
      const target = event.target;
      if (target instanceof HTMLElement && target.getAttribute("aria-invalid") === "true") {
        // The user is fixing it: take the flag off this one.
        target.removeAttribute("aria-invalid");
      }
    });
    this.form.addEventListener("change", (event) => {
      if (event.target instanceof HTMLElement && event.target.closest(".field")) {
        this.changedBy(event);
      }
    });
    byId("revert-settings").addEventListener("click", () => {
      byId("settings-saved").textContent = "";
      this.load(true);
    });
    this.addButton.addEventListener("click", () => {
      this.addCard().focusUrl();
      this.changed("subscriptions");
    });
    byId("pause-1h").addEventListener("click", () => this.pause({ minutes: 60 }, "Notifications paused for an hour."));
    byId("pause-forever").addEventListener("click", () => this.pause({ minutes: null }, "Notifications paused until you resume them."));
    byId("resume").addEventListener("click", () => this.pause(null, "Notifications resumed."));
  }

  // ---- what the rest of the window asks ---------------------------------------------

  /** "Set my server": the first subscription's URL, in a new card when there is none. */
  async focusServerUrl() {
    await this.load();
    if (this.cards.length === 0) {
      this.addCard();
      this.changed("subscriptions");
    }
    this.cards[0].focusUrl();
  }

  /** The event types the history knows, offered in the rules. */
  setKnownTypes(types) {
    byId("known-types").replaceChildren(...types.map((type) => el("option", { attrs: { value: type } })));
  }

  /** The history's per-subscription unread counts ([{name, unread}]). */
  setStoredCounts(counts) {
    this.unreadByName = new Map(subscriptionCounts(counts).map(({ name, unread }) => [name, unread]));
  }

  /** Refused certificates' fingerprints from a status, offered to trust beside their subscription. */
  showCertificateOffer(status) {
    this.offers = certificateOffers(status);
    this.applyOffers();
  }

  /** The pause as of now, from a status (null: not known). */
  showPause(status) {
    const now = Date.now();
    const line = pauseLine(status, now);
    const shown = byId("pause-state");
    if (shown.textContent !== line) {
      shown.textContent = line;
    }
    shown.classList.toggle("paused", pauseWords(status, now) !== null);
  }

  /** Whether the form holds changes not saved: closing the window would lose them. */
  hasUnsavedChanges() {
    return this.edits.dirty;
  }

  /** Whether a question (Remove a subscription) is open. */
  get questionOpen() {
    return this.cards.some((card) => card.questionOpen);
  }

  /** Closes the open question, giving the focus back to its Remove button. */
  closeQuestion() {
    for (const card of this.cards) {
      card.closeQuestion(true);
    }
  }
}

/** The Settings view; see SettingsView's constructor for the hooks. */
export function createSettings(hooks) {
  return new SettingsView(hooks);
}

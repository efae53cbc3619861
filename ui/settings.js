// The Settings view: a form bound to get_settings / save_settings, plus the
// pause controls (which act at once and are not part of the saved file).

import { invoke, errorDetail, errorText } from "./api.js";
import { byId, el, icon } from "./dom.js";
import { pauseLine, pauseText } from "./format.js";
import { TRY_AGAIN } from "./messages.js";

const RULES = [
  ["notify", "Notify"],
  ["store_only", "Store only"],
  ["ignore", "Ignore"],
];

/** An eye: the header value toggle's icon. */
const EYE = ["M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z", "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z"];

/** Fields whose error element is #error-<key>, and the inputs to flag. */
const FIELD_INPUTS = new Map([
  ["server_url", ["server_url"]],
  ["channel", ["channel"]],
  ["web_app_url", ["web_app_url"]],
  ["extra_ca_file", ["extra_ca_file"]],
  ["certificate_pin", ["certificate_pin"]],
  ["notifications", ["notifications"]],
  ["quiet_hours", ["quiet_from", "quiet_to"]],
  ["autostart", ["autostart"]],
  ["start_hidden", ["start_hidden"]],
  ["keep_count", ["keep_count"]],
  ["keep_days", ["keep_days"]],
  ["headers", []],
  ["rules", []],
]);

/** The error element key for a field the Rust side names ("history.keep_days", "headers.X"). */
function errorKey(field) {
  if (typeof field !== "string") {
    return null;
  }
  const [head, ...rest] = field.split(".");
  if (head === "history" && rest.length > 0) {
    return FIELD_INPUTS.has(rest[0]) ? rest[0] : null;
  }
  return FIELD_INPUTS.has(head) ? head : null;
}

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

/** A problem the form finds before sending: the field, the message, the input to flag. */
class Problem {
  constructor(field, message, hint = null) {
    this.field = field;
    this.message = message;
    this.hint = hint;
  }
}

export function createSettings({ messages, onSaved, refreshStatus }) {
  const form = byId("settings-form");
  const general = byId("settings-error");
  const saved = byId("settings-saved");
  const saveButton = byId("save-settings");
  const revertButton = byId("revert-settings");
  const testButton = byId("test-connection");
  const testResult = byId("test-result");
  const headersList = byId("headers-list");
  const rulesList = byId("rules-list");
  const knownTypes = byId("known-types");
  const pauseState = byId("pause-state");
  const inputs = {
    server_url: byId("server_url"),
    channel: byId("channel"),
    web_app_url: byId("web_app_url"),
    extra_ca_file: byId("extra_ca_file"),
    certificate_pin: byId("certificate_pin"),
    notifications: byId("notifications"),
    quiet_from: byId("quiet_from"),
    quiet_to: byId("quiet_to"),
    autostart: byId("autostart"),
    start_hidden: byId("start_hidden"),
    keep_count: byId("keep_count"),
    keep_days: byId("keep_days"),
  };

  /** The settings as loaded or last saved; the base of what is sent. */
  let loaded = null;
  let dirty = false;
  /** What the user changed since the last load or save: ids of inputs, or "headers" / "rules". */
  const edited = new Set();
  let saving = false;
  let loading = null;
  /** Bumped by every save: a load that began before it must not undo what it showed. */
  let saves = 0;
  let rowCounter = 0;
  /** Elements flagged aria-invalid by the last error. */
  let flagged = [];

  // ---- rows ------------------------------------------------------------------

  function removeButton(row, what, focusAfter) {
    const remove = el("button", {
      className: "small quiet remove-row",
      text: "Remove",
      attrs: { type: "button", "aria-label": `Remove ${what}` },
    });
    remove.addEventListener("click", () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      (next?.querySelector("input") ?? focusAfter).focus();
      changed(row.classList.contains("header-row") ? "headers" : "rules");
    });
    return remove;
  }

  function labelled(id, label, input, extra = null) {
    return el("div", { className: "cell" }, [el("label", { className: "visually-hidden", text: label, attrs: { for: id } }), input, extra]);
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
      removeButton(row, "this header", byId("add-header")),
    );
    headersList.append(row);
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
      removeButton(row, "this rule", byId("add-rule")),
    );
    rulesList.append(row);
    return typeInput;
  }

  // ---- form <-> object ---------------------------------------------------------

  /** Put the settings in the form, leaving alone what the user is editing. */
  function fill(settings) {
    const text = (value) => (typeof value === "string" ? value : "");
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
    set(inputs.server_url, text(settings.server_url));
    set(inputs.channel, text(settings.channel));
    set(inputs.web_app_url, text(settings.web_app_url));
    set(inputs.extra_ca_file, text(settings.extra_ca_file));
    set(inputs.certificate_pin, text(settings.certificate_pin));
    check(inputs.notifications, settings.notifications !== false);
    check(inputs.autostart, settings.autostart === true);
    check(inputs.start_hidden, settings.start_hidden === true);
    const quiet = settings.quiet_hours && typeof settings.quiet_hours === "object" ? settings.quiet_hours : null;
    set(inputs.quiet_from, timeValue(quiet?.from));
    set(inputs.quiet_to, timeValue(quiet?.to));
    const history = settings.history && typeof settings.history === "object" ? settings.history : {};
    set(inputs.keep_count, typeof history.keep_count === "number" ? String(history.keep_count) : "");
    set(inputs.keep_days, typeof history.keep_days === "number" ? String(history.keep_days) : "");

    if (!edited.has("headers")) {
      headersList.replaceChildren();
      if (settings.headers && typeof settings.headers === "object") {
        for (const [name, value] of Object.entries(settings.headers)) {
          addHeader(name, typeof value === "string" ? value : "");
        }
      }
    }
    if (!edited.has("rules")) {
      rulesList.replaceChildren();
      if (settings.rules && typeof settings.rules === "object") {
        for (const [type, rule] of Object.entries(settings.rules)) {
          addRule(type, rule);
        }
      }
    }
  }

  function optionalText(input) {
    const value = input.value.trim();
    return value === "" ? null : value;
  }

  function wholeNumber(input, field, label) {
    const text = input.value.trim();
    const value = Number(text);
    if (text === "" || !Number.isSafeInteger(value) || value < 1) {
      throw new Problem(field, `${label} must be a whole number of at least 1.`);
    }
    return value;
  }

  /** The settings object to send, or a Problem thrown for what the form can tell. */
  function collect() {
    const settings = JSON.parse(JSON.stringify(loaded ?? {}));
    settings.server_url = optionalText(inputs.server_url);
    settings.channel = inputs.channel.value.trim();
    settings.web_app_url = optionalText(inputs.web_app_url);
    settings.extra_ca_file = optionalText(inputs.extra_ca_file);
    settings.certificate_pin = optionalText(inputs.certificate_pin);
    settings.notifications = inputs.notifications.checked;
    settings.autostart = inputs.autostart.checked;
    settings.start_hidden = inputs.start_hidden.checked;

    const from = inputs.quiet_from.value.trim();
    const to = inputs.quiet_to.value.trim();
    if ((from === "") !== (to === "")) {
      throw new Problem("quiet_hours", "Give both times for quiet hours, or leave both empty to turn them off.");
    }
    settings.quiet_hours = from === "" ? null : { from: timeValue(from) || from, to: timeValue(to) || to };

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
        throw new Problem("headers", "Each header needs a name, such as Authorization.", nameInput);
      }
      if (headerNames.has(name.toLowerCase())) {
        throw new Problem("headers", `The header ${name} is listed twice.`, nameInput);
      }
      headerNames.add(name.toLowerCase());
      headers.push([name, value]);
    }
    settings.headers = Object.fromEntries(headers);

    const rules = [];
    const ruleTypes = new Set();
    for (const row of rulesList.querySelectorAll(".rule-row")) {
      const typeInput = row.querySelector(".rule-type");
      const type = typeInput.value.trim();
      if (type === "") {
        continue;
      }
      if (ruleTypes.has(type)) {
        throw new Problem("rules", `The event type ${type} has two rules.`, typeInput);
      }
      ruleTypes.add(type);
      rules.push([type, row.querySelector(".rule-action").value]);
    }
    settings.rules = Object.fromEntries(rules);

    const history = settings.history && typeof settings.history === "object" ? settings.history : {};
    history.keep_count = wholeNumber(inputs.keep_count, "history.keep_count", "Entries to keep");
    history.keep_days = wholeNumber(inputs.keep_days, "history.keep_days", "Days to keep");
    settings.history = history;
    return settings;
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

  /** The inputs to flag for a field; for headers and rules, the row it names. */
  function inputsFor(key, field, hint) {
    if (hint instanceof HTMLElement) {
      return [hint];
    }
    if (key === "headers" || key === "rules") {
      const name = typeof field === "string" ? field.slice(key.length + 1) : "";
      const selector = key === "headers" ? ".header-name" : ".rule-type";
      const all = [...(key === "headers" ? headersList : rulesList).querySelectorAll(selector)];
      const named = all.filter((input) => name !== "" && input.value.trim() === name);
      return named.length > 0 ? named : all.slice(0, 1);
    }
    return (FIELD_INPUTS.get(key) ?? []).map((id) => byId(id));
  }

  /** Shows a problem beside its field (flagged and focused); false when it names no field of the form. */
  function flagProblem(problem, hint) {
    const key = errorKey(problem.field);
    const target = key === null ? null : document.getElementById(`error-${key}`);
    if (target === null) {
      return false;
    }
    target.textContent = problem.message;
    flagged = inputsFor(key, problem.field, hint);
    for (const input of flagged) {
      input.setAttribute("aria-invalid", "true");
    }
    const first = flagged[0];
    if (first) {
      first.focus();
      if (typeof first.scrollIntoView === "function") {
        first.scrollIntoView({ block: "center" });
      }
    } else {
      target.scrollIntoView?.({ block: "center" });
    }
    return true;
  }

  function showSaveError(problem, hint) {
    const beside = flagProblem(problem, hint);
    if (!beside) {
      general.textContent = problem.message;
    }
    messages.error(
      `Settings not saved: ${problem.message}`,
      beside ? "Fix the field that now has the focus, then save again." : "Check the settings, then save again.",
      { key: "settings" },
    );
  }

  // ---- load / save -------------------------------------------------------------

  /** The user changed something: an input (by id) or "headers" / "rules". */
  function changed(what) {
    dirty = true;
    saved.textContent = "";
    if (typeof what === "string") {
      edited.add(what);
    } else if (what && what.target instanceof HTMLElement) {
      const target = what.target;
      if (target.closest("#headers-list")) {
        edited.add("headers");
      } else if (target.closest("#rules-list")) {
        edited.add("rules");
      } else if (target.id) {
        edited.add(target.id);
      }
    }
  }

  function setReady() {
    saveButton.disabled = loaded === null || saving;
    revertButton.disabled = loaded === null || saving;
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
    let settings;
    try {
      settings = collect();
    } catch (problem) {
      if (problem instanceof Problem) {
        showSaveError(problem, problem.hint);
        return;
      }
      throw problem;
    }
    saving = true;
    setReady();
    form.setAttribute("aria-busy", "true");
    try {
      await invoke("save_settings", { settings });
      loaded = settings;
      dirty = false;
      edited.clear();
      saved.textContent = "Saved";
      messages.clearError("settings");
      onSaved?.(settings);
    } catch (error) {
      showSaveError(errorDetail(error));
    } finally {
      saving = false;
      form.setAttribute("aria-busy", "false");
      setReady();
    }
  }

  /** `ok`: true or false for a verdict, null for none. */
  function showTestResult(text, ok) {
    testResult.textContent = text;
    testResult.classList.toggle("ok", ok === true);
    testResult.classList.toggle("fail", ok === false);
  }

  /** Tests what the form holds, the same settings a save would send; the Rust side's words are shown as they are. */
  async function testConnection() {
    clearErrors();
    showTestResult("", null);
    if (inputs.server_url.value.trim() === "") {
      showTestResult("Enter a server URL first.", false);
      inputs.server_url.focus();
      return;
    }
    let settings;
    try {
      settings = collect();
    } catch (problem) {
      if (problem instanceof Problem) {
        flagProblem(problem, problem.hint);
        showTestResult(`Not tested: ${problem.message}`, false);
        return;
      }
      throw problem;
    }
    testButton.disabled = true;
    testButton.textContent = "Testing…";
    try {
      const result = await invoke("test_connection", { settings });
      const ok = result?.ok === true;
      showTestResult(typeof result?.message === "string" ? result.message : ok ? "Connected." : "The test failed.", ok);
    } catch (error) {
      const problem = errorDetail(error);
      flagProblem(problem);
      showTestResult(`Not tested: ${problem.message}`, false);
    } finally {
      testButton.disabled = false;
      testButton.textContent = "Test connection";
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
    if (target === inputs.server_url) {
      showTestResult("", null);
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
  testButton.addEventListener("click", testConnection);
  byId("add-header").addEventListener("click", () => {
    addHeader().focus();
    changed("headers");
  });
  byId("add-rule").addEventListener("click", () => {
    addRule().focus();
    changed("rules");
  });
  // "Trust this certificate": the fingerprint the tray process offers.
  const certificateOffer = byId("settings-certificate");
  const offeredFingerprint = byId("settings-certificate-fingerprint");
  const trustButton = byId("settings-trust-certificate");
  trustButton.addEventListener("click", async () => {
    const fingerprint = offeredFingerprint.textContent;
    if (fingerprint === "") {
      return;
    }
    trustButton.disabled = true;
    try {
      await invoke("trust_certificate", { fingerprint });
      inputs.certificate_pin.value = fingerprint;
      messages.say("Certificate trusted for this server: connecting…");
    } catch (error) {
      messages.error(`Could not trust the certificate: ${errorText(error)}`, TRY_AGAIN);
    } finally {
      trustButton.disabled = false;
    }
  });

  byId("pause-1h").addEventListener("click", () => pause({ minutes: 60 }, "Notifications paused for an hour."));
  byId("pause-forever").addEventListener("click", () => pause({ minutes: null }, "Notifications paused until you resume them."));
  byId("resume").addEventListener("click", () => pause(null, "Notifications resumed."));
  setReady();

  return {
    load,
    async focusServerUrl() {
      await load();
      inputs.server_url.focus();
    },
    /** The event types the history knows, offered in the rules. */
    setKnownTypes(types) {
      knownTypes.replaceChildren(...types.map((type) => el("option", { attrs: { value: type } })));
    },
    /** A refused certificate's fingerprint from a status, offered to trust. */
    showCertificateOffer(status) {
      const offered = typeof status?.state?.certificate === "string" ? status.state.certificate : "";
      certificateOffer.hidden = offered === "";
      if (offeredFingerprint.textContent !== offered) {
        offeredFingerprint.textContent = offered;
      }
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
  };
}

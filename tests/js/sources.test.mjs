// Rules the window's sources keep, read from the files themselves: server
// text never goes in as markup, the page runs under its strict CSP, and
// every element the scripts look up is in the page.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const ui = new URL("../../ui/", import.meta.url);
const read = (name) => readFileSync(new URL(name, ui), "utf8");
const scripts = readdirSync(ui)
  .filter((name) => name.endsWith(".js"))
  .sort();
const html = read("index.html");

/** The source without comments, so that a comment naming a rule does not break it. */
function code(name) {
  return read(name)
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:])\/\/.*$/gm, "$1");
}

test("the scripts are found", () => {
  for (const name of ["app.js", "boot.js", "format.js", "history.js"]) {
    assert.ok(scripts.includes(name), name);
  }
});

test("no script writes markup: text goes in through textContent", () => {
  const sinks = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?|createContextualFragment|DOMParser)\b/;
  for (const name of scripts) {
    const found = code(name).match(sinks);
    assert.equal(found, null, `${name} uses ${found?.[0]}`);
  }
});

test("no script evaluates strings or sets inline styles (the CSP forbids both)", () => {
  const banned = /\beval\s*\(|new\s+Function\s*\(|\.style\.cssText|setAttribute\(\s*["'](style|on\w+)["']/;
  for (const name of scripts) {
    const found = code(name).match(banned);
    assert.equal(found, null, `${name} uses ${found?.[0]}`);
  }
});

test("the page has no inline script, style or event handler", () => {
  for (const tag of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
    assert.match(tag[0], /\ssrc="[^"]+"/, `an inline script: ${tag[0].slice(0, 80)}`);
    assert.equal(tag[1].trim(), "");
  }
  assert.doesNotMatch(html, /<style\b/);
  assert.doesNotMatch(html, /\sstyle="/);
  assert.doesNotMatch(html, /\son[a-z]+="/);
});

test("boot.js runs before app.js, and every module is preloaded", () => {
  const boot = html.indexOf('src="boot.js"');
  const app = html.indexOf('src="app.js"');
  assert.ok(boot > 0 && boot < app, "boot.js comes first");
  assert.match(html, /<script src="boot.js" defer><\/script>/);
  const modules = scripts.filter((name) => name !== "boot.js" && name !== "app.js");
  for (const name of modules) {
    assert.ok(html.includes(`<link rel="modulepreload" href="${name}">`), `${name} is not preloaded`);
  }
});

test("every element the scripts look up by id is in the page", () => {
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]));
  for (const name of scripts) {
    for (const [, id] of code(name).matchAll(/(?:byId|getElementById)\("([^"]+)"\)/g)) {
      assert.ok(ids.has(id), `${name} looks up #${id}, which the page lacks`);
    }
  }
});

/**
 * The modules that decide (what a view shows, what it sends, its state)
 * without a page or Tauri, and daylist.js, which only builds from the
 * list's own document: node loads and tests them all.
 */
const PURE = [
  "card-model.js",
  "daylist.js",
  "entry.js",
  "format.js",
  "history-model.js",
  "keys.js",
  "live.js",
  "login-model.js",
  "settings-model.js",
  "status-model.js",
  "subscriptions.js",
  "tabs.js",
];

test("the pure modules touch no page and no Tauri, and import only each other", () => {
  for (const name of PURE) {
    const found = code(name).match(/\b(document|window|localStorage|navigator|__TAURI\w*)\s*[.[]/);
    assert.equal(found, null, `${name} uses ${found?.[0]}`);
    for (const [, imported] of code(name).matchAll(/\bfrom\s+"\.\/([^"]+)"/g)) {
      assert.ok(PURE.includes(imported), `${name} imports ${imported}, which is not pure`);
    }
  }
});

test("every view's decisions are in a pure module with its own tests", () => {
  const tests = new URL("./", import.meta.url);
  const tested = readdirSync(tests)
    .filter((name) => name.endsWith(".test.mjs"))
    .map((name) => readFileSync(new URL(name, tests), "utf8"));
  for (const name of PURE) {
    assert.ok(
      tested.some((text) => text.includes(`../../ui/${name}"`)),
      `no test under tests/js imports ${name}`,
    );
  }
});

test("every id a label or an ARIA attribute names is in the page (or in the same card's template)", () => {
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]));
  for (const [, attr, value] of html.matchAll(/\s(for|aria-describedby|aria-labelledby|aria-controls|list)="([^"]*)"/g)) {
    for (const id of value.split(/\s+/).filter((id) => id !== "")) {
      assert.ok(ids.has(id), `${attr}="${value}" names #${id}, which the page lacks`);
    }
  }
});

test("the first subscription's card keeps the ids the window's end-to-end tests use", () => {
  const template = html.match(/<template id="subscription-template">([\s\S]*?)<\/template>/);
  assert.ok(template, "the page has the subscription card's template");
  const inCard = new Set([...template[1].matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]));
  for (const id of [
    "server_url",
    "error-server_url",
    "channel",
    "add-header",
    "add-rule",
    "test-connection",
    "test-result",
    "web_app_url",
    "certificate_pin",
    "extra_ca_file",
    "settings-certificate",
    "settings-certificate-fingerprint",
    "settings-trust-certificate",
  ]) {
    assert.ok(inCard.has(id), `the card lacks #${id}`);
  }
  for (const part of ["header-row", "header-name", "header-value", "reveal", "rule-row", "rule-type", "rule-action"]) {
    assert.ok(code("subscription-card.js").includes(`"${part}`) || code("subscription-card.js").includes(` ${part}`), `rows lack .${part}`);
  }
  assert.ok(!inCard.has("save-settings") && html.includes('id="save-settings"'), "one Save for the whole form");
});

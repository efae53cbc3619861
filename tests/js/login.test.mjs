// What the Login view says and whose step it shows (ui/login-model.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { LoginChoice, WAITING, loginWords, stepOf } from "../../ui/login-model.js";

describe("the step's words", () => {
  test("a QR code to scan, one that cannot be shown, one that expired", () => {
    const scan = { step: "scan_qr_code", expired: false };
    assert.deepEqual(loginWords(scan, true), {
      step: "Scan with your phone",
      hint: "Open the app on your phone and point its camera at this code.",
      expired: false,
      user: null,
    });
    assert.equal(loginWords(scan, false).hint, "The server sent a QR code that cannot be shown.");
    const expired = loginWords({ ...scan, expired: true }, true);
    assert.equal(expired.step, "This QR code has expired");
    assert.equal(expired.expired, true);
  });

  test("confirm, logged in (the user's name as sent, or unknown), logged out", () => {
    assert.equal(loginWords({ step: "confirm_login" }, false).step, "Confirm the login on your phone");
    assert.deepEqual(loginWords({ step: "logged_in", user_name: "Ada Lovelace" }, false), { step: "Logged in", hint: "", expired: false, user: "Ada Lovelace" });
    assert.equal(loginWords({ step: "logged_in", user_name: "  " }, false).user, "Unknown user");
    assert.deepEqual(loginWords({ step: "logged_out" }, false), { step: WAITING, hint: "You were logged out.", expired: false, user: null });
  });

  test("nothing yet, or a step of no known name", () => {
    assert.equal(stepOf(null), "none");
    assert.equal(stepOf({ step: 3 }), "none");
    assert.equal(loginWords(null, false).step, WAITING);
    assert.equal(loginWords({ step: "bogus" }, false).hint, "It appears here as soon as the server sends one.");
  });
});

describe("whose login", () => {
  const view = (names, subscription = null) => ({ subscriptions_with_login: names, subscription });

  test("the selector shows with two or more, and names whose step it is", () => {
    const choice = new LoginChoice();
    assert.deepEqual(choice.take(view(["a"], "a")), { names: ["a"], showPicker: false, stillThere: true, whose: null });
    assert.deepEqual(choice.take(view(["a", "b"], "b")), { names: ["a", "b"], showPicker: true, stillThere: true, whose: "b" });
    assert.equal(choice.take(view(["a", "b"], "a")).names, null, "the same names: the options stay");
  });

  test("a subscription picked that sends no login any more goes back to the most recent", () => {
    const choice = new LoginChoice();
    choice.take(view(["a", "b"]));
    choice.pick("b");
    assert.equal(choice.chosen, "b");
    assert.equal(choice.take(view(["a", "b"], "b")).stillThere, true);
    assert.equal(choice.take(view(["a"], "a")).stillThere, false);
    assert.equal(choice.chosen, null);
    choice.pick("");
    assert.equal(choice.chosen, null);
  });
});

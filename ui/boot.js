// Start-up watch, a classic script so that it runs even when the modules
// cannot: if a module fails to load or to run, or app.js has not said it
// is ready (the `ready` class on <html>) in time, it shows the #boot-error
// panel with what went wrong, instead of a blank window. Once the page is
// ready, app.js says later failures itself.
(function () {
  "use strict";

  var START_LIMIT_MS = 15000;
  var root = document.documentElement;
  var shown = false;

  function ready() {
    return root.classList.contains("ready");
  }

  function show(text) {
    var panel = document.getElementById("boot-error");
    var close = document.getElementById("boot-error-close");
    var tauri = window.__TAURI__;
    root.classList.add("failed");
    panel.hidden = false;
    // Filled once shown, so that screen readers announce the alert.
    document.getElementById("boot-error-text").textContent = text;
    if (tauri && tauri.core && typeof tauri.core.invoke === "function") {
      close.hidden = false;
      close.addEventListener("click", function () {
        tauri.core.invoke("close_window");
      });
      close.focus();
    }
  }

  function fail(text) {
    if (shown || ready()) {
      return;
    }
    shown = true;
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        show(text);
      });
    } else {
      show(text);
    }
  }

  function nameOf(url) {
    return String(url || "").split("/").pop() || "a script";
  }

  // Capturing, to hear a <script> or module preload that failed to load:
  // those error events do not bubble. An image that failed is no start-up
  // failure, and is left alone.
  window.addEventListener(
    "error",
    function (event) {
      var target = event.target;
      if (event instanceof ErrorEvent) {
        var where = event.filename ? " (" + nameOf(event.filename) + ":" + event.lineno + ")" : "";
        fail(String(event.message) + where);
      } else if (target && (target.tagName === "SCRIPT" || target.tagName === "LINK")) {
        fail("Could not load " + nameOf(target.src || target.href) + ".");
      }
    },
    true
  );

  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    fail(reason && reason.message ? String(reason.message) : String(reason));
  });

  setTimeout(function () {
    if (!ready()) {
      fail("The window's scripts did not start within " + START_LIMIT_MS / 1000 + " seconds.");
    }
  }, START_LIMIT_MS);
})();

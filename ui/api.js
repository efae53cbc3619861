// The bridge to the Rust side. `window.__TAURI__` is looked up on every call
// (not at import time), so a page opened before the bridge is ready, or a
// test that installs its own bridge, still works.

function bridge() {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core || typeof tauri.core.invoke !== "function") {
    throw new Error("The app bridge is missing: this page only works inside SSE Tray.");
  }
  return tauri;
}

/** Call a command; always a promise, even when the bridge is missing. */
export function invoke(name, args = {}) {
  try {
    return Promise.resolve(bridge().core.invoke(name, args));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Listen to an app event; resolves to an unlisten function (a no-op without a bridge). */
export async function listen(name, handler) {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.event || typeof tauri.event.listen !== "function") {
    return () => {};
  }
  return tauri.event.listen(name, handler);
}

/** The text of an error: commands reject with a string or with {field, message}. */
export function errorText(error) {
  if (typeof error === "string" && error.trim() !== "") {
    return error;
  }
  if (error && typeof error.message === "string" && error.message.trim() !== "") {
    return error.message;
  }
  return "Something went wrong.";
}

/** {field, message} for any rejection; field is null when the error names none. */
export function errorDetail(error) {
  const field = error && typeof error === "object" && typeof error.field === "string" ? error.field : null;
  return { field, message: errorText(error) };
}

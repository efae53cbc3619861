// The live events the tray process sends the window: `WindowEvent` in
// src-tauri/ipc/mod.rs, which the window process reads back into that type
// before it passes them on. The page takes them through one table, a
// handler per variant: a table that lacks one, or has one too many, is
// refused when the page starts, and a type that is not in it is a logged
// error, never a silent miss. tests/js/rust-names.json lists Rust's tags;
// a Rust test and a node test each check their side against it.

/** The variants' tags, in Rust's order. */
export const LIVE_EVENTS = Object.freeze(["stored", "state", "login_changed", "status", "show_view", "lagged"]);

/**
 * The function that hands a live event ({type, value}) to its handler.
 *
 * @param {Record<string, (value: unknown) => void>} handlers  one for each of LIVE_EVENTS, no more
 * @param {(message: string) => void} [log]  where an unknown event is told
 * @returns {(event: unknown) => boolean} true when a handler took it
 */
export function liveDispatch(handlers, log = console.error) {
  const missing = LIVE_EVENTS.filter((type) => typeof handlers[type] !== "function");
  const unknown = Object.keys(handlers).filter((type) => !LIVE_EVENTS.includes(type));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(`the live events' table is not Rust's: lacks [${missing.join(", ")}], has too many [${unknown.join(", ")}]`);
  }
  const table = new Map(LIVE_EVENTS.map((type) => [type, handlers[type]]));
  return (event) => {
    const type = event && typeof event === "object" ? event.type : undefined;
    const handler = typeof type === "string" ? table.get(type) : undefined;
    if (handler === undefined) {
      log(`SSE Tray: a live event of no known type (${typeof type === "string" ? JSON.stringify(type) : typeof event}) was dropped`);
      return false;
    }
    handler(event.value);
    return true;
  };
}

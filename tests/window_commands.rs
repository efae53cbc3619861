//! The window's commands are listed once (`src-tauri/window_commands.rs`);
//! the capability that grants them and the page that calls them are
//! checked against that list here, so that a missing permission fails a
//! test instead of showing as a refusal inside the webview.

use std::collections::BTreeSet;
use std::path::Path;

include!("../src-tauri/window_commands.rs");

const COMMANDS: &[&str] = window_commands!(command_names);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_capability_grants_exactly_the_window_commands() {
    let text = std::fs::read_to_string(repo().join("capabilities/default.json")).expect("read");
    let capability: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|permission| permission.as_str())
        .filter_map(|permission| permission.strip_prefix("allow-"))
        .map(|name| name.replace('-', "_"))
        .collect();
    let listed: BTreeSet<String> = COMMANDS.iter().map(|name| name.to_string()).collect();
    let missing: Vec<_> = listed.difference(&granted).collect();
    let unknown: Vec<_> = granted.difference(&listed).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "capabilities/default.json: add allow-NAME for {missing:?}; remove {unknown:?}"
    );
    // Beyond the commands, only listening to events: never emitting them.
    let others: Vec<&str> = capability["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|permission| permission.as_str())
        .filter(|permission| !permission.starts_with("allow-"))
        .collect();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten"]
    );
}

/// The string literals inside each `invoke(…)` call of the page's modules.
fn commands_the_page_calls() -> BTreeSet<String> {
    let mut called = BTreeSet::new();
    for file in std::fs::read_dir(repo().join("ui")).expect("ui") {
        let path = file.expect("entry").path();
        if path.extension().and_then(|ext| ext.to_str()) != Some("js") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for (at, _) in text.match_indices("invoke(") {
            let call = &text[at + "invoke(".len()..];
            let args = &call[..call.find(')').unwrap_or(call.len())];
            for (index, piece) in args.split('"').enumerate() {
                if index % 2 == 1 && !piece.is_empty() {
                    called.insert(piece.to_string());
                }
            }
        }
    }
    called
}

#[test]
fn the_page_calls_exactly_the_window_commands() {
    let called = commands_the_page_calls();
    let listed: BTreeSet<String> = COMMANDS.iter().map(|name| name.to_string()).collect();
    let unknown: Vec<_> = called.difference(&listed).collect();
    let unused: Vec<_> = listed.difference(&called).collect();
    assert!(
        unknown.is_empty(),
        "the page calls commands the window does not have: {unknown:?}"
    );
    assert!(
        unused.is_empty(),
        "window commands the page never calls (remove them, with their permission): {unused:?}"
    );
}

//! Runs Tauri's build step only for the desktop window; the core builds with
//! no Tauri at all (`--no-default-features`).
//!
//! The app manifest lists the window's commands, so that each needs a
//! permission and the capability (`capabilities/default.json`) grants
//! exactly those the page calls; without it, every command would be
//! allowed to any page the webview shows. The list is the one in
//! `src-tauri/window_commands.rs`.
include!("src-tauri/window_commands.rs");

fn main() {
    #[cfg(feature = "desktop")]
    {
        const COMMANDS: &[&str] = window_commands!(command_names);
        let attributes = tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
        if let Err(error) = tauri_build::try_build(attributes) {
            panic!("the Tauri build step failed: {error:#}");
        }
    }
}

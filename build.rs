//! Runs Tauri's build step only for the desktop window; the core builds with
//! no Tauri at all (`--no-default-features`).
fn main() {
    #[cfg(feature = "desktop")]
    tauri_build::build();
}

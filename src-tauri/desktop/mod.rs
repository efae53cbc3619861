//! The desktop's parts, each thin over the core: what a notification says
//! and the service that shows it, the tray icon and its badge, autostart,
//! and the window's commands (plain Rust; Tauri stays in the window binary).

#[cfg(any(target_os = "linux", windows))]
pub mod appearance;
pub mod autostart;
pub mod badge;
pub mod network_watch;
pub mod notification_service;
pub mod notifier;
#[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
pub mod tray;
pub mod window;

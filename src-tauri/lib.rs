//! SSE Tray: a desktop client for Server-Sent Events push servers.
//!
//! The folders are the layers, each depending only on those before it:
//! - [`protocol`]: what comes over the wire and which addresses may be
//!   used: the SSE parser, connection and reconnecting client, what the
//!   seed servers' events mean, the one URL policy and the one clock;
//! - [`core`]: the app without any desktop: the user's private
//!   files, settings, secrets, the history store and the engine that joins
//!   them (the one writer of the store);
//! - [`ipc`]: the local socket between the tray process and its clients,
//!   and the status it publishes;
//! - [`desktop`]: the desktop's parts: notifications, the tray icon, the
//!   badge, autostart, the window's plain-Rust commands;
//! - [`tray_process`]: the `ssetray` binary: the main loop ([`app`]), the
//!   command line, the demo server, start-up helpers.
//!
//! Nothing here imports Tauri: the window is its own binary
//! (`window_main.rs`), a thin shell over [`window`].
//!
//! The modules are also re-exported at the top (`ssetray::store`, ...), so
//! that a path names a thing, not its folder.

pub mod core;
pub mod desktop;
pub mod ipc;
pub mod protocol;
pub mod tray_process;

pub use crate::core::{engine, entry_view, login_image, private_files, secrets, settings, store};
#[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
pub use desktop::tray;
pub use desktop::{autostart, badge, notifier, window};
pub use protocol::{clock, feed, sse, url_policy};
pub use tray_process::{app, bootstrap, cli, demo, terminal};

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
//! - [`tray_process`]: the `ssetray` binary: the main loop ([`tray_process::app`]), the
//!   command line, the demo server, start-up helpers.
//!
//! Nothing here imports Tauri: the window is its own binary
//! (`window_main.rs`), a thin shell over [`desktop::window`].
//!
//! A path names the layer of what it imports (`crate::core::store`), so a
//! wrong import reads as wrong; `tests/layers.rs` fails on a path that goes
//! up a layer.

pub mod core;
pub mod desktop;
pub mod ipc;
pub mod protocol;
pub mod tray_process;

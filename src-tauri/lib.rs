//! SSE Tray: a desktop client for Server-Sent Events push servers.
//!
//! Layers, each depending only on those above it in this list:
//! - [`sse`]: the protocol (parser, connection, reconnecting client);
//! - [`feed`]: what the seed servers' events mean;
//! - [`store`]: history, unread count, login state, resume point (SQLite);
//! - [`settings`]: the user's settings file;
//! - [`engine`]: joins them; the one writer of the store;
//! - [`notifier`]: OS notifications; [`demo`]: the embedded demo server;
//! - [`ipc`]: the local socket between the tray process and its clients;
//! - [`app`]: the tray process (engine, notifier, socket, tray, window);
//! - [`cli`]: the command line of the `ssetray` binary.
//!
//! Nothing here imports Tauri: the window is its own binary.

pub mod app;
pub mod autostart;
pub mod badge;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod feed;
pub mod ipc;
pub mod notifier;
pub mod private_files;
pub mod settings;
pub mod sse;
pub mod store;
#[cfg(all(feature = "tray", target_os = "linux"))]
pub mod tray;
pub mod window;

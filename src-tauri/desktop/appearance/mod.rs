//! The desktop's light or dark style, for the window: asked once at start
//! and followed while it runs. One file per platform: `linux.rs` (the
//! freedesktop settings portal), `windows.rs` (the personalisation key in
//! the user's registry).

use serde::Serialize;

/// What the desktop prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Dark,
    Light,
}

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{current, follow, scheme_of};
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{current, follow};

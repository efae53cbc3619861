//! Start at login: written or removed to follow the `autostart` setting,
//! one file per platform (`xdg.rs`: an XDG autostart entry; `windows.rs`:
//! a value under `HKCU\…\Run`). Either starts `ssetray --hidden`, straight
//! into the tray, and neither touches an entry the user made by hand.

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::apply;
#[cfg(not(windows))]
mod xdg;
#[cfg(not(windows))]
pub use xdg::apply;

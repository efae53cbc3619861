//! The app without a desktop: everything here runs and is tested without a
//! display, a D-Bus session or a tray.

pub mod allocator;
pub mod description;
pub mod engine;
pub mod entry_view;
pub mod login_image;
pub mod private_files;
pub mod secrets;
pub mod settings;
pub mod store;
#[cfg(windows)]
pub mod win32;

//! The desktop's notification service, and who waits for which click.
//!
//! One file per platform shows them: on Linux `org.freedesktop.Notifications`
//! over one D-Bus connection for the whole run (`linux.rs`: one `Notify`
//! per bubble, and the service's two signals, `ActionInvoked` and
//! `NotificationClosed`, read once for all bubbles); on Windows WinRT toasts
//! (`windows.rs`), whose clicks and dismissals come back as the same
//! [`Signal`]s.
//!
//! A connection or a waiting task per notification would pile up on
//! desktops that keep notifications, and a summary updated in place
//! (same id) would collect one waiter per update: one click, many opens.
//!
//! [`ClickWaiters`] is the bookkeeping, plain and tested: one entry per
//! notification id, replaced by an update, ended by the click or the close.
//!
//! This module knows nothing of events or bursts: what a notification says
//! ([`NotificationText`]) and what its click asks for ([`Click`]) are
//! defined here, and the notifier (`super::notifier`) builds them.

use std::collections::BTreeMap;

/// What a notification shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    pub summary: String,
    pub body: String,
    pub urgency: Option<String>,
}

/// What clicking a notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Click {
    /// Open this http(s) URL in the browser; mark the entry read.
    OpenUrl { url: String, entry_id: Option<i64> },
    /// Open the window at the login view (a QR code to scan).
    OpenLogin { entry_id: i64 },
}

/// Notifications waiting for a click, at most this many: the oldest are
/// forgotten first on a desktop that never closes them.
const MAX_WAITING: usize = 256;

/// What each shown notification does when clicked.
#[derive(Debug, Default)]
pub struct ClickWaiters {
    /// By notification id; ids grow, so the first is the oldest.
    waiting: BTreeMap<u32, Click>,
}

impl ClickWaiters {
    /// Notification `id` was shown, or updated in place; a click on it now
    /// does `click` (or nothing).
    pub fn shown(&mut self, id: u32, click: Option<Click>) {
        match click {
            Some(click) => {
                self.waiting.insert(id, click);
                while self.waiting.len() > MAX_WAITING {
                    self.waiting.pop_first();
                }
            }
            None => {
                self.waiting.remove(&id);
            }
        }
    }

    /// The user clicked notification `id` (its default action): what to do,
    /// once. A second click on a bubble the desktop kept does nothing.
    pub fn invoked(&mut self, id: u32, action: &str) -> Option<Click> {
        if action != "default" {
            return None;
        }
        self.waiting.remove(&id)
    }

    /// Notification `id` is gone (expired, dismissed, replaced by the
    /// desktop): nothing waits for it any more.
    pub fn closed(&mut self, id: u32) {
        self.waiting.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// What the notification service reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Invoked { id: u32, action: String },
    Closed { id: u32 },
}

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::NotificationService;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{register_app_id, NotificationService, APP_ID};
#[cfg(not(any(target_os = "linux", windows)))]
mod other;
#[cfg(not(any(target_os = "linux", windows)))]
pub use other::NotificationService;

#[cfg(test)]
mod tests {
    use super::*;

    fn open(url: &str) -> Option<Click> {
        Some(Click::OpenUrl {
            url: url.into(),
            entry_id: None,
        })
    }

    #[test]
    fn a_summary_updated_many_times_opens_once_per_click() {
        let mut waiters = ClickWaiters::default();
        for _ in 0..50 {
            // The same id each update: the summary replaced in place.
            waiters.shown(7, open("https://example.com/"));
        }
        assert_eq!(waiters.len(), 1);
        assert_eq!(waiters.invoked(7, "default"), open("https://example.com/"));
        assert_eq!(
            waiters.invoked(7, "default"),
            None,
            "a second click opens nothing"
        );
        assert!(waiters.is_empty());
    }

    #[test]
    fn waiters_end_when_their_notification_closes() {
        let mut waiters = ClickWaiters::default();
        waiters.shown(1, open("https://a.example/"));
        waiters.shown(2, open("https://b.example/"));
        waiters.closed(1);
        assert_eq!(waiters.invoked(1, "default"), None);
        assert_eq!(waiters.len(), 1);
        // Another action key than the default is no click on the bubble.
        assert_eq!(waiters.invoked(2, "other"), None);
        // An update without a click target ends the waiter too.
        waiters.shown(2, None);
        assert!(waiters.is_empty());
    }

    #[test]
    fn a_desktop_that_never_closes_keeps_a_bounded_number_waiting() {
        let mut waiters = ClickWaiters::default();
        for id in 0..10_000 {
            waiters.shown(id, open("https://example.com/"));
        }
        assert_eq!(waiters.len(), MAX_WAITING);
        assert_eq!(waiters.invoked(0, "default"), None, "the oldest went first");
        assert!(waiters.invoked(9_999, "default").is_some());
    }
}

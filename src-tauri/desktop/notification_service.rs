//! The desktop's notification service, and who waits for which click.
//!
//! On Linux this is `org.freedesktop.Notifications` over one D-Bus
//! connection for the whole run (a zbus proxy, beside the tray icon's own
//! zbus): one `Notify` per bubble, and the service's two signals,
//! `ActionInvoked` and `NotificationClosed`, read once for all bubbles.
//! A connection or a waiting task per notification would pile up on
//! desktops that keep notifications, and a summary updated in place
//! (same id) would collect one waiter per update: one click, many opens.
//!
//! [`ClickWaiters`] is the bookkeeping, plain and tested: one entry per
//! notification id, replaced by an update, ended by the click or the close.

use std::collections::BTreeMap;

use super::notifier::{Click, NotificationText};

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
pub use linux::NotificationService;

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;

    use futures_util::StreamExt;
    use zbus::zvariant::Value;

    use super::{NotificationText, Signal};

    #[zbus::proxy(
        interface = "org.freedesktop.Notifications",
        default_service = "org.freedesktop.Notifications",
        default_path = "/org/freedesktop/Notifications"
    )]
    trait Notifications {
        #[allow(clippy::too_many_arguments)]
        fn notify(
            &self,
            app_name: &str,
            replaces_id: u32,
            app_icon: &str,
            summary: &str,
            body: &str,
            actions: &[&str],
            hints: HashMap<&str, Value<'_>>,
            expire_timeout: i32,
        ) -> zbus::Result<u32>;

        #[zbus(signal)]
        fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;

        #[zbus(signal)]
        fn notification_closed(&self, id: u32, reason: u32) -> zbus::Result<()>;
    }

    /// One session-bus connection to the notification service, and its
    /// signals.
    pub struct NotificationService {
        proxy: NotificationsProxy<'static>,
        invoked: ActionInvokedStream,
        closed: NotificationClosedStream,
    }

    impl NotificationService {
        pub async fn connect() -> zbus::Result<NotificationService> {
            let connection = zbus::Connection::session().await?;
            let proxy = NotificationsProxy::new(&connection).await?;
            // Subscribed before the first Notify, so that no click is missed.
            let invoked = proxy.receive_action_invoked().await?;
            let closed = proxy.receive_notification_closed().await?;
            Ok(NotificationService {
                proxy,
                invoked,
                closed,
            })
        }

        /// Show `text`, replacing notification `replaces` when given (a
        /// summary updated in place); its id.
        pub async fn show(
            &self,
            text: &NotificationText,
            replaces: Option<u32>,
            clickable: bool,
        ) -> zbus::Result<u32> {
            let urgency: u8 = match text.urgency.as_deref() {
                Some("low") => 0,
                Some("critical") => 2,
                _ => 1,
            };
            let mut hints = HashMap::new();
            hints.insert("urgency", Value::U8(urgency));
            hints.insert("desktop-entry", Value::from("ssetray"));
            let actions: &[&str] = if clickable { &["default", "Open"] } else { &[] };
            self.proxy
                .notify(
                    "SSE Tray",
                    replaces.unwrap_or(0),
                    "ssetray",
                    &text.summary,
                    &text.body,
                    actions,
                    hints,
                    -1,
                )
                .await
        }

        /// The next click or close, from any of our notifications (the
        /// service broadcasts them; ids not ours are ignored by the caller).
        pub async fn next_signal(&mut self) -> Option<Signal> {
            loop {
                tokio::select! {
                    Some(signal) = self.invoked.next() => {
                        if let Ok(args) = signal.args() {
                            return Some(Signal::Invoked { id: args.id, action: args.action_key });
                        }
                    }
                    Some(signal) = self.closed.next() => {
                        if let Ok(args) = signal.args() {
                            return Some(Signal::Closed { id: args.id });
                        }
                    }
                    else => return None,
                }
            }
        }
    }
}

/// Elsewhere (until the Windows issue brings toasts with clicks): shown
/// through notify-rust, without clicks.
#[cfg(not(target_os = "linux"))]
pub struct NotificationService;

#[cfg(not(target_os = "linux"))]
impl NotificationService {
    pub async fn connect() -> Result<NotificationService, String> {
        Ok(NotificationService)
    }

    pub async fn show(
        &self,
        text: &NotificationText,
        _replaces: Option<u32>,
        _clickable: bool,
    ) -> Result<u32, String> {
        notify_rust::Notification::new()
            .appname("SSE Tray")
            .summary(&text.summary)
            .body(&text.body)
            .show()
            .map(|_| 0)
            .map_err(|error| error.to_string())
    }

    pub async fn next_signal(&mut self) -> Option<Signal> {
        std::future::pending().await
    }
}

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

//! Notifications on Linux: `org.freedesktop.Notifications` over one D-Bus
//! connection for the whole run (a zbus proxy, beside the tray icon's own
//! zbus).

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

//! Notifications elsewhere (macOS, until its own file): shown through
//! notify-rust, without clicks.

use super::{NotificationText, Signal};

pub struct NotificationService;

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

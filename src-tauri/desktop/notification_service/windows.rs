//! Notifications on Windows: WinRT toasts (tauri-winrt-notification, the
//! toast backend notify-rust uses on Windows, taken directly for its click
//! callback), under the app's own AppUserModelID.
//!
//! Why each piece:
//! - Windows shows a toast only for an app it knows by its AppUserModelID:
//!   the installer's Start-menu shortcut carries it, and [`register_app_id`]
//!   also names it in the user's registry (`HKCU\Software\Classes\
//!   AppUserModelId\…`), so that a copy run without installing shows its
//!   toasts too.
//! - The toast's `Activated` and `Dismissed` events come on a WinRT thread;
//!   they only hand a [`Signal`] to a channel, read like the D-Bus signals
//!   on Linux, so a click reaches the same [`super::ClickWaiters`].
//! - Toasts carry no tag here, so one cannot be updated in place: a
//!   summary "updated" (a flood going on) shows a new toast at most every
//!   [`UPDATE_EVERY`], and the click goes to the newest target meanwhile.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tauri_winrt_notification::{Toast, ToastDismissalReason};
use tokio::sync::mpsc;
use windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID;

use super::{NotificationText, Signal};
use crate::core::win32::{wide, UserKey};

/// The app's AppUserModelID: the installer gives its shortcut this one.
pub const APP_ID: &str = "SSETray.SSETray";

/// How often a summary that keeps changing shows a new toast.
const UPDATE_EVERY: Duration = Duration::from_secs(30);

/// Set this process's AppUserModelID and name it in the user's registry
/// (display name, icon), so that Windows shows its toasts.
pub fn register_app_id() -> Result<(), String> {
    let id = wide(APP_ID);
    // SAFETY: a NUL-terminated string that lives for the call.
    let result = unsafe { SetCurrentProcessExplicitAppUserModelID(id.as_ptr()) };
    if result < 0 {
        return Err(format!(
            "cannot set the AppUserModelID: HRESULT {result:#x}"
        ));
    }
    let register = || -> std::io::Result<()> {
        let key = UserKey::create(&format!(r"Software\Classes\AppUserModelId\{APP_ID}"))?;
        key.set_string("DisplayName", "SSE Tray")?;
        let exe = std::env::current_exe()?;
        key.set_string("IconUri", &exe.display().to_string())
    };
    register().map_err(|error| format!("cannot register the app for notifications: {error}"))
}

/// The toasts shown this run, and the clicks and dismissals coming back.
pub struct NotificationService {
    signals_tx: mpsc::UnboundedSender<Signal>,
    signals: mpsc::UnboundedReceiver<Signal>,
    next_id: AtomicU32,
    /// When each updated summary last showed a toast.
    last_update: Mutex<Option<(u32, Instant)>>,
}

impl NotificationService {
    pub async fn connect() -> Result<NotificationService, String> {
        if let Err(error) = register_app_id() {
            tracing::warn!("{error}");
        }
        let (signals_tx, signals) = mpsc::unbounded_channel();
        Ok(NotificationService {
            signals_tx,
            signals,
            next_id: AtomicU32::new(1),
            last_update: Mutex::new(None),
        })
    }

    /// Show `text`; an update of `replaces` keeps its id (and shows a new
    /// toast only every [`UPDATE_EVERY`]).
    pub async fn show(
        &self,
        text: &NotificationText,
        replaces: Option<u32>,
        clickable: bool,
    ) -> Result<u32, String> {
        let id = match replaces {
            Some(id) => {
                let mut last = self.last_update.lock().map_err(|error| error.to_string())?;
                let now = Instant::now();
                if matches!(*last, Some((shown, at)) if shown == id && now - at < UPDATE_EVERY) {
                    return Ok(id);
                }
                *last = Some((id, now));
                id
            }
            None => self.next_id.fetch_add(1, Ordering::Relaxed),
        };
        let (summary, body) = (text.summary.clone(), text.body.clone());
        let clicks = self.signals_tx.clone();
        let closes = self.signals_tx.clone();
        // WinRT calls block for a moment: off the app's one thread (and a
        // toast is not Send, so it is built there).
        let shown = tokio::task::spawn_blocking(move || {
            let mut toast = Toast::new(APP_ID).title(&summary).text1(&body);
            if clickable {
                toast = toast.on_activated(move |_action| {
                    let _ = clicks.send(Signal::Invoked {
                        id,
                        action: "default".into(),
                    });
                    Ok(())
                });
            }
            toast = toast.on_dismissed(move |reason| {
                // Timed out, a toast goes on to the Action Center, where a
                // click may still come: only one the user closed ends its
                // waiter.
                if matches!(reason, Some(ToastDismissalReason::UserCanceled)) {
                    let _ = closes.send(Signal::Closed { id });
                }
                Ok(())
            });
            toast.show().map_err(|error| format!("{error:?}"))
        });
        shown.await.map_err(|error| error.to_string())??;
        Ok(id)
    }

    /// The next click or dismissal of one of this run's toasts.
    pub async fn next_signal(&mut self) -> Option<Signal> {
        self.signals.recv().await
    }
}

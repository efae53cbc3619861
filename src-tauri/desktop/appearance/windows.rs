//! The desktop's style on Windows: `AppsUseLightTheme` under the user's
//! `…\Themes\Personalize` key (0 dark, 1 light), which Settings >
//! Personalisation > Colours writes. Followed by waiting for the key to
//! change (`RegNotifyChangeKeyValue`) on a thread of its own, not polled.

use windows_sys::Win32::System::Registry::{KEY_NOTIFY, KEY_QUERY_VALUE};

use super::Scheme;
use crate::core::win32::UserKey;

const PERSONALIZE: &str = r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize";

fn open() -> Option<UserKey> {
    UserKey::open(PERSONALIZE, KEY_QUERY_VALUE | KEY_NOTIFY).ok()
}

fn scheme_of(key: &UserKey) -> Option<Scheme> {
    let light = key.dword("AppsUseLightTheme").ok()??;
    Some(if light == 0 {
        Scheme::Dark
    } else {
        Scheme::Light
    })
}

/// The desktop's style now; `None` when Windows says nothing of it.
pub async fn current() -> Option<Scheme> {
    scheme_of(&open()?)
}

/// Call `changed` with each new style, for as long as the app runs.
pub async fn follow(mut changed: impl FnMut(Option<Scheme>)) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let started = std::thread::Builder::new()
        .name("appearance".into())
        .spawn(move || {
            let Some(key) = open() else { return };
            let mut last = scheme_of(&key);
            while key.wait_for_change().is_ok() {
                let now = scheme_of(&key);
                if now != last {
                    last = now;
                    if tx.blocking_send(now).is_err() {
                        return;
                    }
                }
            }
        });
    if started.is_err() {
        return;
    }
    while let Some(scheme) = rx.recv().await {
        changed(scheme);
    }
}

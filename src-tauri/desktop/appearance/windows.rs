//! The desktop's style on Windows: `AppsUseLightTheme` under the user's
//! `…\Themes\Personalize` key (0 dark, 1 light), which Settings >
//! Personalisation > Colours writes. Followed by waiting for the key to
//! change (`RegNotifyChangeKeyValue`) on a thread of its own, not polled.

use windows_sys::Win32::Foundation::ERROR_SUCCESS;
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegNotifyChangeKeyValue, RegOpenKeyExW, RegQueryValueExW, HKEY, HKEY_CURRENT_USER,
    KEY_NOTIFY, KEY_QUERY_VALUE, REG_NOTIFY_CHANGE_LAST_SET,
};

use super::Scheme;
use crate::core::win32::wide;

const PERSONALIZE: &str = r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize";

/// The Personalize key, closed on drop.
struct Key(HKEY);

impl Key {
    fn open() -> Option<Key> {
        let path = wide(PERSONALIZE);
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: a NUL-terminated path and a handle closed on drop.
        let status = unsafe {
            RegOpenKeyExW(
                HKEY_CURRENT_USER,
                path.as_ptr(),
                0,
                KEY_QUERY_VALUE | KEY_NOTIFY,
                &mut key,
            )
        };
        (status == ERROR_SUCCESS).then_some(Key(key))
    }

    fn scheme(&self) -> Option<Scheme> {
        let name = wide("AppsUseLightTheme");
        let mut value = 0u32;
        let mut size = std::mem::size_of::<u32>() as u32;
        // SAFETY: a DWORD-sized buffer of `size` bytes.
        let status = unsafe {
            RegQueryValueExW(
                self.0,
                name.as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                (&mut value as *mut u32).cast(),
                &mut size,
            )
        };
        if status != ERROR_SUCCESS {
            return None;
        }
        Some(if value == 0 {
            Scheme::Dark
        } else {
            Scheme::Light
        })
    }

    /// Block until a value of the key changes; false when that cannot be
    /// waited for.
    fn wait_for_change(&self) -> bool {
        // SAFETY: a synchronous wait on a key we hold.
        let status = unsafe {
            RegNotifyChangeKeyValue(
                self.0,
                0,
                REG_NOTIFY_CHANGE_LAST_SET,
                std::ptr::null_mut(),
                0,
            )
        };
        status == ERROR_SUCCESS
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the key opened in `open`.
        unsafe { RegCloseKey(self.0) };
    }
}

/// The desktop's style now; `None` when Windows says nothing of it.
pub async fn current() -> Option<Scheme> {
    Key::open()?.scheme()
}

/// Call `changed` with each new style, for as long as the app runs.
pub async fn follow(mut changed: impl FnMut(Option<Scheme>)) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let started = std::thread::Builder::new()
        .name("appearance".into())
        .spawn(move || {
            let Some(key) = Key::open() else { return };
            let mut last = key.scheme();
            while key.wait_for_change() {
                let now = key.scheme();
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

//! Start at login on Windows: the value "SSE Tray" under
//! `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, the user's own
//! (no administrator needed), which Windows' Startup apps page lists and
//! can turn off.
//!
//! Only a value this app wrote (a command line naming `ssetray` and ending
//! in `--hidden`) is replaced or removed: another one under the same name
//! is the user's.

use std::path::Path;

use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegDeleteValueW, RegOpenKeyExW, RegQueryValueExW, RegSetValueExW, HKEY,
    HKEY_CURRENT_USER, KEY_QUERY_VALUE, KEY_SET_VALUE, REG_SZ,
};

use crate::core::win32::wide;

const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
const VALUE: &str = "SSE Tray";

fn registry_error(what: &str, status: u32) -> String {
    format!(
        "cannot {what} the autostart entry (HKCU\\{RUN_KEY}): {}",
        std::io::Error::from_raw_os_error(status as i32)
    )
}

/// The Run key, closed on drop.
struct RunKey(HKEY);

impl RunKey {
    fn open() -> Result<RunKey, String> {
        let path = wide(RUN_KEY);
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: a NUL-terminated path and a handle closed on drop.
        let status = unsafe {
            RegOpenKeyExW(
                HKEY_CURRENT_USER,
                path.as_ptr(),
                0,
                KEY_QUERY_VALUE | KEY_SET_VALUE,
                &mut key,
            )
        };
        if status != ERROR_SUCCESS {
            return Err(registry_error("open", status));
        }
        Ok(RunKey(key))
    }

    /// The value's text, `None` when there is none.
    fn read(&self) -> Result<Option<String>, String> {
        let name = wide(VALUE);
        let mut buffer = vec![0u16; 2048];
        let mut bytes = (buffer.len() * 2) as u32;
        // SAFETY: the buffer holds `bytes` bytes.
        let status = unsafe {
            RegQueryValueExW(
                self.0,
                name.as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                buffer.as_mut_ptr().cast(),
                &mut bytes,
            )
        };
        match status {
            ERROR_SUCCESS => {
                let units = (bytes as usize / 2).min(buffer.len());
                let text = String::from_utf16_lossy(&buffer[..units]);
                Ok(Some(text.trim_end_matches('\0').to_string()))
            }
            ERROR_FILE_NOT_FOUND => Ok(None),
            status => Err(registry_error("read", status)),
        }
    }

    fn write(&self, command: &str) -> Result<(), String> {
        let (name, data) = (wide(VALUE), wide(command));
        // SAFETY: `data` is `data.len() * 2` bytes, NUL included.
        let status = unsafe {
            RegSetValueExW(
                self.0,
                name.as_ptr(),
                0,
                REG_SZ,
                data.as_ptr().cast(),
                (data.len() * 2) as u32,
            )
        };
        if status != ERROR_SUCCESS {
            return Err(registry_error("write", status));
        }
        Ok(())
    }

    fn remove(&self) -> Result<(), String> {
        let name = wide(VALUE);
        // SAFETY: a NUL-terminated name in a key we hold.
        match unsafe { RegDeleteValueW(self.0, name.as_ptr()) } {
            ERROR_SUCCESS | ERROR_FILE_NOT_FOUND => Ok(()),
            status => Err(registry_error("remove", status)),
        }
    }
}

impl Drop for RunKey {
    fn drop(&mut self) {
        // SAFETY: the key opened in `open`.
        unsafe { RegCloseKey(self.0) };
    }
}

/// The command line the Run value holds.
fn command_for(exe: &Path) -> String {
    format!("\"{}\" --hidden", exe.display())
}

/// Whether a Run value is one this app wrote.
fn is_ours(command: &str) -> bool {
    command.to_lowercase().contains("ssetray") && command.trim_end().ends_with("--hidden")
}

/// Make the autostart entry match `enabled`.
pub fn apply(enabled: bool) -> Result<(), String> {
    let exe =
        std::env::current_exe().map_err(|error| format!("cannot find this program: {error}"))?;
    let key = RunKey::open()?;
    let existing = key.read()?;
    if existing.as_deref().is_some_and(|command| !is_ours(command)) {
        // The user's own value: neither replaced nor removed.
        return Ok(());
    }
    if !enabled {
        return key.remove();
    }
    let command = command_for(&exe);
    if existing.as_deref() == Some(command.as_str()) {
        return Ok(());
    }
    key.write(&command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_value_this_app_wrote_is_ours() {
        let ours = command_for(Path::new(r"C:\Program Files\SSE Tray\ssetray.exe"));
        assert_eq!(ours, r#""C:\Program Files\SSE Tray\ssetray.exe" --hidden"#);
        assert!(is_ours(&ours));
        assert!(!is_ours(r#""C:\Tools\other.exe" --hidden"#));
        assert!(!is_ours(r#""C:\Tools\ssetray.exe" --my-flag"#));
    }
}

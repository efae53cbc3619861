//! Start at login on Windows: the value "SSE Tray" under
//! `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, the user's own
//! (no administrator needed), which Windows' Startup apps page lists and
//! can turn off.
//!
//! Only a value this app wrote (a command line naming `ssetray` and ending
//! in `--hidden`) is replaced or removed: another one under the same name
//! is the user's.

use std::path::Path;

use windows_sys::Win32::System::Registry::{KEY_QUERY_VALUE, KEY_SET_VALUE};

use crate::core::win32::UserKey;

const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
const VALUE: &str = "SSE Tray";

fn registry_error(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |error| format!("cannot {what} the autostart entry (HKCU\\{RUN_KEY}): {error}")
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
    let key =
        UserKey::open(RUN_KEY, KEY_QUERY_VALUE | KEY_SET_VALUE).map_err(registry_error("open"))?;
    let existing = key.string(VALUE).map_err(registry_error("read"))?;
    if existing.as_deref().is_some_and(|command| !is_ours(command)) {
        // The user's own value: neither replaced nor removed.
        return Ok(());
    }
    if !enabled {
        return key.remove(VALUE).map_err(registry_error("remove"));
    }
    let command = command_for(&exe);
    if existing.as_deref() == Some(command.as_str()) {
        return Ok(());
    }
    key.set_string(VALUE, &command)
        .map_err(registry_error("write"))
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

//! Start at login on Linux (and other XDG desktops): an XDG autostart
//! entry. Only an entry this app wrote (it carries [`MARK`]) is ever
//! replaced or removed: one the user made by hand, under the same name, is
//! theirs.

use std::path::{Path, PathBuf};

/// The line that tells our entry from a user's own.
const MARK: &str = "X-SSETray-Written-By=ssetray";

fn entry_path() -> Option<PathBuf> {
    Some(
        dirs::config_dir()?
            .join("autostart")
            .join("ssetray.desktop"),
    )
}

/// Make the autostart entry match `enabled`.
pub fn apply(enabled: bool) -> Result<(), String> {
    let Some(path) = entry_path() else {
        return Err("cannot find the config folder for the autostart entry".into());
    };
    let exe =
        std::env::current_exe().map_err(|error| format!("cannot find this program: {error}"))?;
    apply_at(&path, enabled, &exe)
}

fn apply_at(path: &Path, enabled: bool, exe: &Path) -> Result<(), String> {
    let existing = match crate::core::private_files::read_checked(path, 1024 * 1024) {
        Ok(bytes) => bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let ours = existing
        .as_deref()
        .is_some_and(|text| text.lines().any(|line| line.trim() == MARK));
    if existing.is_some() && !ours {
        // The user's own entry: neither replaced nor removed.
        return Ok(());
    }
    if !enabled {
        return match std::fs::remove_file(path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot remove {}: {error}", path.display()))
            }
            _ => Ok(()),
        };
    }
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=SSE Tray\nComment=Server-Sent Events in your system tray\nExec=\"{}\" --hidden\nIcon=ssetray\nTerminal=false\nX-GNOME-Autostart-enabled=true\n{MARK}\n",
        exe.display()
    );
    if existing.as_deref() == Some(entry.as_str()) {
        return Ok(());
    }
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    }
    std::fs::write(path, entry).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_entry_this_app_wrote_is_replaced_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("autostart/ssetray.desktop");
        let exe = Path::new("/usr/bin/ssetray");
        apply_at(&path, true, exe).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(
            written.contains("Exec=\"/usr/bin/ssetray\" --hidden"),
            "{written}"
        );
        apply_at(&path, false, exe).unwrap();
        assert!(!path.exists(), "ours is removed when turned off");
        // The user's own entry stays, whichever way the setting goes.
        let own = "[Desktop Entry]\nType=Application\nExec=ssetray --hidden --my-flag\n";
        std::fs::write(&path, own).unwrap();
        apply_at(&path, false, exe).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), own);
        apply_at(&path, true, exe).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), own);
    }
}

//! Start at login: an XDG autostart entry, written or removed to follow the
//! `autostart` setting. It starts `ssetray --hidden`, straight into the tray.

use std::path::PathBuf;

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
    if !enabled {
        return match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("cannot remove {}: {error}", path.display()))
            }
            _ => Ok(()),
        };
    }
    let exe =
        std::env::current_exe().map_err(|error| format!("cannot find this program: {error}"))?;
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=SSE Tray\nComment=Server-Sent Events in your system tray\nExec=\"{}\" --hidden\nIcon=ssetray\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        exe.display()
    );
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    }
    std::fs::write(&path, entry)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

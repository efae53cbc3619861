//! Files and folders that are the user's alone: the settings (which may
//! hold header tokens) and the history (what the servers sent). Folders
//! 0700 and files 0600 on Unix, set on every save and open rather than
//! trusted from the umask, so a file once made readable by others is made
//! private again.

use std::io;
use std::path::Path;

/// Create `folder` (and its parents) if missing, and make it the user's
/// alone. Parents that already exist are left as they are: they are not
/// ours (`~/.config`).
pub fn private_folder(folder: &Path) -> io::Result<()> {
    std::fs::create_dir_all(folder)?;
    set_mode(folder, 0o700)
}

/// Make an existing file the user's alone; a missing one is fine.
pub fn make_private(file: &Path) -> io::Result<()> {
    match set_mode(file, 0o600) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Create `file` empty, readable by the user alone, unless it exists; then
/// make it private either way.
pub fn create_private(file: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?;
    make_private(file)
}

/// Write `bytes` to a new file readable by the user alone (replacing any).
pub fn write_private(file: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(file)?;
    // An existing file keeps its mode through open: set it.
    make_private(file)?;
    out.write_all(bytes)?;
    out.sync_all()
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(path: &Path, _mode: u32) -> io::Result<()> {
    // Windows: the user's profile folders are private by their ACLs.
    std::fs::metadata(path).map(|_| ())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_and_folders_are_the_users_alone_even_after_being_opened_up() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/ssetray");
        private_folder(&folder).unwrap();
        assert_eq!(mode(&folder), 0o700);
        let file = folder.join("settings.toml");
        write_private(&file, b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        write_private(&file, b"y").unwrap();
        private_folder(&folder).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(std::fs::read(&file).unwrap(), b"y");
        let other = folder.join("history.db");
        create_private(&other).unwrap();
        assert_eq!(mode(&other), 0o600);
        assert!(make_private(&folder.join("missing")).is_ok());
    }
}

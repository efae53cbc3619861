//! Files and folders that are the user's alone: the settings (which may
//! hold header tokens) and the history (what the servers sent). Folders
//! 0700 and files 0600 on Unix, set on every save and open rather than
//! trusted from the umask, so a file once made readable by others is made
//! private again.
//!
//! They are also checked to be what they claim before they are read or
//! opened: a regular file (or a folder) of the user's own, not a named pipe,
//! a device or a socket (reading a FIFO blocks for ever, a device never
//! ends), and not a symbolic link that leads out of the app's folder. A read
//! has a size cap. So a settings path that is something else gives an error
//! naming the path and the fix, and the app starts on its defaults.

use std::io::{self, Read};
use std::path::Path;

/// Linux's and the BSDs' value differ; opening without blocking matters only
/// for what is not a regular file, which the checks refuse anyway.
#[cfg(target_os = "linux")]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(all(unix, not(target_os = "linux")))]
const O_NONBLOCK: i32 = 0x0004;

/// The largest settings file read (a settings file of a hundred
/// subscriptions is some tens of kB).
pub const MAX_SETTINGS_BYTES: u64 = 4 * 1024 * 1024;

/// What a path is, in the words an error shows.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a file"
    } else {
        "something other than a file"
    }
}

fn refused(path: &Path, what: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what}; SSE Tray only uses a regular file of your own there. Move {} away (SSE Tray then starts from its defaults)",
            path.display()
        ),
    )
}

/// Check that `file` is a regular file of the user's own, or missing
/// (`Ok(false)`). A symbolic link is followed only when it leads to a file
/// in the same folder (a link from a dotfiles folder elsewhere is refused,
/// as it would let whoever controls that folder choose what is read).
pub fn check_regular_file(file: &Path) -> io::Result<bool> {
    let meta = match std::fs::symlink_metadata(file) {
        Ok(meta) => meta,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(error),
    };
    let meta = if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(file).map_err(|error| {
            refused(
                file,
                format!("it is a symbolic link that leads nowhere ({error})"),
            )
        })?;
        let folder = file
            .parent()
            .and_then(|folder| std::fs::canonicalize(folder).ok())
            .unwrap_or_default();
        if target.parent() != Some(folder.as_path()) {
            return Err(refused(
                file,
                format!(
                    "it is a symbolic link out of its folder, to {}",
                    target.display()
                ),
            ));
        }
        std::fs::symlink_metadata(&target)?
    } else {
        meta
    };
    if !meta.file_type().is_file() {
        return Err(refused(
            file,
            format!("it is {}, not a regular file", kind_of(&meta)),
        ));
    }
    check_owner(file, &meta)?;
    Ok(true)
}

/// Check that an existing `folder` is a folder of the user's own.
pub fn check_folder(folder: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(folder)?;
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a folder; move {} away so that SSE Tray can make its folder there",
                kind_of(&meta),
                folder.display()
            ),
        ));
    }
    check_owner(folder, &meta)
}

#[cfg(unix)]
fn check_owner(path: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() == current_uid() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "it belongs to user {}, not to you; move {} away, or make it yours",
            meta.uid(),
            path.display()
        ),
    ))
}

#[cfg(not(unix))]
fn check_owner(_path: &Path, _meta: &std::fs::Metadata) -> io::Result<()> {
    // Windows: the user's profile folders are private by their ACLs.
    Ok(())
}

/// This process's user.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of /proc/self is this process's user; no libc call needed.
    std::fs::metadata("/proc/self")
        .map(|meta| meta.uid())
        .unwrap_or(0)
}

/// Read a private file whole, at most `max_bytes`; `None` when it is
/// missing. Checked first, then opened without blocking, so a path that is
/// something other than a file never hangs the caller.
pub fn read_checked(file: &Path, max_bytes: u64) -> io::Result<Option<Vec<u8>>> {
    if !check_regular_file(file)? {
        return Ok(None);
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Swapped for a FIFO between the check and the open: still no hang.
        options.custom_flags(O_NONBLOCK);
    }
    let opened = match options.open(file) {
        Ok(opened) => opened,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let meta = opened.metadata()?;
    if !meta.is_file() {
        return Err(refused(
            file,
            format!("it is {}, not a regular file", kind_of(&meta)),
        ));
    }
    let mut bytes = Vec::new();
    opened.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} MiB, which no settings file is; move {} away (SSE Tray then starts from its defaults)",
                max_bytes / (1024 * 1024),
                file.display()
            ),
        ));
    }
    Ok(Some(bytes))
}

/// Create `folder` (and its parents) if missing, and make it the user's
/// alone. Parents that already exist are left as they are: they are not
/// ours (`~/.config`).
pub fn private_folder(folder: &Path) -> io::Result<()> {
    if let Err(error) = std::fs::create_dir_all(folder) {
        // Something that is not a folder in the way says what it is.
        check_folder(folder)?;
        return Err(error);
    }
    check_folder(folder)?;
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
    check_regular_file(file)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        // Swapped for a FIFO after the check: an error, not a hang.
        options.custom_flags(O_NONBLOCK);
    }
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

    #[test]
    fn only_regular_files_of_the_folder_are_read_and_never_without_end() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.toml");
        assert_eq!(read_checked(&file, 100).unwrap(), None);
        std::fs::write(&file, b"a = 1\n").unwrap();
        assert_eq!(read_checked(&file, 100).unwrap().unwrap(), b"a = 1\n");
        // Over the cap: an error that says so, not a truncated file.
        let error = read_checked(&file, 3).unwrap_err().to_string();
        assert!(error.contains("larger than"), "{error}");
        // A link inside the folder is followed; one out of it is not.
        let inside = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&file, &inside).unwrap();
        assert!(read_checked(&inside, 100).unwrap().is_some());
        let outside = dir.path().join("out.toml");
        std::os::unix::fs::symlink("/etc/hostname", &outside).unwrap();
        let error = read_checked(&outside, 100).unwrap_err().to_string();
        assert!(error.contains("out of its folder"), "{error}");
        // A device, a FIFO and a folder are named for what they are, at once.
        let error = read_checked(Path::new("/dev/zero"), 100)
            .unwrap_err()
            .to_string();
        assert!(error.contains("a device"), "{error}");
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let error = read_checked(&fifo, 100).unwrap_err().to_string();
        assert!(
            error.contains("named pipe") && error.contains("Move"),
            "{error}"
        );
        let error = create_private(&fifo).unwrap_err().to_string();
        assert!(error.contains("named pipe"), "{error}");
        let error = read_checked(dir.path(), 100).unwrap_err().to_string();
        assert!(error.contains("a folder"), "{error}");
        // A file where the folder should be.
        let error = private_folder(&file).unwrap_err().to_string();
        assert!(error.contains("not a folder"), "{error}");
    }
}

//! The Unix half of the local socket: a socket file in a folder of the
//! user's own, and a lock file that makes the app single-instance.
//!
//! Why each piece:
//! - `accept` errors (out of file descriptors) back off instead of spinning.
//! - The first instance holds an exclusive lock (`flock`) on
//!   `ssetray.lock` beside the socket for its whole life: two starts at the
//!   same moment cannot both bind, and only the holder ever removes a stale
//!   socket.
//! - Both ends check the other's uid (`SO_PEERCRED`), and the folder must be
//!   the user's own, 0700.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc};

use super::connection::{io_error, Client, Connection, Served, MAX_EVENT_LINE};
use super::{Incoming, IpcError, MAX_LINE};

/// Where the socket lives. `XDG_RUNTIME_DIR` is private to the user by the
/// specification; without it, a folder of our own in the temp dir, made 0700.
pub fn socket_path() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("ssetray-{}", current_uid())));
    base.join("ssetray").join("ssetray.sock")
}

/// The socket for a test, in its own folder.
#[cfg(test)]
pub(super) fn address_in(dir: &Path) -> PathBuf {
    dir.join("run/ssetray/ssetray.sock")
}

use crate::core::private_files::current_uid;

/// The first instance's hold on the socket: the listener and the lock that
/// keeps a second instance out, both for the life of the process.
pub struct Listener {
    listener: UnixListener,
    _lock: std::fs::File,
}

/// Bind the socket, or find that another instance holds it.
pub enum Bound {
    Listener(Listener),
    AlreadyRunning,
}

/// Make the socket's folder, and check that it is the user's own and
/// nobody else's to enter: a folder in a shared temp dir might have been
/// made by someone else first.
fn own_folder(folder: &Path) -> Result<(), IpcError> {
    let io = io_error(folder);
    std::fs::create_dir_all(folder).map_err(&io)?;
    // The folder above too: whoever owns it could swap ours for another.
    for checked in [Some(folder), folder.parent()].into_iter().flatten() {
        let meta = std::fs::metadata(checked).map_err(io_error(checked))?;
        if meta.uid() != current_uid() {
            return Err(io_error(checked)(std::io::Error::other(format!(
                "the folder belongs to user {}, not to you; remove it or set XDG_RUNTIME_DIR",
                meta.uid()
            ))));
        }
    }
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Bind the app's socket: folder 0700, socket 0600, under the lock.
pub async fn bind(path: &Path) -> Result<Bound, IpcError> {
    let io = io_error(path);
    if let Some(folder) = path.parent() {
        own_folder(folder)?;
    }
    let lock_path = path.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Bound::AlreadyRunning),
        Err(std::fs::TryLockError::Error(error)) => return Err(io_error(&lock_path)(error)),
    }
    // Ours now: a socket file left here is stale (its process is gone).
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(io(error)),
        _ => {}
    }
    let listener = UnixListener::bind(path).map_err(&io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(Bound::Listener(Listener {
        listener,
        _lock: lock,
    }))
}

fn connection(stream: UnixStream, max_line: usize) -> Connection {
    let (read, write) = stream.into_split();
    Connection::new(read, write, max_line)
}

/// Accept connections for as long as the process lives. Requests go to
/// `requests`; a subscribed connection gets every event as a line.
pub async fn serve<E: Serialize + Clone + Send + Sync + 'static>(
    listener: Listener,
    requests: mpsc::Sender<Incoming>,
    events: broadcast::Sender<E>,
) {
    let served = Served::new(requests, events);
    let mut backoff = Duration::from_millis(10);
    loop {
        let stream = match listener.listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::from_millis(10);
                stream
            }
            Err(error) => {
                // Out of file descriptors, most likely: wait for some to be
                // given back rather than spin.
                tracing::warn!("the local socket cannot accept: {error}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let peer = stream.peer_cred().map(|cred| cred.uid());
        let connection = connection(stream, MAX_LINE);
        match peer {
            Ok(uid) if uid == current_uid() => served.serve(connection),
            Ok(uid) => {
                tracing::warn!(uid, "refused a local connection from another user");
                tokio::spawn(connection.refuse("the socket belongs to another user"));
            }
            Err(error) => tracing::debug!("a local connection without credentials: {error}"),
        }
    }
}

/// Connect to the running app; refuses a socket that another user's
/// process answers.
pub async fn connect(path: &Path) -> Result<Client, IpcError> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|_| IpcError::NotRunning(path.to_path_buf()))?;
    let uid = stream.peer_cred().map_err(io_error(path))?.uid();
    if uid != current_uid() {
        return Err(IpcError::Protocol(format!(
            "the process answering on {} is user {uid}'s, not yours",
            path.display()
        )));
    }
    Ok(Client::over(connection(stream, MAX_EVENT_LINE), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn folder_and_socket_are_private_and_the_lock_decides_single_instance() {
        let dir = tempfile::tempdir().unwrap();
        let path = address_in(dir.path());
        let Bound::Listener(_listener) = bind(&path).await.unwrap() else {
            panic!("nothing else runs")
        };
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));
        // The lock, not the socket file, decides: with the file gone, a
        // second start still finds the first.
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ssetray/ssetray.sock");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(matches!(bind(&path).await.unwrap(), Bound::Listener(_)));
    }
}

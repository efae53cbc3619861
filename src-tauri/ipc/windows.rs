//! The Windows half of the local socket: a named pipe,
//! `\\.\pipe\ssetray-<the user's SID>`.
//!
//! Why each piece:
//! - The pipe's security descriptor grants the user alone (`D:P(A;;GA;;;SID)`,
//!   no inherited entries): another user's process cannot even open it.
//! - The first instance holds a named mutex (`Local\ssetray-<SID>`, open to
//!   the user alone) for its whole life, as the Unix half holds its lock
//!   file: a second start finds it taken and hands over. The pipe's first
//!   instance is also made with `FILE_FLAG_FIRST_PIPE_INSTANCE`, so that
//!   another user's process squatting the name is not served to (Wine
//!   ignores that flag; the mutex alone decides there).
//! - Remote clients are rejected; both ends also check whose process the
//!   other is (`GetNamedPipeClientProcessId`/`…ServerProcessId`, then its
//!   token's user), as the Unix half does with `SO_PEERCRED`.
//! - A new pipe instance is made before a connected one is handed over, so
//!   a client never finds the name missing between two connections.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeServer, ServerOptions};
use tokio::sync::{broadcast, mpsc};
use windows_sys::Win32::Foundation::{
    GetLastError, LocalFree, ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_PIPE_BUSY,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES};
use windows_sys::Win32::System::Pipes::{GetNamedPipeClientProcessId, GetNamedPipeServerProcessId};
use windows_sys::Win32::System::Threading::CreateMutexW;

use super::connection::{io_error, Client, Connection, Served, MAX_EVENT_LINE};
use super::{Incoming, IpcError, MAX_LINE};
use crate::core::win32::{current_user_sid, process_user_sid, wide};

/// The pipe's name. Pipes share one namespace for the whole machine, so the
/// name carries the user's SID.
pub fn socket_path() -> PathBuf {
    let user = current_user_sid().unwrap_or_else(|_| "user".into());
    PathBuf::from(format!(r"\\.\pipe\ssetray-{user}"))
}

/// A pipe for a test, named after its folder.
#[cfg(test)]
pub(super) fn address_in(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    PathBuf::from(format!(
        r"\\.\pipe\ssetray-test-{}",
        name.unwrap_or_default()
    ))
}

/// The first instance's hold on the pipe: the instance lock, and a pipe
/// instance waiting for a client.
pub struct Listener {
    name: PathBuf,
    waiting: NamedPipeServer,
    _lock: OwnedHandle,
}

/// Create the pipe, or find that another instance holds it.
pub enum Bound {
    Listener(Listener),
    AlreadyRunning,
}

/// A security descriptor that grants the user alone, freed on drop.
struct UserOnly(PSECURITY_DESCRIPTOR);

impl UserOnly {
    fn new() -> io::Result<UserOnly> {
        let sddl = wide(&format!("D:P(A;;GA;;;{})", current_user_sid()?));
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `sddl` is NUL-terminated; the descriptor is freed on drop.
        let done = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if done == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(UserOnly(descriptor))
    }
}

impl Drop for UserOnly {
    fn drop(&mut self) {
        // SAFETY: allocated by the conversion above with LocalAlloc.
        unsafe { LocalFree(self.0) };
    }
}

/// One instance of the pipe, open to the user alone.
fn create(name: &Path, first: bool) -> io::Result<NamedPipeServer> {
    let descriptor = UserOnly::new()?;
    let mut attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor.0,
        bInheritHandle: 0,
    };
    // SAFETY: `attributes` and the descriptor it points at live until the
    // call returns, which is all CreateNamedPipeW needs.
    unsafe {
        ServerOptions::new()
            .first_pipe_instance(first)
            .reject_remote_clients(true)
            .create_with_security_attributes_raw(
                name,
                (&mut attributes as *mut SECURITY_ATTRIBUTES).cast::<c_void>(),
            )
    }
}

/// The instance lock: a named mutex beside the pipe's name, `None` when
/// another process holds it.
fn instance_lock(path: &Path) -> io::Result<Option<OwnedHandle>> {
    let pipe = path.file_name().unwrap_or_default().to_string_lossy();
    let name = wide(&format!(r"Local\{pipe}"));
    let descriptor = UserOnly::new()?;
    let attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor.0,
        bInheritHandle: 0,
    };
    // SAFETY: the name and attributes live for the call; the handle is
    // owned below.
    let mutex = unsafe { CreateMutexW(&attributes, 0, name.as_ptr()) };
    // SAFETY: a plain call, right after CreateMutexW.
    let error = unsafe { GetLastError() };
    if mutex.is_null() {
        if error == ERROR_ACCESS_DENIED {
            // Made by someone who did not let us in: held, not ours.
            return Ok(None);
        }
        return Err(io::Error::from_raw_os_error(error as i32));
    }
    // SAFETY: a handle just made, owned here alone.
    let mutex = unsafe { OwnedHandle::from_raw_handle(mutex) };
    if error == ERROR_ALREADY_EXISTS {
        return Ok(None);
    }
    Ok(Some(mutex))
}

/// Take the instance lock and create the app's pipe as its first instance.
pub async fn bind(path: &Path) -> Result<Bound, IpcError> {
    let Some(lock) = instance_lock(path).map_err(io_error(path))? else {
        return Ok(Bound::AlreadyRunning);
    };
    match create(path, true) {
        Ok(waiting) => Ok(Bound::Listener(Listener {
            name: path.to_path_buf(),
            waiting,
            _lock: lock,
        })),
        // The name is taken: the app runs already (or someone else holds
        // it, which `connect` then finds out and says).
        Err(error) if error.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) => {
            Ok(Bound::AlreadyRunning)
        }
        Err(error) => Err(io_error(path)(error)),
    }
}

fn connection<S>(pipe: S, max_line: usize) -> Connection
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(pipe);
    Connection::new(read, write, max_line)
}

/// Whether the process behind `pid` is this user's.
fn is_users(pid: io::Result<u32>) -> io::Result<bool> {
    Ok(process_user_sid(pid?)? == current_user_sid()?)
}

/// Serve clients for as long as the process lives. Requests go to
/// `requests`; a subscribed connection gets every event as a line.
pub async fn serve<E: Serialize + Clone + Send + Sync + 'static>(
    listener: Listener,
    requests: mpsc::Sender<Incoming>,
    events: broadcast::Sender<E>,
) {
    let served = Served::new(requests, events);
    let Listener {
        name,
        mut waiting,
        _lock,
    } = listener;
    let mut backoff = Duration::from_millis(10);
    loop {
        if let Err(error) = waiting.connect().await {
            // A client that came and went at once: this instance is spent.
            tracing::debug!("a local client left before it was served: {error}");
        }
        // The next instance first, so that the name never goes missing.
        let next = loop {
            match create(&name, false) {
                Ok(next) => break next,
                Err(error) => {
                    tracing::warn!("the local pipe cannot take another client: {error}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        };
        backoff = Duration::from_millis(10);
        let connected = std::mem::replace(&mut waiting, next);
        let peer = client_pid(&connected);
        let connection = connection(connected, MAX_LINE);
        match is_users(peer) {
            Ok(true) => served.serve(connection),
            Ok(false) => {
                tracing::warn!("refused a local connection from another user");
                tokio::spawn(connection.refuse("the pipe belongs to another user"));
            }
            Err(error) => tracing::debug!("a local client that cannot be told apart: {error}"),
        }
    }
}

fn client_pid(pipe: &NamedPipeServer) -> io::Result<u32> {
    let mut pid = 0;
    // SAFETY: a pipe handle owned by `pipe`, alive for the call.
    if unsafe { GetNamedPipeClientProcessId(pipe.as_raw_handle(), &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// Connect to the running app; refuses a pipe that another user's process
/// serves.
pub async fn connect(path: &Path) -> Result<Client, IpcError> {
    let mut tries = 0;
    let pipe = loop {
        match ClientOptions::new().open(path) {
            Ok(pipe) => break pipe,
            // Every instance busy for a moment (a new one is being made).
            Err(error) if error.raw_os_error() == Some(ERROR_PIPE_BUSY as i32) && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => return Err(IpcError::NotRunning(path.to_path_buf())),
        }
    };
    let mut pid = 0;
    // SAFETY: a pipe handle owned by `pipe`, alive for the call.
    let server = if unsafe { GetNamedPipeServerProcessId(pipe.as_raw_handle(), &mut pid) } == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    };
    if !is_users(server).map_err(io_error(path))? {
        return Err(IpcError::Protocol(format!(
            "the process answering on {} is another user's, not yours",
            path.display()
        )));
    }
    Ok(Client::over(connection(pipe, MAX_EVENT_LINE), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pipe_grants_the_user_alone() {
        let sddl = format!("D:P(A;;GA;;;{})", current_user_sid().unwrap());
        assert!(sddl.starts_with("D:P(A;;GA;;;S-1-"), "{sddl}");
        let dir = tempfile::tempdir().unwrap();
        let path = address_in(dir.path());
        let Bound::Listener(_listener) = bind(&path).await.unwrap() else {
            panic!("nothing else runs")
        };
        // The same name again is refused: the first instance holds it.
        assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));
    }
}

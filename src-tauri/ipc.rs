//! The local socket between the tray process and everything else.
//!
//! One Unix socket in `$XDG_RUNTIME_DIR/ssetray/` (folder 0700, socket 0600)
//! carries requests to the tray process (open the window, mark read,
//! reconnect, settings changed, pause) and, to a connection that subscribes,
//! the engine's events and the connection state. It also makes the app
//! single-instance: a second start finds the socket answering and hands over.
//!
//! The protocol is JSON, one object a line, because both ends are ours and a
//! human can speak it with `socat` when debugging. Every connection is checked:
//! the peer must be the same user (`SO_PEERCRED`), a line may be at most
//! [`MAX_LINE`] bytes, and a malformed request gets an error reply, never a
//! crash.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Longest request line accepted.
pub const MAX_LINE: usize = 64 * 1024;

/// Which view of the window to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum View {
    History,
    Login,
    Settings,
    Status,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::History => "history",
            View::Login => "login",
            View::Settings => "settings",
            View::Status => "status",
        }
    }
}

/// What a client asks of the tray process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    OpenWindow {
        view: Option<View>,
    },
    MarkRead {
        id: i64,
    },
    MarkAllRead,
    DeleteEntry {
        id: i64,
    },
    ClearHistory,
    Reconnect,
    /// Forget where the stream stopped: the next connection sends no
    /// `Last-Event-ID`.
    ResetResumePoint,
    /// The settings file changed: reload and apply it.
    SettingsChanged,
    /// Pause notifications for `minutes`, or until resumed when `None`.
    Pause {
        minutes: Option<u32>,
    },
    Resume,
    /// The current status (connection state, unread count, pause).
    Status,
    /// Stream the engine's events to this connection from now on.
    Subscribe,
    Quit,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Ok,
    Status { status: serde_json::Value },
    Error { message: String },
}

/// Decode one request line: bounded, and any bytes at all give either a
/// request or an error in words, never a crash (a fuzz target checks it).
pub fn decode_request(line: &[u8]) -> Result<Request, String> {
    if line.len() > MAX_LINE {
        return Err(format!("request over {MAX_LINE} bytes"));
    }
    serde_json::from_slice(line).map_err(|error| format!("not a request: {error}"))
}

/// A request with the way to answer it, for the tray process's main loop.
pub struct Incoming {
    pub request: Request,
    pub reply: oneshot::Sender<Reply>,
}

/// Where the socket lives. `XDG_RUNTIME_DIR` is private to the user by the
/// specification; without it, a folder of our own in the temp dir, made 0700.
pub fn socket_path() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("ssetray-{}", current_uid())));
    base.join("ssetray").join("ssetray.sock")
}

#[cfg(unix)]
fn current_uid() -> u32 {
    // The owner of /proc/self is this process's user; no libc call needed.
    std::fs::metadata("/proc/self")
        .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta))
        .unwrap_or(0)
}

#[cfg(not(unix))]
fn current_uid() -> u32 {
    0
}

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error("SSE Tray is not running (nothing answers on {0}). Start it with `ssetray`.")]
    NotRunning(PathBuf),
    #[error("the local socket {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the tray process answered something unexpected: {0}")]
    Protocol(String),
}

#[cfg(unix)]
pub use unix::*;

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use tokio::net::{UnixListener, UnixStream};

    /// Bind the socket, or find that another instance holds it.
    pub enum Bound {
        Listener(UnixListener),
        AlreadyRunning,
    }

    /// Bind the app's socket: folder 0700, socket 0600. A stale socket (no
    /// one answers) is replaced.
    pub async fn bind(path: &Path) -> Result<Bound, IpcError> {
        let io = |source| IpcError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(io)?;
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        if UnixStream::connect(path).await.is_ok() {
            return Ok(Bound::AlreadyRunning);
        }
        match std::fs::remove_file(path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(io(error)),
            _ => {}
        }
        let listener = UnixListener::bind(path).map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        Ok(Bound::Listener(listener))
    }

    /// Accept connections until the listener fails. Requests go to
    /// `requests`; a subscribed connection gets every engine event as a line.
    pub async fn serve<E: Serialize + Clone + Send + Sync + 'static>(
        listener: UnixListener,
        requests: mpsc::Sender<Incoming>,
        events: broadcast::Sender<E>,
    ) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let requests = requests.clone();
            let events = events.clone();
            tokio::spawn(async move {
                if let Err(error) = connection(stream, requests, events).await {
                    tracing::debug!("local connection ended: {error}");
                }
            });
        }
    }

    async fn connection<E: Serialize + Clone + Send + Sync + 'static>(
        stream: UnixStream,
        requests: mpsc::Sender<Incoming>,
        events: broadcast::Sender<E>,
    ) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let peer = read.as_ref().peer_cred()?;
        if peer.uid() != super::current_uid() {
            tracing::warn!(
                uid = peer.uid(),
                "refused a local connection from another user"
            );
            let reply = Reply::Error {
                message: "refused: the socket belongs to another user".into(),
            };
            write_line(&mut write, &reply).await?;
            return Ok(());
        }
        let mut reader = BufReader::new(read);
        let mut subscription: Option<broadcast::Receiver<E>> = None;
        let mut line = Vec::new();
        loop {
            line.clear();
            let read_line = async {
                let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
                limited.read_until(b'\n', &mut line).await
            };
            let next_event = async {
                match subscription.as_mut() {
                    Some(receiver) => receiver.recv().await.ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                read = read_line => {
                    if read? == 0 {
                        return Ok(());
                    }
                    let too_long = line.len() > MAX_LINE;
                    let request = match decode_request(&line) {
                        Ok(request) => request,
                        Err(message) => {
                            write_line(&mut write, &Reply::Error { message }).await?;
                            // The rest of an over-long line cannot be told
                            // from a next request: end the connection.
                            if too_long {
                                return Ok(());
                            }
                            continue;
                        }
                    };
                    if request == Request::Subscribe {
                        subscription = Some(events.subscribe());
                        write_line(&mut write, &Reply::Ok).await?;
                        continue;
                    }
                    let (reply_tx, reply_rx) = oneshot::channel();
                    if requests.send(Incoming { request, reply: reply_tx }).await.is_err() {
                        return Ok(());
                    }
                    let reply = reply_rx.await.unwrap_or(Reply::Error { message: "the app is quitting".into() });
                    write_line(&mut write, &reply).await?;
                }
                Some(event) = next_event => {
                    write_line(&mut write, &event).await?;
                }
            }
        }
    }

    async fn write_line(
        write: &mut tokio::net::unix::OwnedWriteHalf,
        value: &impl Serialize,
    ) -> std::io::Result<()> {
        let mut text = serde_json::to_string(value).map_err(std::io::Error::other)?;
        text.push('\n');
        write.write_all(text.as_bytes()).await
    }

    /// A client of the tray process.
    pub struct Client {
        reader: BufReader<tokio::net::unix::OwnedReadHalf>,
        writer: tokio::net::unix::OwnedWriteHalf,
        path: PathBuf,
    }

    impl Client {
        pub async fn connect(path: &Path) -> Result<Client, IpcError> {
            let stream = UnixStream::connect(path)
                .await
                .map_err(|_| IpcError::NotRunning(path.to_path_buf()))?;
            let (read, writer) = stream.into_split();
            Ok(Client {
                reader: BufReader::new(read),
                writer,
                path: path.to_path_buf(),
            })
        }

        /// Send a request and wait for its reply.
        pub async fn request(&mut self, request: &Request) -> Result<Reply, IpcError> {
            let mut text = serde_json::to_string(request)
                .map_err(|error| IpcError::Protocol(error.to_string()))?;
            text.push('\n');
            self.writer
                .write_all(text.as_bytes())
                .await
                .map_err(|source| IpcError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            let line = self.next_line().await?;
            serde_json::from_str(&line).map_err(|_| IpcError::Protocol(line))
        }

        /// Send bytes as they are (tests of what the server refuses).
        pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), IpcError> {
            self.writer
                .write_all(bytes)
                .await
                .map_err(|source| IpcError::Io {
                    path: self.path.clone(),
                    source,
                })
        }

        /// The next line from the tray process (an event, once subscribed).
        pub async fn next_line(&mut self) -> Result<String, IpcError> {
            let mut line = String::new();
            let read = self
                .reader
                .read_line(&mut line)
                .await
                .map_err(|source| IpcError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if read == 0 {
                return Err(IpcError::NotRunning(self.path.clone()));
            }
            Ok(line)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    async fn start(dir: &Path) -> (PathBuf, mpsc::Receiver<Incoming>, broadcast::Sender<String>) {
        let path = dir.join("run/ssetray/ssetray.sock");
        let Bound::Listener(listener) = bind(&path).await.unwrap() else {
            panic!("nothing else runs")
        };
        let (requests_tx, requests) = mpsc::channel(8);
        let (events, _) = broadcast::channel(8);
        tokio::spawn(serve(listener, requests_tx, events.clone()));
        (path, requests, events)
    }

    #[tokio::test]
    async fn requests_replies_events_and_single_instance() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut requests, events) = start(dir.path()).await;
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let folder_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(folder_mode, 0o700);
        assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));

        tokio::spawn(async move {
            while let Some(incoming) = requests.recv().await {
                let reply = match incoming.request {
                    Request::MarkAllRead => Reply::Ok,
                    other => Reply::Error {
                        message: format!("{other:?}"),
                    },
                };
                let _ = incoming.reply.send(reply);
            }
        });
        let mut client = Client::connect(&path).await.unwrap();
        assert_eq!(
            client.request(&Request::MarkAllRead).await.unwrap(),
            Reply::Ok
        );
        assert_eq!(
            client.request(&Request::Subscribe).await.unwrap(),
            Reply::Ok
        );
        events.send("\"hello\"".to_string()).unwrap();
        assert_eq!(
            client.next_line().await.unwrap().trim(),
            "\"\\\"hello\\\"\""
        );
    }

    #[tokio::test]
    async fn malformed_and_oversized_requests_are_refused_without_harm() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _requests, _events) = start(dir.path()).await;
        let mut client = Client::connect(&path).await.unwrap();
        client.send_raw(b"{not json\n").await.unwrap();
        let reply: Reply = serde_json::from_str(&client.next_line().await.unwrap()).unwrap();
        assert!(
            matches!(reply, Reply::Error { ref message } if message.starts_with("not a request"))
        );
        let huge = vec![b'x'; MAX_LINE + 10];
        client.send_raw(&huge).await.unwrap();
        let reply: Reply = serde_json::from_str(&client.next_line().await.unwrap()).unwrap();
        assert!(matches!(reply, Reply::Error { ref message } if message.contains("bytes")));
        // The server goes on serving others.
        let mut other = Client::connect(&path).await.unwrap();
        other.send_raw(b"[]\n").await.unwrap();
        assert!(other.next_line().await.unwrap().contains("error"));
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

//! The Unix half of the local socket: a socket file in a folder of the
//! user's own, a lock file that makes the app single-instance, and a
//! connection type that owns its buffer.
//!
//! Why each piece:
//! - [`Connection`] reads into a buffer it owns, so a read cut short by
//!   another branch of a `select!` (a live event to send) loses no byte of a
//!   half-read request; lines are bounded both ways.
//! - A subscriber that falls behind the live events is told to catch up
//!   (`{"type": "lagged"}`) and goes on receiving, instead of going deaf.
//! - `accept` errors (out of file descriptors) back off instead of spinning,
//!   and at most [`MAX_CONNECTIONS`] clients are served at once.
//! - The first instance holds an exclusive lock (`flock`) on
//!   `ssetray.lock` beside the socket for its whole life: two starts at the
//!   same moment cannot both bind, and only the holder ever removes a stale
//!   socket.
//! - Both ends check the other's uid (`SO_PEERCRED`), and the folder must be
//!   the user's own, 0700.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};

use super::*;

/// Clients served at once: the window, a CLI call or two, with room.
pub const MAX_CONNECTIONS: usize = 32;

/// The longest line a client takes from the tray process: a live event
/// carries an event's data (at most 16 MiB by the settings), escaped as
/// JSON.
pub const MAX_EVENT_LINE: usize = 128 * 1024 * 1024;

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

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> IpcError + '_ {
    move |source| IpcError::Io {
        path: path.to_path_buf(),
        source,
    }
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

/// Accept connections for as long as the process lives. Requests go to
/// `requests`; a subscribed connection gets every event as a line.
pub async fn serve<E: Serialize + Clone + Send + Sync + 'static>(
    listener: Listener,
    requests: mpsc::Sender<Incoming>,
    events: broadcast::Sender<E>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
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
        let mut connection = Connection::new(stream, MAX_LINE);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(async move {
                let busy = Reply::Error {
                    message: format!("busy: {MAX_CONNECTIONS} clients are connected already"),
                };
                let _ = connection.write(&busy).await;
            });
            continue;
        };
        let requests = requests.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(error) = connection.serve(requests, events).await {
                tracing::debug!("local connection ended: {error}");
            }
        });
    }
}

/// One end of a local connection, with the buffer of what was read but not
/// yet taken as a line.
pub struct Connection {
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    buffer: Vec<u8>,
    max_line: usize,
}

/// Why no line could be read.
enum LineError {
    TooLong,
    Io(std::io::Error),
}

impl Connection {
    fn new(stream: UnixStream, max_line: usize) -> Connection {
        let (read, write) = stream.into_split();
        Connection {
            read,
            write,
            buffer: Vec::new(),
            max_line,
        }
    }

    /// The peer's user id.
    fn peer_uid(&self) -> std::io::Result<u32> {
        Ok(self.read.as_ref().peer_cred()?.uid())
    }

    /// The next line (with its newline), `None` at the end of the stream.
    /// Cancel-safe: what was read stays in the buffer for the next call.
    async fn read_line(&mut self) -> Result<Option<Vec<u8>>, LineError> {
        let mut scanned = 0;
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.buffer[scanned..]) {
                let line: Vec<u8> = self.buffer.drain(..scanned + end + 1).collect();
                return Ok(Some(line));
            }
            scanned = self.buffer.len();
            if self.buffer.len() > self.max_line {
                return Err(LineError::TooLong);
            }
            let mut chunk = [0u8; 4096];
            // `read` is cancel-safe: dropped before it completes, it has
            // taken nothing from the socket.
            let read = self.read.read(&mut chunk).await.map_err(LineError::Io)?;
            if read == 0 {
                return Ok(None);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    async fn write(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut text = serde_json::to_string(value).map_err(std::io::Error::other)?;
        text.push('\n');
        self.write.write_all(text.as_bytes()).await
    }

    /// Answer requests, and once subscribed forward events, until the peer
    /// goes.
    async fn serve<E: Serialize + Clone>(
        mut self,
        requests: mpsc::Sender<Incoming>,
        events: broadcast::Sender<E>,
    ) -> std::io::Result<()> {
        let peer = self.peer_uid()?;
        if peer != current_uid() {
            tracing::warn!(uid = peer, "refused a local connection from another user");
            let refused = Reply::Error {
                message: "refused: the socket belongs to another user".into(),
            };
            return self.write(&refused).await;
        }
        let mut subscription: Option<broadcast::Receiver<E>> = None;
        loop {
            let next_event = async {
                match subscription.as_mut() {
                    Some(receiver) => receiver.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                line = self.read_line() => {
                    let line = match line {
                        Ok(Some(line)) => line,
                        Ok(None) => return Ok(()),
                        Err(LineError::Io(error)) => return Err(error),
                        Err(LineError::TooLong) => {
                            // The rest of the line cannot be told from a next
                            // request: answer, and end the connection.
                            let reply = Reply::Error { message: format!("request over {MAX_LINE} bytes") };
                            return self.write(&reply).await;
                        }
                    };
                    let request = match decode_request(&line) {
                        Ok(request) => request,
                        Err(message) => {
                            self.write(&Reply::Error { message }).await?;
                            continue;
                        }
                    };
                    if request == Request::Subscribe {
                        subscription = Some(events.subscribe());
                        self.write(&Reply::Ok).await?;
                        continue;
                    }
                    let (reply, answer) = oneshot::channel();
                    if requests.send(Incoming { request, reply }).await.is_err() {
                        return Ok(());
                    }
                    let reply = answer.await.unwrap_or(Reply::Error { message: "the app is quitting".into() });
                    self.write(&reply).await?;
                }
                event = next_event => match event {
                    Ok(event) => self.write(&event).await?,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        // Too slow to take every event: tell it to read the
                        // state afresh, and go on from the newest.
                        tracing::debug!(missed, "a subscriber fell behind");
                        self.write(&serde_json::json!({"type": "lagged", "value": missed})).await?;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
}

/// A client of the tray process.
pub struct Client {
    connection: Connection,
    path: PathBuf,
}

impl Client {
    /// Connect to the running app; refuses a socket that another user's
    /// process answers.
    pub async fn connect(path: &Path) -> Result<Client, IpcError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|_| IpcError::NotRunning(path.to_path_buf()))?;
        let connection = Connection::new(stream, MAX_EVENT_LINE);
        let uid = connection.peer_uid().map_err(io_error(path))?;
        if uid != current_uid() {
            return Err(IpcError::Protocol(format!(
                "the process answering on {} is user {uid}'s, not yours",
                path.display()
            )));
        }
        Ok(Client {
            connection,
            path: path.to_path_buf(),
        })
    }

    /// Send a request and wait for its reply.
    pub async fn request(&mut self, request: &Request) -> Result<Reply, IpcError> {
        self.connection
            .write(request)
            .await
            .map_err(io_error(&self.path))?;
        let line = self.next_line().await?;
        serde_json::from_str(&line).map_err(|_| IpcError::Protocol(line))
    }

    /// Send bytes as they are (tests of what the server refuses).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), IpcError> {
        self.connection
            .write
            .write_all(bytes)
            .await
            .map_err(io_error(&self.path))
    }

    /// The next line from the tray process (an event, once subscribed).
    pub async fn next_line(&mut self) -> Result<String, IpcError> {
        match self.connection.read_line().await {
            Ok(Some(line)) => Ok(String::from_utf8_lossy(&line).into_owned()),
            Ok(None) => Err(IpcError::NotRunning(self.path.clone())),
            Err(LineError::TooLong) => Err(IpcError::Protocol(format!(
                "a line over {MAX_EVENT_LINE} bytes"
            ))),
            Err(LineError::Io(source)) => Err(IpcError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

#[cfg(test)]
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

    /// Answers `MarkAllRead` with Ok, anything else with an error naming it.
    fn answer(mut requests: mpsc::Receiver<Incoming>) {
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
    }

    #[tokio::test]
    async fn requests_replies_events_and_single_instance() {
        let dir = tempfile::tempdir().unwrap();
        let (path, requests, events) = start(dir.path()).await;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));
        // The lock, not the socket file, decides: with the file gone, a
        // second start still finds the first.
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));
        let (path, requests, events) = {
            drop((requests, events));
            let other = tempfile::tempdir().unwrap().keep();
            start(&other).await
        };
        answer(requests);
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
    async fn a_request_split_around_live_events_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (path, requests, events) = start(dir.path()).await;
        answer(requests);
        let mut client = Client::connect(&path).await.unwrap();
        assert_eq!(
            client.request(&Request::Subscribe).await.unwrap(),
            Reply::Ok
        );
        // Half a request, then events sent meanwhile, then the rest: the
        // half already read must not be lost when the event is written.
        client.send_raw(b"{\"request\":\"mark_").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        events.send("one".into()).unwrap();
        assert!(client.next_line().await.unwrap().contains("one"));
        client.send_raw(b"all_read\"}\n").await.unwrap();
        let reply: Reply = serde_json::from_str(&client.next_line().await.unwrap()).unwrap();
        assert_eq!(reply, Reply::Ok);
    }

    #[tokio::test]
    async fn a_subscriber_that_lags_is_told_to_catch_up_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _requests, events) = start(dir.path()).await;
        let mut client = Client::connect(&path).await.unwrap();
        assert_eq!(
            client.request(&Request::Subscribe).await.unwrap(),
            Reply::Ok
        );
        // Twice the channel's room, before the subscriber reads a line.
        for n in 0..16 {
            events.send(format!("event {n}")).unwrap();
        }
        let mut lines = Vec::new();
        while !lines.iter().any(|line: &String| line.contains("event 15")) {
            lines.push(client.next_line().await.unwrap());
        }
        assert!(
            lines.iter().any(|line| line.contains("\"lagged\"")),
            "{lines:?}"
        );
        // And it still gets what comes next.
        events.send("after".into()).unwrap();
        assert!(client.next_line().await.unwrap().contains("after"));
    }

    #[tokio::test]
    async fn clients_over_the_limit_are_told_so_and_others_still_served() {
        let dir = tempfile::tempdir().unwrap();
        let (path, requests, _events) = start(dir.path()).await;
        answer(requests);
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            let mut client = Client::connect(&path).await.unwrap();
            // A round trip, so the server has taken this one's slot.
            assert_eq!(
                client.request(&Request::MarkAllRead).await.unwrap(),
                Reply::Ok
            );
            held.push(client);
        }
        let mut over = Client::connect(&path).await.unwrap();
        let refused = over.next_line().await.unwrap();
        assert!(refused.contains("busy"), "{refused}");
        held.pop();
        // A slot is free again once a client leaves.
        let mut again = None;
        for _ in 0..100 {
            let mut client = Client::connect(&path).await.unwrap();
            if let Ok(Reply::Ok) = client.request(&Request::MarkAllRead).await {
                again = Some(client);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(again.is_some(), "served once a slot was free");
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

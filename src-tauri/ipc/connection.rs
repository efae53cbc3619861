//! One local connection, the same on every platform: the tray process's
//! side ([`Connection::serve`]) and a client's ([`Client`]).
//!
//! Why it is shaped so:
//! - [`Connection`] reads into a buffer it owns, so a read cut short by
//!   another branch of a `select!` (a live event to send) loses no byte of a
//!   half-read request; lines are bounded both ways.
//! - A subscriber that falls behind the live events is told to catch up
//!   ([`WindowEvent::Lagged`]) and goes on receiving, instead of going deaf.
//! - At most [`MAX_CONNECTIONS`] clients are served at once; one more is
//!   told so and let go.
//!
//! The transport (a Unix socket, a named pipe) and the check of who is at
//! the other end are the platform file's; this file only sees bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};

use super::{
    decode_request, Incoming, IpcError, Reply, Request, WindowEvent, ANSWER_WAIT, MAX_LINE,
};

/// Clients served at once: the window, a CLI call or two, with room.
pub const MAX_CONNECTIONS: usize = 32;

/// The longest line a client takes from the tray process: a live event
/// carries an event's data (at most 16 MiB by the settings), escaped as
/// JSON.
pub const MAX_EVENT_LINE: usize = 128 * 1024 * 1024;

type ReadHalf = Box<dyn AsyncRead + Unpin + Send>;
type WriteHalf = Box<dyn AsyncWrite + Unpin + Send>;

/// One end of a local connection, with the buffer of what was read but not
/// yet taken as a line.
pub struct Connection {
    read: ReadHalf,
    write: WriteHalf,
    buffer: Vec<u8>,
    max_line: usize,
}

/// Why no line could be read.
enum LineError {
    TooLong,
    Io(std::io::Error),
}

impl Connection {
    pub(super) fn new(
        read: impl AsyncRead + Unpin + Send + 'static,
        write: impl AsyncWrite + Unpin + Send + 'static,
        max_line: usize,
    ) -> Connection {
        Connection {
            read: Box::new(read),
            write: Box::new(write),
            buffer: Vec::new(),
            max_line,
        }
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
            // taken nothing from the stream.
            let read = self.read.read(&mut chunk).await.map_err(LineError::Io)?;
            if read == 0 {
                return Ok(None);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    pub(super) async fn write(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut text = serde_json::to_string(value).map_err(std::io::Error::other)?;
        text.push('\n');
        self.write.write_all(text.as_bytes()).await?;
        self.write.flush().await
    }

    /// Tell a peer that is not the user so, and end.
    pub(super) async fn refuse(mut self, why: &str) {
        let refused = Reply::Error {
            message: format!("refused: {why}"),
        };
        let _ = self.write(&refused).await;
    }

    /// Answer requests, and once subscribed forward events, until the peer
    /// goes. The platform half has checked who the peer is.
    async fn serve<E: Serialize + Clone>(
        mut self,
        requests: mpsc::Sender<Incoming>,
        events: broadcast::Sender<E>,
    ) -> std::io::Result<()> {
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
                        self.write(&WindowEvent::Lagged(missed)).await?;
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
}

/// What every accepted connection shares: the way to the main loop, the
/// live events, and the slots that bound how many are served at once.
pub(super) struct Served<E> {
    slots: Arc<Semaphore>,
    requests: mpsc::Sender<Incoming>,
    events: broadcast::Sender<E>,
}

impl<E: Serialize + Clone + Send + Sync + 'static> Served<E> {
    pub(super) fn new(requests: mpsc::Sender<Incoming>, events: broadcast::Sender<E>) -> Self {
        Served {
            slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            requests,
            events,
        }
    }

    /// Serve a connection whose peer is the user, on a task of its own, or
    /// tell it that all slots are taken.
    pub(super) fn serve(&self, mut connection: Connection) {
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            tokio::spawn(async move {
                let busy = Reply::Error {
                    message: format!("busy: {MAX_CONNECTIONS} clients are connected already"),
                };
                let _ = connection.write(&busy).await;
            });
            return;
        };
        let requests = self.requests.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(error) = connection.serve(requests, events).await {
                tracing::debug!("local connection ended: {error}");
            }
        });
    }
}

pub(super) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> IpcError + '_ {
    move |source| IpcError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A client of the tray process.
pub struct Client {
    connection: Connection,
    path: PathBuf,
}

impl Client {
    /// A client over a connection whose other end the platform half has
    /// checked.
    pub(super) fn over(connection: Connection, path: &Path) -> Client {
        Client {
            connection,
            path: path.to_path_buf(),
        }
    }

    /// Send a request and wait for its reply, at most [`ANSWER_WAIT`].
    pub async fn request(&mut self, request: &Request) -> Result<Reply, IpcError> {
        let asked = async {
            self.connection
                .write(request)
                .await
                .map_err(io_error(&self.path))?;
            let line = self.next_line().await?;
            serde_json::from_str(&line).map_err(|_| IpcError::Protocol(line))
        };
        match tokio::time::timeout(ANSWER_WAIT, asked).await {
            Ok(answer) => answer,
            Err(_) => Err(IpcError::NoAnswer(self.path.clone())),
        }
    }

    /// Send bytes as they are (tests of what the server refuses).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), IpcError> {
        self.connection
            .write
            .write_all(bytes)
            .await
            .map_err(io_error(&self.path))?;
        self.connection
            .write
            .flush()
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

//! The local socket between the tray process and everything else.
//!
//! One local socket (on Linux a Unix socket in `$XDG_RUNTIME_DIR/ssetray/`,
//! folder 0700, socket 0600; on Windows a named pipe open to the user alone)
//! carries requests to the tray process (open the window, mark read,
//! reconnect, settings changed, pause) and, to a connection that subscribes,
//! the engine's events and the connection state. It also makes the app
//! single-instance: a second start finds the socket answering and hands over.
//!
//! The protocol is JSON, one object a line, because both ends are ours and a
//! human can speak it with `socat` when debugging. Every connection is checked:
//! the peer must be the same user, a line may be at most
//! [`MAX_LINE`] bytes, and a malformed request gets an error reply, never a
//! crash.
//!
//! This file is the protocol and `connection.rs` one connection, the same on
//! every platform; the transport is one file per platform beside them
//! (`unix.rs`: a Unix socket and a lock file; `windows.rs`: a named pipe),
//! each with the same `socket_path`, `bind`, `serve` and `connect`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::core::entry_view::EntryView;
use crate::core::settings::Subscription;
use crate::protocol::sse::{ConnectionState, SseEvent};

/// Longest request line accepted: an event handed over by `listen --store`
/// at the largest `max_event_bytes`, with room for its fields.
pub const MAX_LINE: usize = 16 * 1024 * 1024 + 64 * 1024;

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
    /// Reconnect the subscription of this name, or all of them.
    Reconnect {
        #[serde(default)]
        subscription: Option<String>,
    },
    /// Forget where the stream stopped: the next connection sends no
    /// `Last-Event-ID` (the subscription of this name, or all).
    ResetResumePoint {
        #[serde(default)]
        subscription: Option<String>,
    },
    /// Follow one more stream (`ssetray subscribe`): saved to the settings
    /// and connected at once, the others untouched.
    AddSubscription {
        subscription: Box<Subscription>,
    },
    /// Stop following a subscription, and delete its history if asked.
    RemoveSubscription {
        name: String,
        #[serde(default)]
        delete_history: bool,
    },
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
    /// Store an event that `ssetray listen --store` received, through the
    /// app's engine (the one writer of the history).
    StoreEvent {
        /// The stream's address (redacted by the sender and again here).
        server: String,
        event_type: String,
        /// The id the event came with, if any (`has_own_id`).
        id: Option<String>,
        /// Where the stream stands after it (`lastEventId`).
        last_event_id: String,
        data: String,
    },
    Quit,
}

impl Request {
    /// The event a `StoreEvent` carries, bounded like the parser's.
    pub fn event_to_store(&self) -> Option<(String, SseEvent)> {
        let Request::StoreEvent {
            server,
            event_type,
            id,
            last_event_id,
            data,
        } = self
        else {
            return None;
        };
        let event = SseEvent {
            event_type: event_type.as_str().into(),
            data: data.clone(),
            last_event_id: crate::protocol::sse::connection::resume_point(last_event_id).into(),
            has_own_id: id.is_some(),
        };
        Some((crate::protocol::url_policy::redacted_text(server), event))
    }
}

/// What the tray icon, the window's status view and `ssetray status` show:
/// the tray process's state, published as a latest value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub state: ConnectionState,
    /// The state in words: "Connected to example.com", "1 of 2 connected
    /// (work: Retrying in 4 s: …)". The tray's tooltip and menu say this.
    pub state_text: String,
    /// The same in a few words, for the window's header: "Connected",
    /// "1 of 2 connected". Both are made at once, by the tray process.
    #[serde(default)]
    pub summary: String,
    /// The store's unread count.
    pub unread: u64,
    /// Notifications paused until then (ms since the epoch); far in the
    /// future for "until resumed".
    pub paused_until_ms: Option<i64>,
    /// How long they stay paused, in words ("until 14:30", "until Tue
    /// 14:30", "until resumed"); none when they are not paused.
    #[serde(default)]
    pub pause_text: Option<String>,
    /// The stream followed, as shown and stored (secrets redacted).
    pub server: String,
    /// Following the built-in demo because no server is configured.
    pub demo: bool,
    pub since_ms: i64,
    pub last_event_ms: Option<i64>,
    pub events_received: u64,
    pub bytes_received: u64,
    pub reconnects: u64,
    /// The settings file could not be used (or a secret in it): why, and
    /// what to do.
    pub settings_problem: Option<String>,
    /// The history cannot be written: why, and what happens meanwhile.
    pub store_problem: Option<String>,
    /// No tray host shows the icon: what to do instead.
    #[serde(default)]
    pub tray_problem: Option<String>,
    /// Each subscription followed, in the settings' order; the fields
    /// above (`state`, `state_text`, counters) sum them up.
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionStatus>,
}

/// One subscription's connection, as the Status view and `ssetray
/// subscriptions` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionStatus {
    pub name: String,
    /// Its stream as stored (secrets redacted).
    pub server: String,
    pub state: ConnectionState,
    pub state_text: String,
    pub since_ms: i64,
    pub last_event_ms: Option<i64>,
    pub events_received: u64,
    pub reconnects: u64,
}

/// How many subscriptions are connected: what the tray's icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connected {
    All,
    Some,
    #[default]
    None,
}

impl Status {
    /// Connected everywhere, somewhere or nowhere (no subscription at all
    /// counts as nowhere).
    pub fn connected(&self) -> Connected {
        let open = self
            .subscriptions
            .iter()
            .filter(|subscription| subscription.state.is_open())
            .count();
        match open {
            0 => Connected::None,
            open if open == self.subscriptions.len() => Connected::All,
            _ => Connected::Some,
        }
    }
}

impl Status {
    /// What is wrong, in words, for the tray's tooltip and menu.
    pub fn problems(&self) -> impl Iterator<Item = &str> {
        self.settings_problem
            .iter()
            .chain(self.store_problem.iter())
            .chain(self.tray_problem.iter())
            .map(String::as_str)
    }
}

/// What goes to a subscribed window: what it shows of each stored event
/// (never the event's raw data), the connection state, the status, and
/// requests to show a view. The window process reads each line back into
/// this type, and the page takes exactly these variants (one table in
/// `ui/live.js`, checked against `tests/js/rust-names.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum WindowEvent {
    Stored(Box<EntryView>),
    /// A subscription's connection state; the status that follows says it
    /// in words.
    State {
        subscription: String,
        state: ConnectionState,
    },
    /// The login step or its image of a subscription (by name, when known)
    /// changed: the Login view reads it again.
    LoginChanged(Option<String>),
    Status(Box<Status>),
    ShowView(View),
    /// This many live events were dropped because the window was too slow
    /// to take them (or they came as a flood): it reads everything afresh.
    Lagged(u64),
}

/// Decode one live event line from the tray process: anything but a
/// [`WindowEvent`] is an error in words, never a silent skip.
pub fn decode_window_event(line: &str) -> Result<WindowEvent, String> {
    serde_json::from_str(line).map_err(|error| format!("not a live event: {error}"))
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Ok,
    Status { status: Box<Status> },
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
    #[error("SSE Tray does not answer (waited {} s on {}). It may be stuck: end it (`pkill -x ssetray`, or Task Manager on Windows) and start it again with `ssetray`; its log says what it was doing.", ANSWER_WAIT.as_secs(), .0.display())]
    NoAnswer(PathBuf),
}

/// How long a client waits for the running app to take its connection and
/// to answer a request: the app answers in milliseconds, so a wait this long
/// means it is stuck, and the command line says so rather than hang with it.
pub const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

mod connection;
#[cfg(test)]
mod tests;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as transport;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as transport;

pub use connection::{Client, MAX_CONNECTIONS, MAX_EVENT_LINE};
pub use transport::{bind, serve, socket_path, Bound, Listener};

impl Client {
    /// Connect to the running app; refuses an end that another user's
    /// process answers.
    pub async fn connect(path: &Path) -> Result<Client, IpcError> {
        tokio::time::timeout(ANSWER_WAIT, transport::connect(path))
            .await
            .map_err(|_| IpcError::NoAnswer(path.to_path_buf()))?
    }
}

//! One long-lived, reconnecting event stream: the duties of `EventSource`.
//!
//! The client owns the reconnect loop because the crates that offer one fall
//! short of the standard (see the README). It is a task that sends
//! [`Update`]s (events and connection states) down a channel and takes
//! [`Control`]s from another, so the engine, the CLI and the tests drive it
//! the same way and it never calls back into anything.
//!
//! Why it never goes deaf:
//! - every way a stream can end leads back to a reconnect, except a 204 or a
//!   `Stop`; the wait grows with repeated failures and is reset by a
//!   connection that delivered an event or stayed up;
//! - a silent dead connection is found by TCP keepalive, by missed heartbeats
//!   where the server sends them, and by a jump of the wall clock against the
//!   monotonic one (suspend and resume), which forces a reconnect at once.
//!   There is no fixed read timeout: Flask-SSE may stay silent for hours.
//! - a change of the network connects a waiting client at once, and a try
//!   that then finds no route is retried soon, a few times, while the
//!   network settles (`QuickRetries`).

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::connection::{describe_error, Connection, OpenError};
use super::parser::{Item, Limits, Parser, SseEvent};
use crate::protocol::shutdown::Shutdown;

/// How long to wait before reconnecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The reconnection time until the server sends `retry` (the standard
    /// leaves it to the client; browsers use about 3 s).
    pub default_retry: Duration,
    /// The longest wait after network errors, 5xx and ended streams.
    pub max_delay: Duration,
    /// The first wait after a wrong status or content type...
    pub http_error_delay: Duration,
    /// ...and the longest.
    pub http_error_max_delay: Duration,
    /// A connection open this long counts as healthy and resets the backoff.
    pub healthy_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            default_retry: Duration::from_secs(3),
            max_delay: Duration::from_secs(60),
            http_error_delay: Duration::from_secs(15),
            http_error_max_delay: Duration::from_secs(300),
            healthy_after: Duration::from_secs(30),
        }
    }
}

/// The shortest reconnection time a server's `retry` can set: Gecko's
/// floor. `retry: 0` on a stream that ends at once would otherwise make
/// thousands of connections a second.
pub const MIN_RETRY: Duration = Duration::from_millis(500);

/// The longest: a server may ask for a pause, but not to go deaf for hours.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// A server's `retry`, within what the client accepts.
pub fn clamp_retry(retry: Duration) -> Duration {
    retry.clamp(MIN_RETRY, MAX_RETRY)
}

/// The short burst of tries after a change of the network.
///
/// A change that brings the network back is heard before the network can
/// carry a connection. The neighbour (ARP) entry for the server or the
/// gateway may still be resolving from the tries made while the link was
/// down, its probes spent on the dead link: when it gives up, the kernel
/// fails the try waiting on it with "No route to host", though the next
/// try asks again and is answered. DHCP may not have given an address yet;
/// routes may still be settling. No further change comes to say that the
/// network is ready now, so an offline client that waited for one would
/// wait for its slow try, a minute later.
///
/// So for [`QUICK_RETRIES_FOR`] after a change, a try that finds no route
/// is followed soon by another: 250 ms after it, then 500 ms, 1 s, then
/// every 2 s; after that, the offline wait as before. Bounded: a change
/// starts the burst again (once a change, so a burst makes at most
/// [`QUICK_RETRIES_A_CHANGE`] tries), and tries never start closer than
/// [`MIN_GAP_BETWEEN_TRIES`] apart whatever asks for them (a change, a
/// failure, the user), so a flapping network makes at most four a second.
#[derive(Debug, Default)]
struct QuickRetries {
    /// When the latest change was heard; `None` outside a burst.
    changed_at: Option<Instant>,
    /// Quick retries since that change.
    made: u32,
    /// When the latest try started.
    last_try: Option<Instant>,
}

/// How long after a change a try that found no route is retried quickly.
const QUICK_RETRIES_FOR: Duration = Duration::from_secs(30);

/// The first quick retry's wait, doubled for each one after it...
const FIRST_QUICK_RETRY: Duration = Duration::from_millis(250);

/// ...up to this.
const LONGEST_QUICK_RETRY: Duration = Duration::from_secs(2);

/// The most quick retries one change can give: 250 ms, 500 ms, 1 s, then
/// every 2 s, within [`QUICK_RETRIES_FOR`].
const QUICK_RETRIES_A_CHANGE: u32 = 17;

/// The least time between the starts of two tries.
const MIN_GAP_BETWEEN_TRIES: Duration = Duration::from_millis(250);

impl QuickRetries {
    /// A control message, noted when it tells of a change of the network
    /// (a wake-up comes as a loss), and handed on.
    fn heard(&mut self, control: Option<Control>, now: Instant) -> Option<Control> {
        if matches!(control, Some(Control::NetworkCame | Control::NetworkLost)) {
            self.changed_at = Some(now);
            self.made = 0;
        }
        control
    }

    /// A connection opened: the network carries, the burst is over.
    fn opened(&mut self) {
        self.changed_at = None;
    }

    /// The wait after a try that found no route, ending at `now`: `None`
    /// outside a burst, or once it is spent (then the offline wait).
    fn after_no_route(&mut self, now: Instant) -> Option<Duration> {
        let changed_at = self.changed_at?;
        if now.saturating_duration_since(changed_at) >= QUICK_RETRIES_FOR
            || self.made >= QUICK_RETRIES_A_CHANGE
        {
            self.changed_at = None;
            return None;
        }
        let wait = FIRST_QUICK_RETRY
            .saturating_mul(1 << self.made.min(8))
            .min(LONGEST_QUICK_RETRY);
        self.made += 1;
        Some(wait)
    }

    /// How long a try about to start at `now` is held back, so that tries
    /// start at least [`MIN_GAP_BETWEEN_TRIES`] apart; it counts as started
    /// when the hold ends.
    fn hold_before_try(&mut self, now: Instant) -> Duration {
        let hold = self
            .last_try
            .map(|last| (last + MIN_GAP_BETWEEN_TRIES).saturating_duration_since(now))
            .unwrap_or_default();
        self.last_try = Some(now + hold);
        hold
    }
}

impl Backoff {
    /// The wait before reconnect number `failures` (1 for the first failure
    /// in a row). The first wait is exactly the reconnection time, as in a
    /// browser; later ones double, with jitter so that many clients of one
    /// restarted server do not all come back in the same instant.
    fn delay(&self, retry: Duration, failures: u32, slow: bool, rng: &mut impl Rng) -> Duration {
        let (base, cap) = if slow {
            (
                retry.max(self.http_error_delay),
                self.http_error_max_delay.max(retry),
            )
        } else {
            (retry, self.max_delay.max(retry))
        };
        if failures <= 1 {
            return base;
        }
        let exponent = (failures - 1).min(16);
        let grown = base.saturating_mul(1 << exponent).min(cap);
        // Uniform in [3/4, 1] of the grown wait, never below the base.
        let jittered = grown.mul_f64(rng.random_range(0.75..=1.0));
        jittered.max(base)
    }
}

/// Refusals in a row of a request with `Last-Event-ID` after which the
/// client tries without it: one refusal may be a passing fault.
const RESUME_POINT_REFUSALS: u32 = 2;

/// Everything the client needs to know to connect.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub url: url::Url,
    /// Extra request headers from the settings (an `Authorization` token).
    pub headers: HeaderMap,
    /// A PEM file with extra CA certificates, added to the system's.
    pub extra_ca_file: Option<PathBuf>,
    /// The one certificate trusted for this server (trust on first use),
    /// in place of the CAs.
    pub certificate_pin: Option<super::trust::Fingerprint>,
    /// Where to resume: the last event id stored from an earlier run.
    pub last_event_id: String,
    pub limits: Limits,
    pub backoff: Backoff,
    pub connect_timeout: Duration,
    /// How often the wall clock is compared with the monotonic one, to
    /// notice a sleep; `None` where the sleep is heard (logind), so that no
    /// timer wakes a quiet connection.
    pub clock_check_every: Option<Duration>,
    /// Whether the network's return is heard (the engine sends
    /// [`Control::NetworkCame`]): then an offline client waits for it
    /// instead of retrying on its backoff.
    pub network_heard: bool,
    /// Bytes received over all connections, for the status view; shared so
    /// that counting costs an atomic add, not a message per read.
    pub bytes_received: Arc<AtomicU64>,
}

impl ClientConfig {
    pub fn new(url: url::Url) -> Self {
        ClientConfig {
            url,
            headers: HeaderMap::new(),
            extra_ca_file: None,
            certificate_pin: None,
            last_event_id: String::new(),
            limits: Limits::default(),
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(10),
            clock_check_every: Some(Duration::from_secs(10)),
            network_heard: false,
            bytes_received: Arc::default(),
        }
    }

    /// Set for what the system tells of (the network's changes, the
    /// machine's sleep): the one place that decides, for the app's
    /// subscriptions and `listen` alike. A heard network lets an offline
    /// client wait for its changes; a heard sleep needs no timer comparing
    /// clocks.
    pub fn hearing(&mut self, network: bool, sleep: bool) {
        self.network_heard = network;
        if sleep {
            self.clock_check_every = None;
        }
    }
}

/// The connection state, for the tray tooltip and the status view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    Open {
        host: String,
        /// Events this connection dropped for their size, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dropped: Option<DroppedEvents>,
    },
    Retrying {
        delay_ms: u64,
        reason: String,
        /// The whole error chain, for the Status view's details.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// The SHA-256 fingerprint of a server certificate refused, which
        /// the user may choose to trust.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<String>,
    },
    Stopped {
        reason: String,
    },
    /// No route to the server: waiting for the network to come back.
    Offline {
        /// The whole error chain, for the Status view's details.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

/// Events over `max_event_bytes` dropped on an open connection: said in
/// the state, so that a user who misses an event learns why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedEvents {
    pub events: u64,
    /// The limit they went over (data, type and id together), in bytes.
    pub limit_bytes: usize,
}

impl std::fmt::Display for DroppedEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limit = if self.limit_bytes.is_multiple_of(1024 * 1024) {
            format!("{} MiB", self.limit_bytes / (1024 * 1024))
        } else if self.limit_bytes.is_multiple_of(1024) {
            format!("{} KiB", self.limit_bytes / 1024)
        } else {
            format!("{} bytes", self.limit_bytes)
        };
        let events = match self.events {
            1 => "1 event".to_string(),
            many => format!("{many} events"),
        };
        write!(
            f,
            "{events} over the size limit ({limit} of data, type and id) dropped; raise max_event_bytes to keep such events"
        )
    }
}

impl ConnectionState {
    pub fn is_open(&self) -> bool {
        matches!(self, ConnectionState::Open { .. })
    }
}

impl std::fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectionState::Connecting => write!(f, "Connecting…"),
            ConnectionState::Open {
                host,
                dropped: None,
            } => write!(f, "Connected to {host}"),
            ConnectionState::Open {
                host,
                dropped: Some(dropped),
            } => write!(f, "Connected to {host}; {dropped}"),
            ConnectionState::Retrying {
                delay_ms, reason, ..
            } => {
                let secs = delay_ms.div_ceil(1000);
                write!(f, "Retrying in {secs} s: {reason}")
            }
            ConnectionState::Stopped { reason } => write!(f, "Stopped: {reason}"),
            ConnectionState::Offline { .. } => write!(f, "Offline: waiting for the network"),
        }
    }
}

/// What the client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Event(SseEvent),
    State(ConnectionState),
    /// The last event id changed without an event (an `id`-only block), so a
    /// store can still resume from it.
    LastEventId(String),
}

/// What the client can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Drop the current connection or wait and connect now; also restarts a
    /// client stopped by a 204.
    ReconnectNow,
    /// Forget the last event id and reconnect now without `Last-Event-ID`.
    ForgetResumePoint,
    /// The network came (a link, an address, a route): a client waiting to
    /// retry connects now; an open connection goes on.
    NetworkCame,
    /// The network lost something, or the machine woke up: an open
    /// connection may be dead without knowing it; reconnect now.
    NetworkLost,
    Stop,
}

/// A problem with the configuration itself, which no retry can fix.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the extra CA certificate file {path}: {reason}. Fix or remove `extra_ca_file` in the settings.")]
    CaFile { path: PathBuf, reason: String },
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
}

/// Build the HTTP client: rustls with the system's CA store, an optional
/// extra CA file, TCP keepalive so that a dead peer is found even on a silent
/// stream, redirects followed up to 10, and no overall or read timeout.
pub fn http_client(config: &ClientConfig) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("ssetray/", env!("CARGO_PKG_VERSION")))
        // Followed by `Connection::open`, which decides what each hop gets.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .tcp_keepalive(Duration::from_secs(30))
        .tcp_keepalive_interval(Duration::from_secs(10))
        .tcp_keepalive_retries(3u32)
        .pool_max_idle_per_host(0);
    // Data or probes unacknowledged this long: the connection is dead,
    // whatever the retransmission timer would still try.
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    {
        builder = builder.tcp_user_timeout(Duration::from_secs(40));
    }
    let extra_roots = match &config.extra_ca_file {
        Some(path) => super::trust::read_ca_file(path).map_err(|error| ClientError::CaFile {
            path: path.clone(),
            reason: error.to_string(),
        })?,
        None => Vec::new(),
    };
    let tls = super::trust::tls_config(extra_roots, config.certificate_pin)
        .map_err(|error| ClientError::Http(error.to_string()))?;
    builder = builder.use_preconfigured_tls(tls);
    builder
        .build()
        .map_err(|error| ClientError::Http(describe_error(&error)))
}

/// Tells whether the server has gone quiet for longer than its heartbeats
/// allow. Only servers that send comments (`: ping`) get a deadline, and
/// only once [`GAPS_TO_LEARN`] gaps between comments were seen: one gap may
/// be a greeting comment followed by the first timer ping. The interval is
/// the longest of the recent gaps, so a server that slows down is followed,
/// and silence for three intervals means the connection is dead.
#[derive(Debug)]
struct Heartbeat {
    last_activity: Instant,
    last_comment: Option<Instant>,
    /// The most recent gaps between comments, newest last.
    gaps: std::collections::VecDeque<Duration>,
}

/// Gaps between comments seen before a heartbeat interval is trusted.
const GAPS_TO_LEARN: usize = 3;

/// Gaps remembered: the interval is the longest of these.
const GAPS_KEPT: usize = 8;

impl Heartbeat {
    fn new(now: Instant) -> Self {
        Heartbeat {
            last_activity: now,
            last_comment: None,
            gaps: std::collections::VecDeque::with_capacity(GAPS_KEPT),
        }
    }

    fn activity(&mut self, now: Instant) {
        self.last_activity = now;
    }

    fn comment(&mut self, now: Instant) {
        if let Some(previous) = self.last_comment {
            let gap = now.saturating_duration_since(previous);
            // Several comments in one read say nothing about the interval.
            if gap >= Duration::from_millis(200) {
                if self.gaps.len() == GAPS_KEPT {
                    self.gaps.pop_front();
                }
                self.gaps.push_back(gap);
            }
        }
        self.last_comment = Some(now);
    }

    fn observed_interval(&self) -> Option<Duration> {
        if self.gaps.len() < GAPS_TO_LEARN {
            return None;
        }
        self.gaps.iter().max().copied()
    }

    fn deadline(&self) -> Option<Instant> {
        self.observed_interval()
            .map(|interval| self.last_activity + interval * 3)
    }
}

/// Finds a suspend and resume: the monotonic clock stops while the machine
/// sleeps, the wall clock does not. A connection that was open across a sleep
/// is most likely dead without either side knowing.
#[derive(Debug)]
pub struct ClockJump {
    wall: SystemTime,
    mono: Instant,
    threshold: Duration,
}

impl ClockJump {
    pub fn new(wall: SystemTime, mono: Instant, threshold: Duration) -> Self {
        ClockJump {
            wall,
            mono,
            threshold,
        }
    }

    /// Compare the clocks since the last check; `true` when they disagree by
    /// more than the threshold either way.
    pub fn check(&mut self, wall: SystemTime, mono: Instant) -> bool {
        let mono_elapsed = mono.saturating_duration_since(self.mono);
        let jumped = match wall.duration_since(self.wall) {
            Ok(wall_elapsed) => wall_elapsed.abs_diff(mono_elapsed) > self.threshold,
            // The wall clock went backwards.
            Err(back) => back.duration() + mono_elapsed > self.threshold,
        };
        self.wall = wall;
        self.mono = mono;
        jumped
    }
}

/// A try that failed, and what it says of the wait before the next.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    reason: String,
    /// The whole error chain, when there is one.
    detail: Option<String>,
    /// A wrong status or content type: wait longer.
    slow: bool,
    /// No route to the server: the network is gone.
    offline: bool,
    /// The fingerprint of a certificate refused.
    certificate: Option<String>,
}

impl Failure {
    /// A failure said in `reason` alone.
    fn plain(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            detail: None,
            slow: false,
            offline: false,
            certificate: None,
        }
    }

    /// An open stream that failed to read.
    fn of_read(error: &OpenError) -> Failure {
        Failure {
            detail: error.detail().map(str::to_string),
            offline: error.is_offline(),
            ..Failure::plain(error.reason())
        }
    }

    /// A try that did not open.
    fn of_open(error: &OpenError, reason: String) -> Failure {
        Failure {
            reason,
            detail: error.detail().map(str::to_string),
            slow: error.is_slow(),
            offline: error.is_offline(),
            certificate: error.refused_certificate().map(str::to_string),
        }
    }

    /// What the connection shows while it waits `delay` for the next try.
    fn state(self, delay: Duration) -> ConnectionState {
        if self.offline {
            ConnectionState::Offline {
                detail: self.detail,
            }
        } else {
            ConnectionState::Retrying {
                delay_ms: delay.as_millis() as u64,
                reason: self.reason,
                detail: self.detail,
                certificate: self.certificate,
            }
        }
    }
}

/// Why a stream ended, to choose the wait and say it in words.
#[derive(Debug)]
enum Ended {
    Failure(Failure),
    ServerAskedToStop,
    Control(Control),
    /// The receiver of the updates is gone: nobody listens any more.
    Closed,
    /// The app quits.
    Shutdown,
}

impl Ended {
    /// What a control message does to a connection that is open (or
    /// opening): `None` when it goes on.
    fn from_control(control: Option<Control>) -> Option<Ended> {
        match control {
            Some(Control::NetworkCame) => None,
            Some(Control::NetworkLost) => Some(Ended::Control(Control::ReconnectNow)),
            Some(control) => Some(Ended::Control(control)),
            None => Some(Ended::Control(Control::Stop)),
        }
    }

    fn clock_jumped() -> Ended {
        Ended::Failure(Failure::plain(
            "Connection lost: the computer slept or its clock jumped",
        ))
    }
}

/// What reading one open stream keeps from one read to the next, and what
/// it makes of each item read.
#[derive(Debug)]
struct Reading {
    heartbeat: Heartbeat,
    /// The last event id the receiver knows of, from an event or an
    /// `Update::LastEventId`.
    known_id: Arc<str>,
    /// Events this connection dropped for their size (said in the state).
    dropped: Option<DroppedEvents>,
    /// Whether an event came on this connection.
    delivered: bool,
}

impl Reading {
    fn new(now: Instant, known_id: Arc<str>) -> Reading {
        Reading {
            heartbeat: Heartbeat::new(now),
            known_id,
            dropped: None,
            delivered: false,
        }
    }

    /// What the receiver is told of an item read at `now` on the stream
    /// of `host`: an event, or the state saying what was dropped; nothing
    /// for a comment (a heartbeat) or a `retry` (the client's own).
    fn update_for(&mut self, item: Item, now: Instant, host: &str) -> Option<Update> {
        match item {
            Item::Event(event) => {
                self.delivered = true;
                self.known_id = event.last_event_id.clone();
                Some(Update::Event(event))
            }
            Item::Retry(_) => None,
            Item::Dropped { limit } => {
                tracing::warn!(
                    limit,
                    "dropped an event over the size limit (its data, type and id); the stream goes on"
                );
                let events = self
                    .dropped
                    .map_or(1, |before| before.events.saturating_add(1));
                self.dropped = Some(DroppedEvents {
                    events,
                    limit_bytes: limit,
                });
                Some(Update::State(ConnectionState::Open {
                    host: host.to_string(),
                    dropped: self.dropped,
                }))
            }
            Item::Comment => {
                let learning = self.heartbeat.observed_interval().is_none();
                self.heartbeat.comment(now);
                if let Some(interval) = self.heartbeat.observed_interval().filter(|_| learning) {
                    tracing::info!(
                        "the server sends a heartbeat every {:.1} s: silence for {:.1} s will count as a lost connection",
                        interval.as_secs_f64(),
                        (interval * 3).as_secs_f64()
                    );
                }
                None
            }
        }
    }

    /// The update that tells the receiver of a resume point that moved
    /// without an event (an id-only block), if it did.
    fn resume_point_moved(&mut self, last_event_id: &str) -> Option<Update> {
        if last_event_id == &*self.known_id {
            return None;
        }
        self.known_id = last_event_id.into();
        Some(Update::LastEventId(last_event_id.to_string()))
    }

    /// The failure of a stream silent past its heartbeat's deadline.
    fn silence(&self) -> Failure {
        let interval = self.heartbeat.observed_interval().unwrap_or_default();
        Failure::plain(format!(
            "Connection lost (no answer for {} s; the server's heartbeat comes every {} s)",
            (interval * 3).as_secs(),
            interval.as_secs()
        ))
    }
}

/// Resolves at `deadline`; never without one.
async fn sleep_until_deadline(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Compares the clocks on a timer, where no one tells of a sleep.
struct ClockWatch {
    clock: ClockJump,
    /// `None`: the sleep is heard elsewhere; never resolves.
    ticks: Option<tokio::time::Interval>,
}

impl ClockWatch {
    /// Resolves when a check finds a jump; cancel-safe.
    async fn jumped(&mut self) {
        let Some(ticks) = self.ticks.as_mut() else {
            return std::future::pending().await;
        };
        loop {
            ticks.tick().await;
            if self
                .clock
                .check(crate::protocol::clock::now(), Instant::now())
            {
                return;
            }
        }
    }
}

/// The running client. Construct with [`Client::new`], drive with
/// [`Client::run`].
pub struct Client {
    config: ClientConfig,
    http: reqwest::Client,
    parser: Parser,
    retry: Duration,
    failures: u32,
    /// Refusals in a row of a request that carried `Last-Event-ID`.
    resume_point_refusals: u32,
    quick_retries: QuickRetries,
    updates: mpsc::Sender<Update>,
    control: mpsc::Receiver<Control>,
    /// The app's quit: the client stops reading, drops its connection and
    /// ends; what it handed over before stays handed over.
    shutdown: Shutdown,
    host: String,
}

impl Client {
    pub fn new(
        config: ClientConfig,
        updates: mpsc::Sender<Update>,
        control: mpsc::Receiver<Control>,
        shutdown: Shutdown,
    ) -> Result<Client, ClientError> {
        let http = http_client(&config)?;
        let parser = Parser::with_last_event_id(config.limits, &config.last_event_id);
        let host = match config.url.port() {
            Some(port) => format!("{}:{port}", config.url.host_str().unwrap_or("")),
            None => config.url.host_str().unwrap_or("").to_string(),
        };
        Ok(Client {
            retry: config.backoff.default_retry,
            config,
            http,
            parser,
            failures: 0,
            resume_point_refusals: 0,
            quick_retries: QuickRetries::default(),
            updates,
            control,
            shutdown,
            host,
        })
    }

    /// Connect, read, reconnect, until told to stop, the app quits, or
    /// nobody listens.
    pub async fn run(mut self) {
        loop {
            if !self.hold_before_try().await {
                return;
            }
            let failure = match self.connect_and_read().await {
                Ended::Closed | Ended::Shutdown | Ended::Control(Control::Stop) => return,
                Ended::Control(control) => {
                    if control == Control::ForgetResumePoint {
                        self.forget_resume_point().await;
                    }
                    self.failures = 0;
                    continue;
                }
                Ended::ServerAskedToStop => {
                    if !self.stopped_by_the_server().await {
                        return;
                    }
                    self.failures = 0;
                    continue;
                }
                Ended::Failure(failure) => failure,
            };
            if !self.wait_after(failure).await {
                return;
            }
        }
    }

    /// Hold the next try back so that tries start apart; `false` when the
    /// app quits first.
    async fn hold_before_try(&mut self) -> bool {
        let hold = self.quick_retries.hold_before_try(Instant::now());
        if hold.is_zero() {
            return !self.shutdown.is_shutdown();
        }
        tokio::select! {
            _ = tokio::time::sleep(hold) => true,
            _ = self.shutdown.recv() => false,
        }
    }

    /// The server answered 204: stopped for good, until the user says
    /// otherwise (the network coming back is not the user). `false` when
    /// the client is to end.
    async fn stopped_by_the_server(&mut self) -> bool {
        let state = ConnectionState::Stopped {
            reason: OpenError::ServerAskedToStop.reason(),
        };
        if !self.send(Update::State(state)).await {
            return false;
        }
        loop {
            let control = tokio::select! {
                control = self.control.recv() => control,
                _ = self.shutdown.recv() => return false,
            };
            match control {
                Some(Control::ReconnectNow) => return true,
                Some(Control::ForgetResumePoint) => {
                    self.forget_resume_point().await;
                    return true;
                }
                Some(Control::NetworkCame | Control::NetworkLost) => {}
                Some(Control::Stop) | None => return false,
            }
        }
    }

    /// The wait after another failure in a row.
    fn delay_after(&mut self, failure: &Failure) -> Duration {
        self.failures = self.failures.saturating_add(1);
        if failure.offline && self.config.network_heard {
            // Soon after a change the network may still be settling: try
            // again soon. Otherwise its return is heard: retries would
            // only burn. Still try now and then, should a change be missed.
            self.quick_retries
                .after_no_route(Instant::now())
                .unwrap_or(self.config.backoff.max_delay)
        } else {
            self.config
                .backoff
                .delay(self.retry, self.failures, failure.slow, &mut rand::rng())
        }
    }

    /// Say why the try failed and wait for the next; `false` when the
    /// client is to end.
    async fn wait_after(&mut self, failure: Failure) -> bool {
        let delay = self.delay_after(&failure);
        tracing::info!(
            delay_ms = delay.as_millis() as u64,
            failures = self.failures,
            slow = failure.slow,
            detail = failure.detail.as_deref().unwrap_or(""),
            "{}; reconnecting",
            failure.reason
        );
        if !self.send(Update::State(failure.state(delay))).await {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = self.shutdown.recv() => return false,
            control = self.control.recv() => match self.quick_retries.heard(control, Instant::now()) {
                // The network is back, or changed: whatever the backoff
                // had grown to, connect now.
                Some(Control::ReconnectNow | Control::NetworkCame | Control::NetworkLost) => {
                    self.failures = 0
                }
                Some(Control::ForgetResumePoint) => {
                    self.forget_resume_point().await;
                    self.failures = 0;
                }
                Some(Control::Stop) | None => return false,
            },
        }
        true
    }

    /// Connect from now on without `Last-Event-ID`, and tell the receiver,
    /// so that a store forgets the resume point too.
    async fn forget_resume_point(&mut self) {
        self.parser.forget_last_event_id();
        self.resume_point_refusals = 0;
        let _ = self.send(Update::LastEventId(String::new())).await;
    }

    fn clock_watch(&self) -> ClockWatch {
        let ticks = self.config.clock_check_every.map(|every| {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks
        });
        let every = self.config.clock_check_every.unwrap_or_default();
        ClockWatch {
            clock: ClockJump::new(
                crate::protocol::clock::now(),
                Instant::now(),
                Duration::from_secs(5).max(every / 2),
            ),
            ticks,
        }
    }

    async fn send(&self, update: Update) -> bool {
        self.updates.send(update).await.is_ok()
    }

    fn open_state(&self) -> ConnectionState {
        ConnectionState::Open {
            host: self.host.clone(),
            dropped: None,
        }
    }

    async fn connect_and_read(&mut self) -> Ended {
        if !self.send(Update::State(ConnectionState::Connecting)).await {
            return Ended::Closed;
        }
        self.parser.start_new_stream();
        let resume_point = super::connection::resume_point(self.parser.last_event_id()).to_string();
        let (mut connection, announced) = match self.open(&resume_point).await {
            Ok(opened) => opened,
            Err(ended) => return ended,
        };
        self.resume_point_refusals = 0;
        self.quick_retries.opened();
        if !announced && !self.send(Update::State(self.open_state())).await {
            return Ended::Closed;
        }
        let opened_at = Instant::now();
        let (ended, delivered_event) = self.read_stream(&mut connection).await;
        if delivered_event || opened_at.elapsed() >= self.config.backoff.healthy_after {
            self.failures = 0;
        }
        ended
    }

    /// Open the stream, resuming at `resume_point`; with it, whether it was
    /// already said to be open (a quiet server).
    async fn open(&mut self, resume_point: &str) -> Result<(Connection, bool), Ended> {
        let (http, url, extra) = (
            self.http.clone(),
            self.config.url.clone(),
            self.config.headers.clone(),
        );
        let open = Connection::open(&http, &url, &extra, resume_point);
        tokio::pin!(open);
        let mut clock = self.clock_watch();
        // Flask-SSE answers nothing, not even its headers, until the first
        // event. Connecting is bounded by the connect timeout, so a request
        // still pending after it has a live connection to a quiet server:
        // say "connected" rather than "connecting" for hours.
        let quiet_server =
            tokio::time::sleep(self.config.connect_timeout + Duration::from_millis(500));
        tokio::pin!(quiet_server);
        let mut announced = false;
        let opened = loop {
            tokio::select! {
                opened = &mut open => break opened,
                control = self.control.recv() => {
                    if let Some(ended) = Ended::from_control(self.quick_retries.heard(control, Instant::now())) {
                        return Err(ended);
                    }
                }
                _ = self.shutdown.recv() => return Err(Ended::Shutdown),
                _ = clock.jumped() => return Err(Ended::clock_jumped()),
                _ = &mut quiet_server, if !announced => {
                    announced = true;
                    if !self.send(Update::State(self.open_state())).await {
                        return Err(Ended::Closed);
                    }
                }
            }
        };
        match opened {
            Ok(connection) => Ok((connection, announced)),
            Err(OpenError::ServerAskedToStop) => Err(Ended::ServerAskedToStop),
            Err(error) => Err(Ended::Failure(self.refused(&error, resume_point).await)),
        }
    }

    /// A try that did not open, as a failure. Refused twice in a row to a
    /// request that carried `Last-Event-ID`, the next try goes without it.
    async fn refused(&mut self, error: &OpenError, resume_point: &str) -> Failure {
        let mut reason = error.reason();
        if !resume_point.is_empty() && error.may_blame_the_resume_point() {
            self.resume_point_refusals = self.resume_point_refusals.saturating_add(1);
            if self.resume_point_refusals >= RESUME_POINT_REFUSALS {
                tracing::warn!(
                    "{reason} twice to a request that carried Last-Event-ID; trying without it"
                );
                self.forget_resume_point().await;
                reason.push_str(
                    "; the server refused the resume point, so the next try goes without it (events sent meanwhile may be missed)",
                );
            }
        } else {
            self.resume_point_refusals = 0;
        }
        Failure::of_open(error, reason)
    }

    /// Read the open stream until it ends; with why, whether an event came
    /// on it. Once the app quits, no further read is made: the items of
    /// the read in hand are handed over, and the connection is dropped.
    async fn read_stream(&mut self, connection: &mut Connection) -> (Ended, bool) {
        let mut reading = Reading::new(Instant::now(), self.parser.last_event_id().into());
        let mut clock = self.clock_watch();
        let mut items = Vec::new();
        let ended = loop {
            if self.shutdown.is_shutdown() {
                break Ended::Shutdown;
            }
            tokio::select! {
                read = connection.read(&mut self.parser, &mut items, &self.config.bytes_received) => match read {
                    Ok(true) => {}
                    Ok(false) => break Ended::Failure(Failure::plain("the server closed the stream")),
                    Err(error) => break Ended::Failure(Failure::of_read(&error)),
                },
                _ = sleep_until_deadline(reading.heartbeat.deadline()) => {
                    break Ended::Failure(reading.silence());
                }
                _ = clock.jumped() => break Ended::clock_jumped(),
                _ = self.shutdown.recv() => break Ended::Shutdown,
                control = self.control.recv() => {
                    match Ended::from_control(self.quick_retries.heard(control, Instant::now())) {
                        Some(ended) => break ended,
                        // Nothing was read: the heartbeat's clock goes on.
                        None => continue,
                    }
                }
            }
            if let Err(ended) = self.hand_over(&mut reading, &mut items).await {
                break ended;
            }
        };
        (ended, reading.delivered)
    }

    /// Hand what one read gave to the receiver, in order; `Err` when
    /// nobody listens any more.
    async fn hand_over(
        &mut self,
        reading: &mut Reading,
        items: &mut Vec<Item>,
    ) -> Result<(), Ended> {
        let now = Instant::now();
        reading.heartbeat.activity(now);
        for item in items.drain(..) {
            if let Item::Retry(retry) = item {
                self.retry = clamp_retry(retry);
                continue;
            }
            if let Some(update) = reading.update_for(item, now, &self.host) {
                if !self.send(update).await {
                    return Err(Ended::Closed);
                }
            }
        }
        if let Some(update) = reading.resume_point_moved(self.parser.last_event_id()) {
            if !self.send(update).await {
                return Err(Ended::Closed);
            }
        }
        Ok(())
    }
}

/// Start a client as a task; returns the handle to control it. It ends when
/// told to stop or when `updates` is closed.
pub fn spawn(
    config: ClientConfig,
    updates: mpsc::Sender<Update>,
) -> Result<mpsc::Sender<Control>, ClientError> {
    spawn_until(config, updates, Shutdown::never())
}

/// [`spawn`], and the client also ends when the app quits (`shutdown`),
/// which waits for it.
pub fn spawn_until(
    config: ClientConfig,
    updates: mpsc::Sender<Update>,
    shutdown: Shutdown,
) -> Result<mpsc::Sender<Control>, ClientError> {
    let (control_tx, control_rx) = mpsc::channel(8);
    let client = Client::new(config, updates, control_rx, shutdown)?;
    tokio::spawn(client.run());
    Ok(control_tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long a test waits for the tasks to end after a quit: one still
    /// running after this does not end at all.
    const PATIENCE: Duration = Duration::from_secs(60);

    #[test]
    fn first_retry_waits_exactly_the_reconnection_time() {
        let backoff = Backoff::default();
        let mut rng = rand::rng();
        let retry = Duration::from_millis(1500);
        assert_eq!(backoff.delay(retry, 1, false, &mut rng), retry);
    }

    #[test]
    fn repeated_failures_back_off_with_jitter_up_to_the_cap() {
        let backoff = Backoff::default();
        let mut rng = rand::rng();
        let retry = Duration::from_secs(3);
        for failures in 2..30 {
            let grown = (retry * (1u32 << (failures - 1).min(16))).min(backoff.max_delay);
            let delay = backoff.delay(retry, failures, false, &mut rng);
            assert!(delay <= grown, "{failures}: {delay:?} > {grown:?}");
            assert!(
                delay >= grown.mul_f64(0.75).max(retry),
                "{failures}: {delay:?}"
            );
        }
        assert!(backoff.delay(retry, 40, false, &mut rng) <= Duration::from_secs(60));
    }

    #[test]
    fn wrong_status_backs_off_slowly() {
        let backoff = Backoff::default();
        let mut rng = rand::rng();
        let retry = Duration::from_secs(3);
        assert_eq!(
            backoff.delay(retry, 1, true, &mut rng),
            backoff.http_error_delay
        );
        assert!(backoff.delay(retry, 50, true, &mut rng) <= backoff.http_error_max_delay);
        assert!(backoff.delay(retry, 50, true, &mut rng) > backoff.max_delay);
    }

    #[test]
    fn a_server_retry_above_the_cap_is_respected() {
        let backoff = Backoff::default();
        let mut rng = rand::rng();
        let retry = Duration::from_secs(120);
        assert_eq!(backoff.delay(retry, 5, false, &mut rng), retry);
    }

    /// The waits a burst gives to tries that each find no route after
    /// `takes`, from a change at `start`; the time the last one ended.
    fn burst(
        quick: &mut QuickRetries,
        start: Instant,
        takes: Duration,
    ) -> (Vec<Duration>, Instant) {
        let mut now = start;
        let mut waits = Vec::new();
        loop {
            now += quick.hold_before_try(now) + takes;
            match quick.after_no_route(now) {
                Some(wait) => {
                    waits.push(wait);
                    now += wait;
                }
                None => return (waits, now),
            }
        }
    }

    #[test]
    fn a_try_that_finds_no_route_after_a_change_is_retried_soon_then_slowly() {
        let start = Instant::now();
        let mut quick = QuickRetries::default();
        quick.heard(Some(Control::NetworkCame), start);
        let (waits, end) = burst(&mut quick, start, Duration::ZERO);
        let ms = |ms| Duration::from_millis(ms);
        assert_eq!(waits[..5], [ms(250), ms(500), ms(1000), ms(2000), ms(2000)]);
        assert!(waits.iter().all(|wait| *wait <= LONGEST_QUICK_RETRY));
        assert_eq!(waits.len() as u32, QUICK_RETRIES_A_CHANGE);
        assert!(end - start <= QUICK_RETRIES_FOR + LONGEST_QUICK_RETRY);
        // Spent: the offline wait, until the next change.
        assert_eq!(quick.after_no_route(end), None);
        assert_eq!(quick.after_no_route(end + ms(10)), None);
        quick.heard(Some(Control::NetworkLost), end + ms(20));
        assert_eq!(quick.after_no_route(end + ms(30)), Some(ms(250)));
    }

    #[test]
    fn slow_tries_end_the_burst_by_its_time() {
        // Each try waits 3 s for the neighbour to answer before it fails.
        let start = Instant::now();
        let mut quick = QuickRetries::default();
        quick.heard(Some(Control::NetworkCame), start);
        let (waits, end) = burst(&mut quick, start, Duration::from_secs(3));
        assert!(waits.len() < 10, "{waits:?}");
        assert!(end - start < QUICK_RETRIES_FOR + Duration::from_secs(3) + LONGEST_QUICK_RETRY);
    }

    #[test]
    fn no_quick_retries_without_a_recent_change() {
        let start = Instant::now();
        let mut quick = QuickRetries::default();
        assert_eq!(quick.after_no_route(start), None, "no change heard");
        // Other controls are no change.
        quick.heard(Some(Control::ReconnectNow), start);
        quick.heard(None, start);
        assert_eq!(quick.after_no_route(start), None);
        // A change long ago (heard while connected) is over.
        quick.heard(Some(Control::NetworkCame), start);
        assert_eq!(quick.after_no_route(start + QUICK_RETRIES_FOR), None);
        // A connection that opened ends the burst.
        quick.heard(Some(Control::NetworkCame), start);
        quick.opened();
        assert_eq!(quick.after_no_route(start + Duration::from_secs(1)), None);
    }

    #[test]
    fn a_change_during_a_burst_starts_it_again_once() {
        let start = Instant::now();
        let mut quick = QuickRetries::default();
        quick.heard(Some(Control::NetworkCame), start);
        let second = start + Duration::from_secs(5);
        for at in [start, start + Duration::from_secs(1), second] {
            let _ = quick.after_no_route(at);
        }
        quick.heard(Some(Control::NetworkLost), second);
        let (waits, _) = burst(&mut quick, second, Duration::ZERO);
        assert_eq!(waits[0], FIRST_QUICK_RETRY);
        assert_eq!(waits.len() as u32, QUICK_RETRIES_A_CHANGE);
    }

    #[test]
    fn a_flapping_network_makes_at_most_four_tries_a_second() {
        // A change every 10 ms for 10 s, each asking for a try at once,
        // each try failing at once with no route.
        let start = Instant::now();
        let mut quick = QuickRetries::default();
        let mut starts = Vec::new();
        let mut now = start;
        while now < start + Duration::from_secs(10) {
            quick.heard(Some(Control::NetworkCame), now);
            let hold = quick.hold_before_try(now);
            starts.push(now + hold);
            assert!(quick.after_no_route(now + hold).is_some());
            now = (now + hold).max(now + Duration::from_millis(10));
        }
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] >= MIN_GAP_BETWEEN_TRIES, "{pair:?}");
        }
        assert!(starts.len() <= 41, "{} tries in 10 s", starts.len());
        // A try long after the last needs no hold.
        assert_eq!(
            quick.hold_before_try(now + Duration::from_secs(1)),
            Duration::ZERO
        );
    }

    #[test]
    fn heartbeat_deadline_only_once_several_gaps_are_seen() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start);
        let at = |heartbeat: &mut Heartbeat, secs: u64| {
            let now = start + Duration::from_secs(secs);
            heartbeat.activity(now);
            heartbeat.comment(now);
            now
        };
        at(&mut heartbeat, 0);
        assert_eq!(heartbeat.deadline(), None);
        at(&mut heartbeat, 15);
        at(&mut heartbeat, 30);
        assert_eq!(heartbeat.deadline(), None, "two gaps are not enough");
        let fourth = at(&mut heartbeat, 45);
        assert_eq!(heartbeat.deadline(), Some(fourth + Duration::from_secs(45)));
        // Events in between push the deadline on.
        let event = fourth + Duration::from_secs(40);
        heartbeat.activity(event);
        assert_eq!(heartbeat.deadline(), Some(event + Duration::from_secs(45)));
    }

    #[test]
    fn a_greeting_comment_does_not_set_a_short_interval() {
        // ": hello" at once, the first timer ping 300 ms later, then one
        // every 15 s: the watchdog must wait for 15 s gaps, not 300 ms ones.
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start);
        for at in [
            Duration::ZERO,
            Duration::from_millis(300),
            Duration::from_millis(15_300),
            Duration::from_millis(30_300),
        ] {
            heartbeat.activity(start + at);
            heartbeat.comment(start + at);
        }
        assert_eq!(heartbeat.observed_interval(), Some(Duration::from_secs(15)));
    }

    #[test]
    fn a_server_retry_is_clamped() {
        assert_eq!(clamp_retry(Duration::ZERO), MIN_RETRY);
        assert_eq!(
            clamp_retry(Duration::from_millis(1500)),
            Duration::from_millis(1500)
        );
        assert_eq!(clamp_retry(Duration::from_secs(u64::MAX / 4)), MAX_RETRY);
    }

    #[test]
    fn the_backoff_of_a_clamped_retry_never_comes_below_it() {
        let backoff = Backoff::default();
        let mut rng = rand::rng();
        for failures in [1, 2, 10, u32::MAX] {
            assert!(
                backoff.delay(clamp_retry(Duration::ZERO), failures, false, &mut rng) >= MIN_RETRY
            );
        }
    }

    #[test]
    fn clock_jump_found_when_wall_clock_runs_ahead_of_monotonic() {
        let wall = crate::protocol::clock::now();
        let mono = Instant::now();
        let mut clock = ClockJump::new(wall, mono, Duration::from_secs(5));
        // Ten seconds on both clocks: no jump.
        assert!(!clock.check(
            wall + Duration::from_secs(10),
            mono + Duration::from_secs(10)
        ));
        // An hour asleep: the monotonic clock moved ten seconds.
        assert!(clock.check(
            wall + Duration::from_secs(3610),
            mono + Duration::from_secs(20)
        ));
        // The wall clock set back.
        assert!(clock.check(
            wall + Duration::from_secs(3000),
            mono + Duration::from_secs(30)
        ));
    }

    #[test]
    fn state_in_words() {
        let retrying = ConnectionState::Retrying {
            delay_ms: 11_200,
            reason: "HTTP 503 Service Unavailable".into(),
            detail: None,
            certificate: None,
        };
        assert_eq!(
            retrying.to_string(),
            "Retrying in 12 s: HTTP 503 Service Unavailable"
        );
        let stopped = ConnectionState::Stopped {
            reason: OpenError::ServerAskedToStop.reason(),
        };
        assert_eq!(
            stopped.to_string(),
            "Stopped: the server asked to stop (HTTP 204)"
        );
    }

    #[test]
    fn reading_tells_events_dropped_events_and_a_moved_resume_point() {
        let start = Instant::now();
        let mut reading = Reading::new(start, "1".into());
        let event = SseEvent {
            event_type: "message".into(),
            data: "hello".into(),
            last_event_id: "2".into(),
            has_own_id: true,
        };
        let told = reading.update_for(Item::Event(event.clone()), start, "example.com");
        assert_eq!(told, Some(Update::Event(event)));
        assert!(reading.delivered);
        // The event told the receiver of its id: no update for it.
        assert_eq!(reading.resume_point_moved("2"), None);
        // An id-only block moved it.
        assert_eq!(
            reading.resume_point_moved("3"),
            Some(Update::LastEventId("3".into()))
        );
        assert_eq!(reading.resume_point_moved("3"), None);
        // Dropped events are counted in the state, one more each time.
        for events in 1..=2 {
            let told = reading.update_for(Item::Dropped { limit: 1024 }, start, "example.com");
            let dropped = Some(DroppedEvents {
                events,
                limit_bytes: 1024,
            });
            assert_eq!(
                told,
                Some(Update::State(ConnectionState::Open {
                    host: "example.com".into(),
                    dropped
                }))
            );
        }
        // Comments and `retry` tell the receiver nothing.
        assert_eq!(
            reading.update_for(Item::Comment, start, "example.com"),
            None
        );
        let retry = Item::Retry(Duration::from_secs(1));
        assert_eq!(reading.update_for(retry, start, "example.com"), None);
    }

    #[test]
    fn a_failure_waits_offline_or_says_why_it_retries() {
        let delay = Duration::from_millis(2500);
        let mut failure = Failure::plain("HTTP 503");
        failure.detail = Some("the whole chain".into());
        assert_eq!(
            failure.clone().state(delay),
            ConnectionState::Retrying {
                delay_ms: 2500,
                reason: "HTTP 503".into(),
                detail: Some("the whole chain".into()),
                certificate: None,
            }
        );
        failure.offline = true;
        assert_eq!(
            failure.state(delay),
            ConnectionState::Offline {
                detail: Some("the whole chain".into())
            }
        );
    }

    /// Where the client is when the quit comes.
    #[derive(Debug, Clone, Copy)]
    enum Moment {
        /// The server took the request and answers nothing yet.
        Opening,
        /// The stream is open and silent.
        Reading,
        /// The server answered 503: the client waits to retry.
        WaitingToRetry,
    }

    /// A server of one connection answering as `moment` asks; the
    /// receivers hear when it holds the client's request, and when the
    /// client has dropped the connection.
    async fn one_connection_server(
        moment: Moment,
    ) -> (
        url::Url,
        tokio::sync::oneshot::Receiver<()>,
        tokio::sync::oneshot::Receiver<()>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}/stream", listener.local_addr().unwrap());
        let (held_tx, held) = tokio::sync::oneshot::channel();
        let (dropped_tx, dropped) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 4096];
            assert!(socket.read(&mut buffer).await.unwrap() > 0);
            let _ = held_tx.send(());
            let answer: &[u8] = match moment {
                Moment::Opening => b"",
                Moment::Reading => {
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: one\n\n"
                }
                Moment::WaitingToRetry => {
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
                }
            };
            socket.write_all(answer).await.unwrap();
            // Read until the client closes its end.
            while socket.read(&mut buffer).await.is_ok_and(|read| read > 0) {}
            let _ = dropped_tx.send(());
        });
        (url::Url::parse(&url).unwrap(), held, dropped)
    }

    /// Whether `update` shows the client at `moment`.
    fn is_at(moment: Moment, update: &Update) -> bool {
        match (moment, update) {
            (Moment::Reading, Update::Event(event)) => event.data == "one",
            (Moment::WaitingToRetry, Update::State(state)) => {
                matches!(state, ConnectionState::Retrying { .. })
            }
            _ => false,
        }
    }

    #[tokio::test]
    async fn the_quit_ends_the_client_wherever_it_is_and_drops_its_connection() {
        for moment in [Moment::Opening, Moment::Reading, Moment::WaitingToRetry] {
            let (url, held, dropped) = one_connection_server(moment).await;
            let signal = crate::protocol::shutdown::ShutdownSignal::new();
            let (updates_tx, mut updates) = mpsc::channel(16);
            let mut config = ClientConfig::new(url);
            config.clock_check_every = None;
            let _control =
                spawn_until(config, updates_tx, signal.listener("the connection")).unwrap();
            held.await.unwrap();
            if !matches!(moment, Moment::Opening) {
                while !is_at(moment, &updates.recv().await.unwrap()) {}
            }
            signal.begin();
            let left = signal.finished(PATIENCE).await;
            assert!(left.is_empty(), "{moment:?}: still running: {left:?}");
            dropped.await.unwrap();
            // Nothing more comes: the client has let go of its updates.
            while let Some(update) = updates.recv().await {
                assert!(
                    !matches!(update, Update::Event(_)),
                    "{moment:?}: {update:?}"
                );
            }
        }
    }
}

//! The engine: connection, meaning and storage joined, and the one place that
//! decides what happens to an event.
//!
//! Data flows one way: the client's updates come in, each event is
//! interpreted (`feed`), committed to the store, and only then broadcast to
//! the sinks (notifier, tray, window). Sinks never call back; they, and the
//! user, send [`Command`]s. The engine is the only writer of the store, which
//! is what lets the window read it with a plain read-only connection.
//!
//! A store that cannot be written (disk full, locked, unreadable at start)
//! never ends the engine: what arrives meanwhile waits in a bounded queue,
//! the problem is reported to the sinks in words, and the queue is written,
//! in order, as soon as the store takes writes again.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::core::login_image::{LoginImages, MadeImage};
use crate::core::settings::{Settings, Subscription, TypeRule};
use crate::core::store::{HistoryEntry, NewEntry, Store, StoreError};
use crate::protocol::clock::now_ms;
use crate::protocol::feed::{self, AppEvent, Login, Message};
use crate::protocol::shutdown::Shutdown;
use crate::protocol::sse::client;
use crate::protocol::sse::{Backoff, ConnectionState, Control, SseEvent, Update};

/// What the user (through the tray, window or CLI) asks of the engine.
#[derive(Debug, Clone)]
pub enum Command {
    MarkRead(i64),
    MarkAllRead,
    Delete(i64),
    ClearHistory,
    /// Reconnect the subscription of this name, or all of them.
    ReconnectNow(Option<String>),
    /// Forget where the stream stopped and reconnect without
    /// `Last-Event-ID`: the subscription of this name, or all of them.
    ResetResumePoint(Option<String>),
    /// Delete the history of a stream (by its server key): a subscription
    /// removed with its history.
    DeleteHistoryOf(String),
    /// Validated settings to apply at once (a new server reconnects).
    ApplySettings(Box<Settings>),
    /// The network changed, or the machine woke up: what every client is
    /// told of it (`NetworkEvent::control` decides, for `listen` too).
    Network(Control),
    /// Store an event another client received (`ssetray listen --store`
    /// while the app runs), as if it came from `server` (a redacted URL).
    Store {
        server: String,
        event: SseEvent,
    },
}

/// A stored event, as the sinks see it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    /// The name of the subscription it came on (none for an event another
    /// client handed over from a stream not subscribed to).
    pub subscription: Option<Arc<str>>,
    pub entry: HistoryEntry,
    pub event: AppEvent,
    pub rule: TypeRule,
}

/// What the engine tells its sinks.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum EngineEvent {
    Stored(Arc<StoredEvent>),
    /// A subscription's connection state.
    State {
        subscription: Arc<str>,
        state: ConnectionState,
    },
    /// Why the history cannot be written now, in words; `None` once it can.
    StoreProblem(Option<String>),
    /// A login step's image was made safe and stored: the login view of
    /// that stream (by its server key) changed.
    LoginImage {
        server: Arc<str>,
    },
}

/// How many events go into one store transaction at most: a flood is
/// written in batches, a single event at once.
const BATCH: usize = 512;
/// And how much, as [`Pending::bytes`] counts it (at least one event):
/// what one transaction adds to the file before retention can run.
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Run retention after this many inserts or this much written (and at
/// start); never later than an eighth of `keep_megabytes` written, so that
/// the file outgrows its limit by little before the oldest go.
const RETENTION_EVERY: u64 = 1000;
const RETENTION_EVERY_BYTES: u64 = 16 * 1024 * 1024;

/// What waits for a store that cannot be written, at most: the newest
/// events are kept, the oldest dropped (and counted) beyond this, every
/// byte of them counted ([`Pending::bytes`]).
const MAX_PENDING_EVENTS: usize = 10_000;
const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;

/// What a subscription's connection may have handed over before the
/// engine takes it, in bytes ([`update_bytes`]; a larger event counts as
/// this much): enough tiny events to write a flood in large batches, few
/// large ones. Beside it, [`CLIENT_SLOTS`] updates wait in the
/// connection's own channel.
const UPDATES_IN_FLIGHT_BYTES: usize = 2 * 1024 * 1024;
const CLIENT_SLOTS: usize = 4;

/// After this much was written, the allocator is asked to give back what
/// it keeps once nothing waits ([`crate::core::allocator::trim`]).
const TRIM_AFTER_BYTES: usize = 8 * 1024 * 1024;

/// How often a store that failed is tried again. Only while it fails: a
/// healthy engine has no timer.
const STORE_RETRY: Duration = Duration::from_secs(5);

/// Something to write, in the order it arrived, with the server it came
/// from (the settings may change while it waits).
#[derive(Debug)]
enum Pending {
    Event {
        server: Arc<str>,
        event: SseEvent,
        app_event: AppEvent,
        rule: TypeRule,
        received_at_ms: i64,
    },
    /// The stream moved on without an event to store (an id-only block,
    /// an ignored type, a reset).
    ResumePoint { server: Arc<str>, id: String },
}

impl Pending {
    /// What it holds in memory: every byte from the server (type, id, data,
    /// and what the feed made of them), the stream's key, and the item
    /// itself. A type or id shared with other events is counted for each,
    /// so the count is never less than what is held.
    fn bytes(&self) -> usize {
        std::mem::size_of::<Pending>()
            + match self {
                Pending::Event {
                    server,
                    event,
                    app_event,
                    ..
                } => {
                    server.len()
                        + event.event_type.len()
                        + event.last_event_id.len()
                        + event.data.capacity()
                        + held_by(app_event)
                }
                Pending::ResumePoint { server, id } => server.len() + id.capacity(),
            }
    }
}

/// The bytes an interpreted event holds beyond its own size: the texts the
/// feed took out of the data.
fn held_by(event: &AppEvent) -> usize {
    let text = |text: &String| text.capacity();
    let maybe = |text: &Option<String>| text.as_ref().map_or(0, String::capacity);
    match event {
        AppEvent::Login(Login::ScanQrCode {
            uuid,
            qr_png_base64,
        }) => text(uuid) + text(qr_png_base64),
        AppEvent::Login(Login::ConfirmLogin { uuid, image }) => text(uuid) + text(image),
        AppEvent::Login(Login::LoggedIn { uuid, user }) => {
            text(uuid) + maybe(&user.name) + maybe(&user.avatar)
        }
        AppEvent::Login(Login::LoggedOut { uuid }) => text(uuid),
        AppEvent::Message(Message {
            title,
            text: body,
            url,
            urgency,
            malformed,
        }) => maybe(title) + text(body) + maybe(url) + maybe(urgency) + maybe(malformed),
        AppEvent::Notification { .. } | AppEvent::ServerClosed => 0,
    }
}

pub struct Engine {
    /// `None` while the store cannot be opened.
    store: Option<Store>,
    /// Where the store lives, to open it again.
    database: PathBuf,
    /// Why the store cannot be written now, as the sinks were last told.
    store_problem: Option<String>,
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    /// Bytes taken out of the queue since the allocator was last trimmed.
    taken_since_trim: usize,
    /// Events dropped from a full queue since the store last worked.
    dropped: u64,
    retry_store: Option<tokio::time::Instant>,
    settings: Settings,
    backoff: Backoff,
    /// One connection per subscription with a server, in the settings'
    /// order.
    follows: Vec<Follow>,
    /// The login steps' images being made, and those made.
    login_images: LoginImages,
    made_images: mpsc::Receiver<MadeImage>,
    sinks: broadcast::Sender<EngineEvent>,
    /// The store's unread count, published as a latest value: a sink that
    /// looks late sees the newest count, never an old one after a new.
    unread: watch::Sender<u64>,
    inserts_since_retention: u64,
    bytes_received: Arc<AtomicU64>,
    /// The network's return is heard (the app sends `NetworkCame`).
    network_heard: bool,
    /// A sleep is heard (logind): no clock-comparing timer.
    sleep_heard: bool,
    /// The app's quit, which each connection is given a part of.
    shutdown: Shutdown,
}

/// One subscription's connection: its own client, state, backoff and
/// resume point (kept by the store under its server key), beside the
/// others on the engine's one thread.
struct Follow {
    name: Arc<str>,
    /// The stream as stored with each event (the URL without secrets).
    server: Arc<str>,
    /// The subscription as last applied, to tell what a change touches.
    subscription: Subscription,
    client: Option<mpsc::Sender<Control>>,
    /// The connection's updates, through its relay.
    updates: mpsc::UnboundedReceiver<Relayed>,
    relay: Option<tokio::task::JoinHandle<()>>,
}

/// Updates of one connection, in order, with their share of
/// [`UPDATES_IN_FLIGHT_BYTES`], given back as the engine takes them.
struct Relayed {
    updates: Vec<Update>,
    _share: OwnedSemaphorePermit,
}

/// What an update holds in memory, as [`Pending::bytes`] counts it.
fn update_bytes(update: &Update) -> usize {
    std::mem::size_of::<Update>()
        + match update {
            Update::Event(event) => {
                event.event_type.len() + event.last_event_id.len() + event.data.capacity()
            }
            Update::LastEventId(id) => id.capacity(),
            Update::State(_) => 0,
        }
}

/// Hand a connection's updates to the engine, each once it fits in the
/// connection's budget of bytes in flight (the client waits meanwhile, its
/// own channel holding at most [`CLIENT_SLOTS`] more). While the client
/// keeps its channel full (a flood), they are gathered, letting it run
/// between, into one handover of up to [`BATCH`] updates, which the engine
/// writes in one transaction; a lone update goes at once.
async fn relay(mut from_client: mpsc::Receiver<Update>, to_engine: mpsc::UnboundedSender<Relayed>) {
    let budget = Arc::new(Semaphore::new(UPDATES_IN_FLIGHT_BYTES));
    let share_of = |update: &Update| {
        u32::try_from(update_bytes(update).clamp(1, UPDATES_IN_FLIGHT_BYTES)).unwrap_or(u32::MAX)
    };
    let mut waiting: Option<Update> = None;
    loop {
        let first = match waiting.take() {
            Some(update) => update,
            None => match from_client.recv().await {
                Some(update) => update,
                None => return,
            },
        };
        let Ok(mut share) = budget.clone().acquire_many_owned(share_of(&first)).await else {
            return;
        };
        let mut updates = vec![first];
        // How many came at once: a full channel means the client has more.
        let mut taken = 1;
        'gather: loop {
            while updates.len() < BATCH {
                let Ok(update) = from_client.try_recv() else {
                    break;
                };
                match budget.clone().try_acquire_many_owned(share_of(&update)) {
                    Ok(more) => {
                        share.merge(more);
                        updates.push(update);
                        taken += 1;
                    }
                    // Over the budget: it waits for the engine to take
                    // these.
                    Err(_) => {
                        waiting = Some(update);
                        break 'gather;
                    }
                }
            }
            if taken < CLIENT_SLOTS || updates.len() >= BATCH {
                break;
            }
            tokio::task::yield_now().await;
            taken = 0;
        }
        let relayed = Relayed {
            updates,
            _share: share,
        };
        if to_engine.send(relayed).is_err() {
            return;
        }
    }
}

impl Follow {
    fn new(subscription: &Subscription, server: String) -> Follow {
        Follow {
            name: subscription.name.as_str().into(),
            server: server.into(),
            subscription: subscription.clone(),
            client: None,
            updates: mpsc::unbounded_channel().1,
            relay: None,
        }
    }

    /// Stop the client and its relay, and leave no updates channel, so
    /// that nothing the old connection still had in flight arrives late.
    fn stop(&mut self) {
        if let Some(client) = self.client.take() {
            // Dropping the control sender ends the client as well, should
            // this message not fit.
            let _ = client.try_send(Control::Stop);
        }
        if let Some(relay) = self.relay.take() {
            relay.abort();
        }
        self.updates = mpsc::unbounded_channel().1;
    }

    /// A channel for a new client, relayed into `updates`.
    fn start_relay(&mut self) -> mpsc::Sender<Update> {
        let (client, from_client) = mpsc::channel(CLIENT_SLOTS);
        let (to_engine, updates) = mpsc::unbounded_channel();
        self.updates = updates;
        self.relay = Some(tokio::spawn(relay(from_client, to_engine)));
        client
    }

    /// Stopped for good ([`Follow::stop`]): what its connection had
    /// still in flight is dropped.
    fn is_stopped(&self) -> bool {
        self.relay.is_none()
    }

    fn send(&self, control: Control) -> bool {
        match &self.client {
            Some(client) if !client.is_closed() => {
                let _ = client.try_send(control);
                true
            }
            _ => false,
        }
    }
}

/// The next update of any subscription's connection, with its index;
/// pending while there is none, `None` once every connection has ended
/// and handed over all it had (at once without subscriptions). Each poll
/// starts after the follow served last, so that a flood on one stream
/// never starves another.
fn next_updates<'a>(
    follows: &'a mut [Follow],
    start: &'a mut usize,
) -> impl std::future::Future<Output = Option<(usize, Vec<Update>)>> + 'a {
    use std::task::Poll;
    std::future::poll_fn(move |cx| {
        let count = follows.len();
        let mut any_open = false;
        for offset in 0..count {
            let index = (*start + offset) % count;
            // The updates' share of the budget goes back as the engine
            // takes them: it handles them before anything else runs.
            match follows[index].updates.poll_recv(cx) {
                Poll::Ready(Some(relayed)) => {
                    *start = (index + 1) % count;
                    return Poll::Ready(Some((index, relayed.updates)));
                }
                Poll::Ready(None) => {}
                Poll::Pending => any_open = true,
            }
        }
        if any_open {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    })
}

/// The engine's outside: send commands, subscribe to events.
#[derive(Clone)]
pub struct EngineHandle {
    pub commands: mpsc::Sender<Command>,
    sinks: broadcast::Sender<EngineEvent>,
    unread: watch::Receiver<u64>,
    bytes_received: Arc<AtomicU64>,
}

impl EngineHandle {
    /// The unread count as the store has it, updated after every write.
    pub fn unread(&self) -> watch::Receiver<u64> {
        self.unread.clone()
    }

    /// Bytes received from servers since start.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.sinks.subscribe()
    }
}

impl Engine {
    /// An engine on an open store.
    pub fn new(
        settings: Settings,
        store: Store,
        backoff: Backoff,
    ) -> (Engine, EngineHandle, mpsc::Receiver<Command>) {
        let database = store.path().to_path_buf();
        Engine::build(settings, Some(store), database, backoff, None)
    }

    /// An engine whose store could not be opened: it runs all the same,
    /// keeps what arrives, and opens the store when it can.
    pub fn with_store_closed(
        settings: Settings,
        database: PathBuf,
        error: &StoreError,
        backoff: Backoff,
    ) -> (Engine, EngineHandle, mpsc::Receiver<Command>) {
        let problem = store_problem(error);
        tracing::error!("{problem}");
        Engine::build(settings, None, database, backoff, Some(problem))
    }

    fn build(
        settings: Settings,
        store: Option<Store>,
        database: PathBuf,
        backoff: Backoff,
        store_problem: Option<String>,
    ) -> (Engine, EngineHandle, mpsc::Receiver<Command>) {
        let (commands_tx, commands) = mpsc::channel(64);
        let (sinks, _) = broadcast::channel(1024);
        let (login_images, made_images) = LoginImages::new();
        let (unread, unread_rx) = watch::channel(0);
        let retry_store = store_problem
            .is_some()
            .then(|| tokio::time::Instant::now() + STORE_RETRY);
        let engine = Engine {
            store,
            database,
            store_problem,
            pending: VecDeque::new(),
            pending_bytes: 0,
            taken_since_trim: 0,
            dropped: 0,
            retry_store,
            settings,
            backoff,
            follows: Vec::new(),
            login_images,
            made_images,
            sinks: sinks.clone(),
            unread,
            inserts_since_retention: 0,
            bytes_received: Arc::default(),
            network_heard: false,
            sleep_heard: false,
            shutdown: Shutdown::never(),
        };
        let handle = EngineHandle {
            commands: commands_tx,
            sinks,
            unread: unread_rx,
            bytes_received: engine.bytes_received.clone(),
        };
        (engine, handle, commands)
    }

    /// What the desktop tells of the network and of sleep, so that the
    /// client waits for it rather than polling.
    pub fn hearing(mut self, network: bool, sleep: bool) -> Engine {
        self.network_heard = network;
        self.sleep_heard = sleep;
        self
    }

    /// Run until the app quits (`shutdown`, which each connection is given
    /// too) or every command sender is gone; then [`Engine::finish`].
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>, shutdown: Shutdown) {
        self.shutdown = shutdown;
        let retention = self.settings.history;
        self.with_store(|store| store.apply_retention(retention));
        self.refresh_unread();
        if self.store_problem.is_some() {
            self.broadcast(EngineEvent::StoreProblem(self.store_problem.clone()));
        }
        let settings = self.settings.clone();
        self.follow(&settings);
        let mut next = 0;
        loop {
            let retry_store = self.retry_store;
            tokio::select! {
                _ = self.shutdown.recv() => break,
                command = commands.recv() => match command {
                    None => break,
                    Some(command) => self.handle(command),
                },
                Some((index, updates)) = next_updates(&mut self.follows, &mut next) => self.on_updates(index, updates),
                Some(image) = self.made_images.recv() => self.on_login_image(image),
                _ = sleep_until(retry_store), if retry_store.is_some() => self.retry_store_now(),
            }
        }
        self.finish(commands).await;
    }

    /// The end of a run: nothing received is left unwritten that can be
    /// written, and the store is closed, before the engine ends (and the
    /// app's quit, waiting for it, lets the process exit).
    ///
    /// Why in this order: a connection stops reading at the quit (it hears
    /// `shutdown` itself, or loses its control channel here), but what it
    /// had handed over (in its channel, gathered by its relay, or waiting
    /// for the engine) was received from the server, which sends it again
    /// only if asked from the stored resume point. So the engine takes
    /// updates until every connection and relay has ended (bounded: at
    /// most [`UPDATES_IN_FLIGHT_BYTES`] and [`CLIENT_SLOTS`] updates a
    /// connection, and the items of the one read in hand), writes them in
    /// the order they came, with the commands already asked for, and only
    /// then closes the store. No transaction is cut: writes are made
    /// between two awaits, so the quit is heard only after a commit.
    async fn finish(&mut self, mut commands: mpsc::Receiver<Command>) {
        commands.close();
        while let Ok(command) = commands.try_recv() {
            self.handle(command);
        }
        for follow in &mut self.follows {
            // Its client ends at its next look at the controls, should the
            // app not be quitting.
            follow.client = None;
        }
        let mut next = 0;
        while let Some((index, updates)) = next_updates(&mut self.follows, &mut next).await {
            self.on_updates(index, updates);
        }
        // A last try for what still waits, whatever the retry timer says.
        self.retry_store = None;
        self.flush();
        self.close_store();
    }

    /// Close the store, saying what could not be written.
    fn close_store(&mut self) {
        if !self.pending.is_empty() {
            tracing::error!(
                "quitting with {} received event(s) not written: {}",
                self.pending.len(),
                self.store_problem
                    .as_deref()
                    .unwrap_or("the history is not open")
            );
        }
        if let Some(Err(error)) = self.store.take().map(Store::close) {
            tracing::warn!("{}", store_problem(&error));
        }
    }

    fn broadcast(&self, event: EngineEvent) {
        // No subscriber is fine: a headless run may have no sinks.
        let _ = self.sinks.send(event);
    }

    fn set_state(&mut self, index: usize, state: ConnectionState) {
        let subscription = self.follows[index].name.clone();
        tracing::info!("{subscription}: {state}");
        self.broadcast(EngineEvent::State {
            subscription,
            state,
        });
    }

    /// Run `action` on the open store. A failure is reported and `None`
    /// returned: the engine goes on, and tries the store again later.
    fn with_store<T>(
        &mut self,
        action: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Option<T> {
        let result = action(self.store.as_mut()?);
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.store_failed(&error);
                None
            }
        }
    }

    /// Say what is wrong and try again later; writes wait until then, so
    /// that a locked or full store is not hammered once per event.
    fn store_failed(&mut self, error: &StoreError) {
        let problem = store_problem(error);
        if self.store_problem.as_deref() != Some(&problem) {
            tracing::error!("{problem}");
            self.store_problem = Some(problem);
        }
        self.retry_store = Some(tokio::time::Instant::now() + STORE_RETRY);
        self.broadcast_store_problem();
    }

    /// The problem in words, with what waits and what was lost.
    fn broadcast_store_problem(&self) {
        let mut problem = self.store_problem.clone();
        if let Some(text) = problem.as_mut() {
            if !self.pending.is_empty() {
                text.push_str(&format!(
                    " {} new event(s) wait in memory and will be written when it can.",
                    self.pending.len()
                ));
            }
            if self.dropped > 0 {
                text.push_str(&format!(
                    " {} older one(s) could not be kept.",
                    self.dropped
                ));
            }
        }
        self.broadcast(EngineEvent::StoreProblem(problem));
    }

    /// The retry timer: open the store if it is closed, check that it takes
    /// writes, and write what waits. Success ends the timer and the problem.
    fn retry_store_now(&mut self) {
        self.retry_store = None;
        if self.store.is_none() {
            match Store::open(&self.database) {
                Ok((store, _)) => {
                    tracing::info!("the history database {} is open", self.database.display());
                    // Nothing received yet, and the store knows where a
                    // stream stopped: reconnect from there, so that what the
                    // server sent while the store was closed is replayed.
                    let resume: Vec<usize> = (0..self.follows.len())
                        .filter(|&index| {
                            store
                                .last_event_id(&self.follows[index].server)
                                .ok()
                                .flatten()
                                .is_some_and(|id| !id.is_empty())
                        })
                        .collect();
                    self.store = Some(store);
                    if self.pending.is_empty() {
                        for index in resume {
                            self.connect(index);
                        }
                    }
                }
                Err(error) => {
                    self.store_failed(&error);
                    return;
                }
            }
        }
        if self.pending.is_empty() && self.with_store(|store| store.check_writable()).is_none() {
            return;
        }
        self.flush();
    }

    /// Follow the subscriptions of `settings`: a connection each, kept as
    /// it is where nothing it depends on changed (a renamed subscription or
    /// new rules do not reconnect it), started anew where something did,
    /// stopped where the subscription went.
    fn follow(&mut self, settings: &Settings) {
        let max = settings.max_event_bytes;
        let mut before = std::mem::take(&mut self.follows);
        let mut to_connect = Vec::new();
        for subscription in settings.followed() {
            let Some(server) = subscription.server_key() else {
                continue;
            };
            let same_stream = before.iter().position(|follow| *follow.server == *server);
            match same_stream.map(|index| before.remove(index)) {
                Some(mut follow)
                    if follow
                        .subscription
                        .connection_key(self.settings.max_event_bytes)
                        == subscription.connection_key(max) =>
                {
                    follow.name = subscription.name.as_str().into();
                    follow.subscription = subscription.clone();
                    self.follows.push(follow);
                }
                stale => {
                    if let Some(mut follow) = stale {
                        follow.stop();
                    }
                    self.follows.push(Follow::new(subscription, server));
                    to_connect.push(self.follows.len() - 1);
                }
            }
        }
        for mut gone in before {
            tracing::info!("{}: no longer followed", gone.name);
            gone.stop();
        }
        let follows = &self.follows;
        self.login_images
            .keep_only(|server| follows.iter().any(|follow| *follow.server == *server));
        self.settings = settings.clone();
        for index in to_connect {
            self.connect(index);
        }
    }

    /// (Re)start the client of follow `index`.
    fn connect(&mut self, index: usize) {
        self.follows[index].stop();
        let follow = &self.follows[index];
        let server = follow.server.clone();
        let Some(mut config) = follow
            .subscription
            .client_config(self.settings.max_event_bytes)
        else {
            return;
        };
        config.backoff = self.backoff;
        config.bytes_received = self.bytes_received.clone();
        // Where the store says, else (the store unreadable) where this run
        // got to: the newest resume point still waiting to be written.
        let waiting = self.pending.iter().rev().find_map(|pending| match pending {
            Pending::Event {
                server: from,
                event,
                ..
            } if *from == server => Some(event.last_event_id.to_string()),
            Pending::ResumePoint { server: from, id } if *from == server => Some(id.clone()),
            _ => None,
        });
        let stored = self
            .with_store(|store| store.last_event_id(&server))
            .flatten();
        config.last_event_id = waiting.or(stored).unwrap_or_default();
        config.hearing(self.network_heard, self.sleep_heard);
        if !config.last_event_id.is_empty() {
            tracing::info!(last_event_id = %config.last_event_id, "resuming {server}");
        }
        let updates = self.follows[index].start_relay();
        let shutdown = self
            .shutdown
            .for_task(&format!("the connection of {}", self.follows[index].name));
        match client::spawn_until(config, updates, shutdown) {
            Ok(control) => self.follows[index].client = Some(control),
            Err(error) => {
                // A bad CA file: say so in the state, keep running so the
                // user can fix the setting.
                self.set_state(
                    index,
                    ConnectionState::Stopped {
                        reason: error.to_string(),
                    },
                );
            }
        }
    }

    /// The follows a command names: the one called `name`, or all.
    fn named(&self, name: Option<&str>) -> Vec<usize> {
        (0..self.follows.len())
            .filter(|&index| name.is_none_or(|name| *self.follows[index].name == *name))
            .collect()
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::MarkRead(id) => {
                if self.with_store(|store| store.mark_read(id)) == Some(true) {
                    self.refresh_unread();
                }
            }
            Command::MarkAllRead => {
                self.with_store(|store| store.mark_all_read());
                self.refresh_unread();
            }
            Command::Delete(id) => {
                if self.with_store(|store| store.delete(id)) == Some(true) {
                    self.refresh_unread();
                }
            }
            Command::ClearHistory => {
                self.with_store(|store| store.clear());
                self.refresh_unread();
            }
            Command::ReconnectNow(name) => {
                for index in self.named(name.as_deref()) {
                    if !self.follows[index].send(Control::ReconnectNow) {
                        self.connect(index);
                    }
                }
            }
            Command::ResetResumePoint(name) => {
                for index in self.named(name.as_deref()) {
                    let server = self.follows[index].server.clone();
                    tracing::info!("forgetting where {server} stopped, at the user's request");
                    // In order with what waits, so that nothing older
                    // written later puts the old point back.
                    self.queue(Pending::ResumePoint {
                        server,
                        id: String::new(),
                    });
                    self.flush();
                    if !self.follows[index].send(Control::ForgetResumePoint) {
                        self.connect(index);
                    }
                }
            }
            Command::DeleteHistoryOf(server) => {
                // What still waits for that stream goes too.
                self.pending.retain(|pending| match pending {
                    Pending::Event { server: from, .. }
                    | Pending::ResumePoint { server: from, .. } => **from != *server,
                });
                self.pending_bytes = self.pending.iter().map(Pending::bytes).sum();
                self.with_store(|store| store.delete_server(&server));
                self.refresh_unread();
            }
            Command::ApplySettings(settings) => {
                let retention_changed = settings.history != self.settings.history;
                self.follow(&settings);
                if retention_changed {
                    let retention = self.settings.history;
                    self.with_store(|store| store.apply_retention(retention));
                    self.refresh_unread();
                }
            }
            Command::Network(control) => {
                for follow in &self.follows {
                    follow.send(control);
                }
            }
            Command::Store { server, event } => {
                self.receive_from(server.into(), event, None);
                self.flush();
            }
        }
    }

    /// Publish the store's count (kept by the store itself, so reading it
    /// costs one row). Without a store, the last count stands.
    fn refresh_unread(&mut self) {
        if let Some(unread) = self.with_store(|store| store.unread_count()) {
            self.unread.send_if_modified(|shown| {
                let changed = *shown != unread;
                *shown = unread;
                changed
            });
        }
    }

    /// Updates of follow `index`, in order (a flood comes in batches, and
    /// is written so).
    fn on_updates(&mut self, index: usize, updates: Vec<Update>) {
        for update in updates {
            match update {
                Update::Event(event) => {
                    let server = self.follows[index].server.clone();
                    self.receive_from(server, event, Some(index));
                    // The server closed the stream: what came after on this
                    // connection is dropped with it.
                    if self.follows[index].is_stopped() {
                        break;
                    }
                }
                Update::State(state) => {
                    self.flush();
                    self.set_state(index, state);
                }
                Update::LastEventId(id) => {
                    let server = self.follows[index].server.clone();
                    self.queue(Pending::ResumePoint { server, id });
                }
            }
        }
        self.flush();
    }

    /// Interpret an event from `server` and queue it; `followed` is the
    /// follow it came on, if it came on one of this engine's connections.
    fn receive_from(&mut self, server: Arc<str>, event: SseEvent, followed: Option<usize>) {
        let app_event = feed::interpret(&event);
        let rule = self.settings.rule_for(&server, &event.event_type);
        let server_closed = app_event == AppEvent::ServerClosed;
        if rule == TypeRule::Ignore {
            // Not stored, but the stream still resumes after it.
            self.queue(Pending::ResumePoint {
                server,
                id: event.last_event_id.to_string(),
            });
        } else {
            self.queue(Pending::Event {
                server,
                event,
                app_event,
                rule,
                received_at_ms: now_ms(),
            });
        }
        if let Some(index) = followed.filter(|_| server_closed) {
            self.follows[index].stop();
            self.set_state(
                index,
                ConnectionState::Stopped {
                    reason: "the server closed the stream (server_closed)".into(),
                },
            );
        }
    }

    fn queue(&mut self, pending: Pending) {
        self.pending_bytes += pending.bytes();
        self.pending.push_back(pending);
        while self.pending.len() > MAX_PENDING_EVENTS || self.pending_bytes > MAX_PENDING_BYTES {
            let Some(oldest) = self.pending.pop_front() else {
                break;
            };
            self.pending_bytes -= oldest.bytes();
            if let Pending::Event { .. } = oldest {
                self.dropped = self.dropped.saturating_add(1);
                tracing::warn!("the history cannot be written and its queue is full: dropped the oldest waiting event");
            }
        }
    }

    /// Write what waits, in order, in batches; only what was committed is
    /// told to the sinks. Stops at the first failure, keeping the rest;
    /// while a failure waits for its retry, writes nothing.
    fn flush(&mut self) {
        if self.retry_store.is_some() || self.store.is_none() {
            return;
        }
        let batch_bytes = self.batch_bytes();
        while let Some(front) = self.pending.front() {
            let mut bytes = 0;
            let events = self
                .pending
                .iter()
                .take(BATCH)
                .take_while(|pending| matches!(pending, Pending::Event { .. }))
                .take_while(|pending| {
                    let first = bytes == 0;
                    bytes += pending.bytes();
                    first || bytes <= batch_bytes
                })
                .count();
            let written = if events > 0 {
                self.write_events(events)
            } else if let Pending::ResumePoint { server, id } = front {
                let (server, id) = (server.clone(), id.clone());
                let written = self
                    .with_store(|store| store.set_last_event_id(&server, &id))
                    .is_some();
                if written {
                    self.take_front(1);
                }
                written
            } else {
                false
            };
            if !written {
                return;
            }
        }
        if self.taken_since_trim >= TRIM_AFTER_BYTES {
            self.taken_since_trim = 0;
            // Once the sinks have taken what was just written: they were
            // woken before this task is queued.
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(async { crate::core::allocator::trim() })),
                Err(_) => crate::core::allocator::trim(),
            }
        }
        if self.store_problem.take().is_some() {
            tracing::info!("the history database takes writes again");
            self.dropped = 0;
            self.broadcast(EngineEvent::StoreProblem(None));
            self.refresh_unread();
        }
    }

    /// The most one transaction writes: [`BATCH_BYTES`], and no more than
    /// an eighth of what the history keeps.
    fn batch_bytes(&self) -> usize {
        let keep = self.settings.history.keep_bytes() / 8;
        BATCH_BYTES.min(usize::try_from(keep).unwrap_or(usize::MAX))
    }

    /// Whether retention is due: after [`RETENTION_EVERY`] inserts, or once
    /// [`RETENTION_EVERY_BYTES`] or an eighth of `keep_megabytes` was
    /// written, whichever comes first.
    fn retention_due(&self) -> bool {
        let written = self
            .store
            .as_ref()
            .map_or(0, Store::written_since_retention);
        let every_bytes = RETENTION_EVERY_BYTES.min(self.settings.history.keep_bytes() / 8);
        self.inserts_since_retention >= RETENTION_EVERY || written >= every_bytes
    }

    fn take_front(&mut self, count: usize) -> Vec<Pending> {
        let taken: Vec<Pending> = self.pending.drain(..count).collect();
        let bytes = taken.iter().map(Pending::bytes).sum::<usize>();
        self.pending_bytes -= bytes;
        self.taken_since_trim += bytes;
        taken
    }

    /// Commit the first `count` waiting items, all events, and only then
    /// tell the sinks. `false` when the store refused them (they stay).
    fn write_events(&mut self, count: usize) -> bool {
        let ids = {
            let entries = new_entries(&self.pending, count);
            let Some(store) = self.store.as_mut() else {
                return false;
            };
            match store.insert_many(&entries) {
                Ok(ids) => ids,
                Err(error) => {
                    self.store_failed(&error);
                    return false;
                }
            }
        };
        let written = self.take_front(count);
        let mut added_unread = false;
        for (pending, id) in written.into_iter().zip(ids) {
            added_unread |= self.announce_stored(pending, id);
        }
        if added_unread {
            self.refresh_unread();
        }
        self.apply_retention_if_due();
        true
    }

    /// Tell the sinks of an event just committed as row `id` (`None`: a
    /// replay, not stored again); whether it adds to the unread count.
    fn announce_stored(&mut self, pending: Pending, id: Option<i64>) -> bool {
        let Pending::Event {
            server,
            event,
            app_event,
            rule,
            received_at_ms,
        } = pending
        else {
            return false;
        };
        let Some(id) = id else {
            tracing::debug!(id = %event.last_event_id, "skipping a replayed event");
            return false;
        };
        self.inserts_since_retention += 1;
        let weight = app_event.unread_weight().min(feed::MAX_NOTIFICATION_COUNT);
        let entry = HistoryEntry {
            id,
            server: server.to_string(),
            event_type: event.event_type.to_string(),
            event_id: event.has_own_id.then(|| event.last_event_id.to_string()),
            data: event.data,
            kind: app_event.kind().to_string(),
            unread_weight: weight,
            received_at_ms,
            read: weight == 0,
        };
        if let AppEvent::Login(step) = &app_event {
            self.login_images.newest_step(&server, received_at_ms, step);
        }
        let subscription = self
            .follows
            .iter()
            .find(|follow| follow.server == server)
            .map(|follow| follow.name.clone());
        self.broadcast(EngineEvent::Stored(Arc::new(StoredEvent {
            subscription,
            entry,
            event: app_event,
            rule,
        })));
        weight > 0
    }

    fn apply_retention_if_due(&mut self) {
        if !self.retention_due() {
            return;
        }
        self.inserts_since_retention = 0;
        let retention = self.settings.history;
        if self
            .with_store(|store| store.apply_retention(retention))
            .is_some_and(|removed| removed > 0)
        {
            self.refresh_unread();
        }
    }
}

/// The store's rows for the first `count` waiting items (the events among
/// them), borrowed from the queue.
fn new_entries(pending: &VecDeque<Pending>, count: usize) -> Vec<NewEntry<'_>> {
    pending
        .iter()
        .take(count)
        .filter_map(|pending| match pending {
            Pending::Event {
                server,
                event,
                app_event,
                received_at_ms,
                ..
            } => Some(NewEntry {
                server,
                event_type: &event.event_type,
                event_id: event.has_own_id.then_some(&*event.last_event_id),
                last_event_id: &event.last_event_id,
                data: &event.data,
                event: app_event,
                received_at_ms: *received_at_ms,
            }),
            Pending::ResumePoint { .. } => None,
        })
        .collect()
}

impl Engine {
    fn on_login_image(&mut self, image: MadeImage) {
        // Only the newest step's: an older one's, made before the newer
        // step came, is dropped (the store checks the step's time as well).
        if !self.login_images.is_newest(&image) {
            return;
        }
        let stored = self.with_store(|store| {
            store.set_login_image(&image.server, image.updated_at_ms, &image.png)
        });
        if stored == Some(true) {
            self.broadcast(EngineEvent::LoginImage {
                server: image.server,
            });
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A store error in words for the tray and the status view.
fn store_problem(error: &StoreError) -> String {
    format!("History unavailable: {error}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long a test waits for the tasks to end after a quit: one still
    /// running after this does not end at all.
    const PATIENCE: Duration = Duration::from_secs(60);
    use crate::protocol::shutdown::ShutdownSignal;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// The test binary's allocator counts what each thread allocates and
    /// frees, so that a test can weigh what the engine it drives on its
    /// own thread really holds, independently of the engine's own count.
    struct CountingAllocator;

    thread_local! {
        static HELD: Cell<i64> = const { Cell::new(0) };
        static PEAK: Cell<i64> = const { Cell::new(0) };
    }

    fn count(change: i64) {
        let _ = HELD.try_with(|held| {
            held.set(held.get() + change);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(held.get())));
        });
    }

    /// The most this thread held at once while `work` ran, above what it
    /// held before.
    fn peak_of<T>(work: impl FnOnce() -> T) -> (T, i64) {
        let before = held_here();
        PEAK.with(|peak| peak.set(before));
        let output = work();
        (output, PEAK.with(Cell::get) - before)
    }

    unsafe impl GlobalAlloc for CountingAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size() as i64);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            count(-(layout.size() as i64));
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size as i64 - layout.size() as i64);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    /// Bytes this thread holds now.
    fn held_here() -> i64 {
        HELD.with(Cell::get)
    }

    const SERVER: &str = "http://127.0.0.1:1/stream";

    fn event(event_type: String, data: String, id: Option<String>) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data,
            has_own_id: id.is_some(),
            last_event_id: id.unwrap_or_default().into(),
        }
    }

    fn store_command(event: SseEvent) -> Command {
        Command::Store {
            server: SERVER.into(),
            event,
        }
    }

    #[test]
    fn a_history_of_one_megabyte_stays_near_one_megabyte_on_disk_whatever_the_type_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let (store, _) = Store::open(&path).unwrap();
        let mut settings = Settings::default();
        settings.history.keep_megabytes = 1;
        let (mut engine, _handle, _commands) = Engine::new(settings, store, Backoff::default());
        // 40 MB sent: a new type name of 20 kB on every event with a few
        // bytes of data; every other one with an id of 2 kB, which the
        // replay index copies with the type.
        let mut sent = 0;
        for n in 0..2000 {
            let event_type = format!("{n:05}{}", "t".repeat(20_000));
            let id = (n % 2 == 0).then(|| format!("{n:05}{}", "i".repeat(2000)));
            let data = format!("event {n}");
            sent += event_type.len() + data.len() + id.as_ref().map_or(0, String::len);
            engine.handle(store_command(event(event_type, data, id)));
        }
        assert!(sent > 40_000_000);
        let store = engine.store.as_ref().unwrap();
        let kept = store.count().unwrap();
        assert!((40..60).contains(&kept), "{kept} entries kept");
        let size = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |file| file.len())
        };
        let (file, log) = (size(""), size("-wal"));
        // The limit, what is written between two runs of retention (an
        // eighth of it, and one transaction of at most as much) and
        // SQLite's own: pages, indexes, the search index, the schema.
        assert!(file <= 1_600_000, "the history file holds {file} bytes");
        // The write-ahead log is written into the file at 4 MiB (1000
        // pages), and cut back to that.
        assert!(
            log <= 4 * 1024 * 1024 + 300_000,
            "its log holds {log} bytes"
        );
        eprintln!("{kept} entries kept; history file {file} bytes, log {log} bytes");
    }

    /// Let every task that can run, run, until none makes progress.
    async fn settle(progress: impl Fn() -> usize) {
        let mut unchanged = 0;
        while unchanged < 3 {
            let before = progress();
            tokio::task::yield_now().await;
            unchanged = if progress() == before {
                unchanged + 1
            } else {
                0
            };
        }
    }

    #[tokio::test]
    async fn a_connection_hands_over_at_most_its_budget_of_large_events() {
        let (client, from_client) = mpsc::channel(CLIENT_SLOTS);
        let (to_engine, mut engine) = mpsc::unbounded_channel();
        tokio::spawn(relay(from_client, to_engine));
        let sent = Arc::new(AtomicU64::new(0));
        let counted = sent.clone();
        tokio::spawn(async move {
            for n in 0..1000 {
                let data = "d".repeat(1 << 20);
                let event = event(format!("type {n}"), data, None);
                if client.send(Update::Event(event)).await.is_err() {
                    return;
                }
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        settle(|| sent.load(Ordering::SeqCst) as usize).await;
        // The engine has taken nothing: the budget, the client's channel
        // and the one the relay holds, of 1 MiB each.
        let in_flight = sent.load(Ordering::SeqCst) as usize;
        let most = UPDATES_IN_FLIGHT_BYTES / (1 << 20) + CLIENT_SLOTS + 1;
        assert!(in_flight <= most, "{in_flight} events of 1 MiB in flight");
        // Once the engine takes them, more come.
        let mut taken = 0;
        while taken < 100 {
            taken += engine.recv().await.unwrap().updates.len();
        }
    }

    #[tokio::test]
    async fn a_flood_of_tiny_events_is_handed_over_in_batches() {
        let (client, from_client) = mpsc::channel(CLIENT_SLOTS);
        let (to_engine, mut engine) = mpsc::unbounded_channel();
        tokio::spawn(relay(from_client, to_engine));
        tokio::spawn(async move {
            for n in 0..2000 {
                let event = event("message".into(), format!("{n}"), None);
                if client.send(Update::Event(event)).await.is_err() {
                    return;
                }
            }
        });
        let first = engine.recv().await.unwrap();
        assert_eq!(first.updates.len(), BATCH);
        let mut count = first.updates.len();
        while count < 2000 {
            count += engine.recv().await.unwrap().updates.len();
        }
        assert_eq!(count, 2000);
    }

    #[test]
    fn reading_an_event_takes_little_more_than_its_data_whatever_its_json() {
        // JSON that weighs the most read whole: an array of zeros, an
        // object of empty keys, arrays of empty arrays; and a known key
        // given over and over.
        let zeros = format!(r#"{{"title": "t", "n": [{}0]}}"#, "0,".repeat(500_000));
        let keys = format!("{{{}\"\": 0}}", "\"\": 0, ".repeat(150_000));
        let arrays = format!("[{}[]]", "[],".repeat(330_000));
        let titles = format!(
            "{{{}\"title\": \"t\"}}",
            "\"title\": \"t\", ".repeat(80_000)
        );
        for (event_type, data) in [
            ("message", &zeros),
            ("message", &keys),
            ("notification", &arrays),
            ("login", &titles),
        ] {
            let event = event(event_type.into(), data.clone(), None);
            let (_, peak) = peak_of(|| feed::interpret(&event));
            // The text it keeps (at most 4,000 characters) and the parser's
            // own buffers.
            assert!(
                peak < 100_000,
                "{} bytes of JSON took {peak} bytes",
                data.len()
            );
        }
    }

    #[test]
    fn the_queue_for_a_store_that_cannot_be_written_holds_at_most_64_mib() {
        let dir = tempfile::tempdir().unwrap();
        let error = StoreError::Folder {
            path: dir.path().to_path_buf(),
            source: std::io::Error::other("in the way"),
        };
        let (mut engine, _handle, _commands) = Engine::with_store_closed(
            Settings::default(),
            dir.path().join("history.db"),
            &error,
            Backoff::default(),
        );
        let before = held_here();
        // 220 MB sent: a new type name of a megabyte on every event, with
        // 100 kB of data; an id-only block of 100 kB after each.
        for n in 0..200 {
            let event_type = format!("{n:03}{}", "t".repeat(1 << 20));
            let data = "d".repeat(100_000);
            engine.handle(store_command(event(event_type, data, None)));
            engine.queue(Pending::ResumePoint {
                server: SERVER.into(),
                id: "i".repeat(100_000),
            });
        }
        let held = held_here() - before;
        assert!(
            held <= MAX_PENDING_BYTES as i64,
            "the queue holds {held} bytes ({} items, counted {})",
            engine.pending.len(),
            engine.pending_bytes
        );
        assert!(engine.pending_bytes <= MAX_PENDING_BYTES);
        // The newest are kept, the oldest counted as lost.
        assert!(engine.dropped > 100, "{} dropped", engine.dropped);
        let newest = engine
            .pending
            .iter()
            .rev()
            .find_map(|pending| match pending {
                Pending::Event { event, .. } => Some(event.event_type[..3].to_string()),
                Pending::ResumePoint { .. } => None,
            });
        assert_eq!(newest.as_deref(), Some("199"));
        eprintln!(
            "the queue holds {held} bytes in {} items",
            engine.pending.len()
        );
    }

    /// An engine on a store in `dir` following one subscription whose
    /// connection is the test's: what it sends goes through the relay as a
    /// client's updates do.
    fn engine_with_a_connection(
        dir: &std::path::Path,
    ) -> (
        Engine,
        EngineHandle,
        mpsc::Receiver<Command>,
        mpsc::Sender<Update>,
    ) {
        let (store, _) = Store::open(&dir.join("history.db")).unwrap();
        let subscription = Subscription::new("http://127.0.0.1:1/stream", "");
        let settings = Settings {
            subscriptions: vec![subscription.clone()],
            ..Settings::default()
        };
        let (mut engine, handle, commands) = Engine::new(settings, store, Backoff::default());
        let mut follow = Follow::new(&subscription, subscription.server_key().unwrap());
        let connection = follow.start_relay();
        engine.follows.push(follow);
        (engine, handle, commands, connection)
    }

    fn numbered(n: usize) -> Update {
        Update::Event(event(
            "message".into(),
            format!("{n}"),
            Some(format!("{n}")),
        ))
    }

    /// What the store holds in `dir`, in the order written, and its resume
    /// point.
    fn stored_in(dir: &std::path::Path) -> (Vec<String>, Option<String>) {
        let (store, _) = Store::open(&dir.join("history.db")).unwrap();
        let query = crate::core::store::HistoryQuery {
            limit: u32::MAX,
            ..Default::default()
        };
        let mut data: Vec<(i64, String)> = store
            .history(&query)
            .unwrap()
            .into_iter()
            .map(|entry| (entry.id, entry.data))
            .collect();
        data.sort();
        let resume_point = store
            .last_event_id(&crate::protocol::url_policy::redacted(
                &url::Url::parse("http://127.0.0.1:1/stream").unwrap(),
            ))
            .unwrap();
        (
            data.into_iter().map(|(_, data)| data).collect(),
            resume_point,
        )
    }

    fn counted(count: usize) -> Vec<String> {
        (0..count).map(|n| n.to_string()).collect()
    }

    #[tokio::test]
    async fn a_quit_writes_every_event_the_connection_had_handed_over() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, _handle, commands, connection) = engine_with_a_connection(dir.path());
        let signal = ShutdownSignal::new();
        // The connection hands over 3000 events, which wait in its channel
        // and its relay; then the quit comes, before the engine took any.
        let mut shutdown = signal.listener("the test's connection");
        let (handed_over_tx, handed_over) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            for n in 0..3000 {
                connection.send(numbered(n)).await.unwrap();
            }
            let _ = handed_over_tx.send(());
            shutdown.recv().await;
        });
        handed_over.await.unwrap();
        signal.begin();
        let engine = tokio::spawn(engine.run(commands, signal.listener("the engine")));
        let left = signal.finished(PATIENCE).await;
        assert!(left.is_empty(), "still running: {left:?}");
        engine.await.unwrap();
        let (stored, resume_point) = stored_in(dir.path());
        assert_eq!(stored.len(), 3000);
        assert!(stored == counted(3000), "stored out of order");
        assert_eq!(resume_point.as_deref(), Some("2999"));
    }

    #[tokio::test]
    async fn a_quit_during_a_flood_writes_what_was_handed_over_no_more_no_less() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, handle, commands, connection) = engine_with_a_connection(dir.path());
        let signal = ShutdownSignal::new();
        let mut stored = handle.subscribe();
        let engine = tokio::spawn(engine.run(commands, signal.listener("the engine")));
        // A connection reading a flood: an event counts as handed over
        // once its send is done; at the quit, it sends no more.
        let mut shutdown = signal.listener("the test's connection");
        let reading = tokio::spawn(async move {
            let mut handed_over = 0;
            while handed_over < 1_000_000 {
                tokio::select! {
                    biased;
                    _ = shutdown.recv() => break,
                    sent = connection.send(numbered(handed_over)) => {
                        sent.unwrap();
                        handed_over += 1;
                    }
                }
            }
            handed_over
        });
        // The quit comes once a first batch is committed.
        while !matches!(stored.recv().await, Ok(EngineEvent::Stored(_))) {}
        signal.begin();
        let left = signal.finished(PATIENCE).await;
        assert!(left.is_empty(), "still running: {left:?}");
        engine.await.unwrap();
        let handed_over = reading.await.unwrap();
        assert!(handed_over < 1_000_000, "the quit came after the flood");
        let (stored, resume_point) = stored_in(dir.path());
        assert_eq!(stored.len(), handed_over);
        assert!(stored == counted(handed_over), "stored out of order");
        assert_eq!(resume_point, Some((handed_over - 1).to_string()));
    }

    #[test]
    fn the_rows_of_a_batch_are_its_events_each_with_its_own_id_only_if_it_has_one() {
        let app_event = |event: &SseEvent| feed::interpret(event);
        let with_id = event("message".into(), "a".into(), Some("7".into()));
        let without = event("message".into(), "b".into(), None);
        let queue: VecDeque<Pending> = [
            Pending::ResumePoint {
                server: SERVER.into(),
                id: "6".into(),
            },
            Pending::Event {
                server: SERVER.into(),
                app_event: app_event(&with_id),
                event: with_id,
                rule: TypeRule::Notify,
                received_at_ms: 1,
            },
            Pending::Event {
                server: SERVER.into(),
                app_event: app_event(&without),
                event: without,
                rule: TypeRule::Notify,
                received_at_ms: 2,
            },
        ]
        .into();
        let rows = new_entries(&queue, 2);
        assert_eq!(
            rows.len(),
            1,
            "the resume point is no row, the third is not taken"
        );
        assert_eq!((rows[0].data, rows[0].event_id), ("a", Some("7")));
        let rows = new_entries(&queue, 3);
        assert_eq!((rows[1].data, rows[1].event_id), ("b", None));
        assert_eq!(rows[1].received_at_ms, 2);
    }
}

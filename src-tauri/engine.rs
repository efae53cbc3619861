//! The engine: connection, meaning and storage joined, and the one place that
//! decides what happens to an event.
//!
//! Data flows one way: the client's updates come in, each event is
//! interpreted (`feed`), committed to the store, and only then broadcast to
//! the sinks (notifier, tray, window). Sinks never call back; they, and the
//! user, send [`Command`]s. The engine is the only writer of the store, which
//! is what lets the window read it with a plain read-only connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use crate::feed::{self, AppEvent};
use crate::settings::{Settings, TypeRule};
use crate::sse::client::{self, ClientError};
use crate::sse::{Backoff, ClientConfig, ConnectionState, Control, SseEvent, Update};
use crate::store::{now_ms, HistoryEntry, NewEntry, Store, StoreError};

/// What the user (through the tray, window or CLI) asks of the engine.
#[derive(Debug, Clone)]
pub enum Command {
    MarkRead(i64),
    MarkAllRead,
    Delete(i64),
    ClearHistory,
    ReconnectNow,
    /// Validated settings to apply at once (a new server reconnects).
    ApplySettings(Box<Settings>),
    Quit,
}

/// A stored event, as the sinks see it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    pub entry: HistoryEntry,
    pub event: AppEvent,
    pub rule: TypeRule,
}

/// What the engine tells its sinks.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum EngineEvent {
    Stored(Arc<StoredEvent>),
    State(ConnectionState),
    UnreadCount(u64),
}

/// How many events go into one store transaction at most: a flood is
/// written in batches, a single event at once.
const BATCH: usize = 512;

/// Run retention after this many inserts (and at start).
const RETENTION_EVERY: u64 = 1000;

pub struct Engine {
    store: Store,
    settings: Settings,
    backoff: Backoff,
    /// The stream URL being followed, as stored with each event.
    server: Option<String>,
    client: Option<mpsc::Sender<Control>>,
    updates_tx: mpsc::Sender<Update>,
    updates: mpsc::Receiver<Update>,
    sinks: broadcast::Sender<EngineEvent>,
    state: ConnectionState,
    unread: u64,
    inserts_since_retention: u64,
    bytes_received: Arc<AtomicU64>,
}

/// The engine's outside: send commands, subscribe to events.
#[derive(Clone)]
pub struct EngineHandle {
    pub commands: mpsc::Sender<Command>,
    sinks: broadcast::Sender<EngineEvent>,
    bytes_received: Arc<AtomicU64>,
}

impl EngineHandle {
    /// Bytes received from servers since start.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.sinks.subscribe()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl Engine {
    pub fn new(
        settings: Settings,
        store: Store,
        backoff: Backoff,
    ) -> Result<(Engine, EngineHandle, mpsc::Receiver<Command>), EngineError> {
        let (commands_tx, commands) = mpsc::channel(64);
        let (sinks, _) = broadcast::channel(1024);
        let (updates_tx, updates) = mpsc::channel(1024);
        let unread = store.unread_count()?;
        let engine = Engine {
            store,
            settings,
            backoff,
            server: None,
            client: None,
            updates_tx,
            updates,
            sinks: sinks.clone(),
            state: ConnectionState::Stopped {
                reason: "no server configured".into(),
            },
            unread,
            inserts_since_retention: 0,
            bytes_received: Arc::default(),
        };
        let handle = EngineHandle {
            commands: commands_tx,
            sinks,
            bytes_received: engine.bytes_received.clone(),
        };
        Ok((engine, handle, commands))
    }

    pub fn state(&self) -> &ConnectionState {
        &self.state
    }

    /// Run until `Quit` or until every command sender is gone.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) -> Result<(), EngineError> {
        self.store.apply_retention(self.settings.history)?;
        self.connect()?;
        self.broadcast(EngineEvent::UnreadCount(self.unread));
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None | Some(Command::Quit) => break,
                    Some(command) => self.handle(command)?,
                },
                Some(update) = self.updates.recv() => self.on_update(update)?,
            }
        }
        if let Some(client) = self.client.take() {
            let _ = client.send(Control::Stop).await;
        }
        Ok(())
    }

    fn broadcast(&self, event: EngineEvent) {
        // No subscriber is fine: a headless run may have no sinks.
        let _ = self.sinks.send(event);
    }

    fn set_state(&mut self, state: ConnectionState) {
        tracing::info!("{state}");
        self.state = state.clone();
        self.broadcast(EngineEvent::State(state));
    }

    /// (Re)start the client on the configured server.
    fn connect(&mut self) -> Result<(), EngineError> {
        self.stop_client();
        let Some(url) = self.settings.stream_url() else {
            self.server = None;
            self.set_state(ConnectionState::Stopped {
                reason: "no server configured".into(),
            });
            return Ok(());
        };
        let server = url.to_string();
        let mut config = ClientConfig::new(url);
        config.backoff = self.backoff;
        config.bytes_received = self.bytes_received.clone();
        config.last_event_id = self.store.last_event_id(&server)?.unwrap_or_default();
        config.extra_ca_file = self.settings.extra_ca_file.clone();
        for (name, value) in &self.settings.headers {
            // Validated with the settings; a bad pair is skipped, not fatal.
            if let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                config.headers.insert(name, value);
            }
        }
        if !config.last_event_id.is_empty() {
            tracing::info!(last_event_id = %config.last_event_id, "resuming {server}");
        }
        self.server = Some(server);
        match client::spawn(config, self.updates_tx.clone()) {
            Ok(control) => self.client = Some(control),
            Err(error) => {
                // A bad CA file: say so in the state, keep running so the
                // user can fix the setting.
                self.set_state(ConnectionState::Stopped {
                    reason: error.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Stop the client and take a fresh updates channel, so that nothing the
    /// old connection still had in flight arrives late.
    fn stop_client(&mut self) {
        if let Some(client) = self.client.take() {
            // Dropping the control sender ends the client as well, should
            // this message not fit.
            let _ = client.try_send(Control::Stop);
        }
        let (updates_tx, updates) = mpsc::channel(1024);
        self.updates_tx = updates_tx;
        self.updates = updates;
    }

    fn handle(&mut self, command: Command) -> Result<(), EngineError> {
        match command {
            Command::MarkRead(id) => {
                if self.store.mark_read(id)? {
                    self.refresh_unread()?;
                }
            }
            Command::MarkAllRead => {
                self.store.mark_all_read()?;
                self.refresh_unread()?;
            }
            Command::Delete(id) => {
                if self.store.delete(id)? {
                    self.refresh_unread()?;
                }
            }
            Command::ClearHistory => {
                self.store.clear()?;
                self.refresh_unread()?;
            }
            Command::ReconnectNow => match &self.client {
                Some(client) if !client.is_closed() => {
                    let _ = client.try_send(Control::ReconnectNow);
                }
                _ => self.connect()?,
            },
            Command::ApplySettings(settings) => {
                let reconnect = settings.stream_url() != self.settings.stream_url()
                    || settings.headers != self.settings.headers
                    || settings.extra_ca_file != self.settings.extra_ca_file;
                let retention_changed = settings.history != self.settings.history;
                self.settings = *settings;
                if retention_changed {
                    self.store.apply_retention(self.settings.history)?;
                    self.refresh_unread()?;
                }
                if reconnect {
                    self.connect()?;
                }
            }
            Command::Quit => {}
        }
        Ok(())
    }

    fn refresh_unread(&mut self) -> Result<(), EngineError> {
        self.unread = self.store.unread_count()?;
        self.broadcast(EngineEvent::UnreadCount(self.unread));
        Ok(())
    }

    fn on_update(&mut self, first: Update) -> Result<(), EngineError> {
        let mut events = Vec::new();
        let mut next = Some(first);
        while let Some(update) = next.take() {
            match update {
                Update::Event(event) => {
                    events.push(event);
                    if events.len() < BATCH {
                        next = self.updates.try_recv().ok();
                    }
                }
                Update::State(state) => {
                    self.store_events(std::mem::take(&mut events))?;
                    self.set_state(state);
                }
                Update::LastEventId(id) => {
                    self.store_events(std::mem::take(&mut events))?;
                    if let Some(server) = &self.server {
                        self.store.set_last_event_id(server, &id)?;
                    }
                }
            }
        }
        self.store_events(events)
    }

    /// Interpret, commit, and only then tell the sinks.
    fn store_events(&mut self, events: Vec<SseEvent>) -> Result<(), EngineError> {
        let Some(server) = self.server.clone() else {
            return Ok(());
        };
        if events.is_empty() {
            return Ok(());
        }
        let received_at_ms = now_ms();
        let interpreted: Vec<(SseEvent, AppEvent, TypeRule)> = events
            .into_iter()
            .map(|event| {
                let app_event = feed::interpret(&event);
                let rule = self.settings.rule_for(&event.event_type);
                (event, app_event, rule)
            })
            .collect();
        let entries: Vec<NewEntry> = interpreted
            .iter()
            .filter(|(_, _, rule)| *rule != TypeRule::Ignore)
            .map(|(event, app_event, _)| NewEntry {
                server: &server,
                event_type: &event.event_type,
                event_id: event.has_own_id.then_some(&*event.last_event_id),
                last_event_id: &event.last_event_id,
                data: &event.data,
                event: app_event,
                received_at_ms,
            })
            .collect();
        let ids = self.store.insert_many(&entries)?;
        // Ignored events are not stored, but the stream still resumes after
        // them.
        if let Some((last, _, TypeRule::Ignore)) = interpreted.last() {
            self.store.set_last_event_id(&server, &last.last_event_id)?;
        }
        let mut added_unread = false;
        let mut server_closed = false;
        let kept = interpreted
            .into_iter()
            .filter(|(_, _, rule)| *rule != TypeRule::Ignore);
        for ((event, app_event, rule), id) in kept.zip(ids) {
            let Some(id) = id else {
                tracing::debug!(id = %event.last_event_id, "skipping a replayed event");
                continue;
            };
            self.inserts_since_retention += 1;
            let weight = app_event.unread_weight();
            added_unread |= weight > 0;
            self.unread += weight;
            server_closed |= app_event == AppEvent::ServerClosed;
            let entry = HistoryEntry {
                id,
                server: server.clone(),
                event_type: event.event_type.to_string(),
                event_id: event.has_own_id.then(|| event.last_event_id.to_string()),
                data: event.data,
                kind: app_event.kind().to_string(),
                unread_weight: weight,
                received_at_ms,
                read: weight == 0,
            };
            self.broadcast(EngineEvent::Stored(Arc::new(StoredEvent {
                entry,
                event: app_event,
                rule,
            })));
        }
        if added_unread {
            // Counted from what was just stored rather than recounted: a
            // recount per batch would make a flood quadratic.
            self.broadcast(EngineEvent::UnreadCount(self.unread));
        }
        if self.inserts_since_retention >= RETENTION_EVERY {
            self.inserts_since_retention = 0;
            if self.store.apply_retention(self.settings.history)? > 0 {
                self.refresh_unread()?;
            }
        }
        if server_closed {
            self.stop_client();
            self.set_state(ConnectionState::Stopped {
                reason: "the server closed the stream (server_closed)".into(),
            });
        }
        Ok(())
    }
}

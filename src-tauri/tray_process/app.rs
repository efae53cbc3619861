//! The tray process: what `ssetray` runs all day.
//!
//! It joins the engine, the notifier, the local socket and (with the
//! `desktop` feature, on Linux) the tray icon, and starts the window process
//! on demand. Everything here is plain tokio on one thread; no GTK, WebKit
//! or Tauri is linked into this process (a test checks with `ldd`), because
//! merely loading them would multiply its memory for the whole day.
//!
//! [`App`] is the little state that is the app's rather than the engine's
//! (the pause, the window child process, the status the tray and the window
//! show) and what the main loop does with each thing that happens:
//! [`App::on_request`], [`App::on_engine_event`], [`App::on_unread`],
//! [`App::on_click`]. The main loop under [`run`] (`Inputs::serve`) only
//! waits and hands over, so tests drive an `App` directly, without a socket
//! or a desktop.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, mpsc, watch};

use crate::core::engine::{Command, Engine, EngineEvent, EngineHandle};
use crate::core::entry_view::EntryView;
use crate::core::settings::{Paths, Settings};
use crate::core::store::Store;
use crate::desktop::network_watch::NetworkEvent;
use crate::desktop::notifier::{self, Click, NotifierConfig};
use crate::ipc::{self, Incoming, Reply, Request, Status, SubscriptionStatus, View, WindowEvent};
use crate::protocol::clock::{ms_since_epoch, now_ms};
use crate::protocol::feed::AppEvent;
use crate::protocol::shutdown::ShutdownSignal;
use crate::protocol::sse::{Backoff, ConnectionState};
use crate::tray_process::bootstrap::{runtime, shutdown_signal, Failure};

#[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
use crate::desktop::tray::NO_TRAY_HOST;
#[cfg(not(all(feature = "tray", any(target_os = "linux", windows))))]
const NO_TRAY_HOST: &str = "No tray icon in this build.";

/// How `ssetray` was started.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppOptions {
    /// No tray icon and no window: engine and notifications only.
    pub headless: bool,
    /// Start in the tray without opening the window.
    pub hidden: bool,
}

/// Pausing "until resumed" is a pause that ends in a hundred years.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn notifier_config(settings: &Settings, paused_until: Option<SystemTime>) -> NotifierConfig {
    NotifierConfig {
        quiet_hours: settings
            .quiet_hours
            .as_ref()
            .and_then(|quiet| quiet.minutes()),
        time_zone: None,
        enabled: settings.notifications,
        paused_until,
        sources: settings
            .followed()
            .filter_map(|subscription| {
                let stream = subscription.stream_url()?;
                Some(notifier::Source {
                    server: subscription.server_key()?,
                    name: subscription.name.clone(),
                    // Default: the server's origin, i.e. the web app that
                    // serves the stream.
                    web_app_url: subscription
                        .web_app_url
                        .clone()
                        .or_else(|| Some(crate::protocol::url_policy::web_app_of(&stream))),
                    notifications: subscription.notifications,
                })
            })
            .collect(),
    }
}

/// The subscriptions' lines of the status for `settings`, keeping what was
/// known of those that stay (by their stream).
fn subscription_statuses(
    settings: &Settings,
    before: &[SubscriptionStatus],
) -> Vec<SubscriptionStatus> {
    settings
        .followed()
        .filter_map(|subscription| {
            let server = subscription.server_key()?;
            let kept = before.iter().find(|line| line.server == server);
            Some(match kept {
                Some(line) => SubscriptionStatus {
                    name: subscription.name.clone(),
                    ..line.clone()
                },
                None => SubscriptionStatus {
                    name: subscription.name.clone(),
                    server,
                    state: ConnectionState::Connecting,
                    state_text: ConnectionState::Connecting.to_string(),
                    since_ms: now_ms(),
                    last_event_ms: None,
                    events_received: 0,
                    reconnects: 0,
                },
            })
        })
        .collect()
}

/// A connection's state in a word or two: the window's header with one
/// subscription. `ConnectionState`'s own words (`state_text`) say it in full.
fn state_word(state: &ConnectionState) -> &'static str {
    match state {
        ConnectionState::Connecting => "Connecting…",
        ConnectionState::Open { .. } => "Connected",
        ConnectionState::Retrying { .. } => "Retrying",
        ConnectionState::Stopped { .. } => "Stopped",
        ConnectionState::Offline { .. } => "Offline",
    }
}

/// The status's own state, counters and server: its one subscription's, or
/// the sum of several ("2 of 3 connected"). Its words, in full for the tray
/// (`state_text`) and short for the window's header (`summary`), are made
/// here alone.
fn sum_up(status: &mut Status) {
    let lines = &status.subscriptions;
    status.events_received = lines.iter().map(|line| line.events_received).sum();
    status.reconnects = lines.iter().map(|line| line.reconnects).sum();
    status.last_event_ms = lines.iter().filter_map(|line| line.last_event_ms).max();
    status.server = lines
        .first()
        .map(|line| line.server.clone())
        .unwrap_or_default();
    let (state, summary, text, since) = match lines.as_slice() {
        [] => {
            let state = ConnectionState::Stopped {
                reason: "no server configured".into(),
            };
            let summary = state_word(&state).to_string();
            let text = state.to_string();
            (state, summary, text, status.since_ms)
        }
        [only] => (
            only.state.clone(),
            state_word(&only.state).to_string(),
            only.state_text.clone(),
            only.since_ms,
        ),
        several => {
            let open = several.iter().filter(|line| line.state.is_open()).count();
            let first_open = several.iter().find(|line| line.state.is_open());
            let troubled: Vec<String> = several
                .iter()
                .filter(|line| !line.state.is_open())
                .map(|line| format!("{}: {}", line.name, line.state_text))
                .collect();
            let (summary, text) = if troubled.is_empty() {
                let all = format!("Connected to all {} subscriptions", several.len());
                (all.clone(), all)
            } else {
                let some = format!("{open} of {} connected", several.len());
                let text = format!("{some} ({})", troubled.join("; "));
                (some, text)
            };
            let state = first_open.unwrap_or(&several[0]).state.clone();
            let since = several
                .iter()
                .map(|line| line.since_ms)
                .max()
                .unwrap_or_default();
            (state, summary, text, since)
        }
    };
    status.state = state;
    status.summary = summary;
    status.state_text = text;
    status.since_ms = since;
}

/// How long notifications stay paused, as the tray's menu and the window
/// say it: "until 14:30", "until Tue 14:30" when not today, "until
/// resumed" for a pause that ends after next year (see [`FOREVER`]);
/// `None` when not paused.
pub fn pause_text(until_ms: Option<i64>, now_ms: i64, zone: &jiff::tz::TimeZone) -> Option<String> {
    let until = until_ms.filter(|until| *until > now_ms)?;
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .ok()
            .map(|time| time.to_zoned(zone.clone()))
    };
    let (Some(end), Some(now)) = (at(until), at(now_ms)) else {
        return Some("until resumed".into());
    };
    if end.year() > now.year() + 1 {
        return Some("until resumed".into());
    }
    Some(if end.date() == now.date() {
        format!("until {}", end.strftime("%H:%M"))
    } else {
        format!("until {}", end.strftime("%a %H:%M"))
    })
}

/// The window process: a sibling binary, started on demand, watched so that
/// a second "open" raises it instead of starting another. A task waits for
/// it, so it is reaped as soon as it exits.
struct WindowProcess {
    running: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl WindowProcess {
    fn is_running(&mut self) -> bool {
        match self.running.as_mut().map(|exited| exited.try_recv()) {
            Some(Err(tokio::sync::oneshot::error::TryRecvError::Empty)) => true,
            _ => {
                self.running = None;
                false
            }
        }
    }

    fn open(&mut self, view: Option<View>, events: &broadcast::Sender<WindowEvent>) -> Reply {
        if self.is_running() {
            let _ = events.send(WindowEvent::ShowView(view.unwrap_or(View::History)));
            return Reply::Ok;
        }
        let Some(binary) = window_binary() else {
            return Reply::Error {
                message: "the window is not installed: this build has no `desktop` feature".into(),
            };
        };
        let mut command = tokio::process::Command::new(binary);
        if let Some(view) = view {
            command.args(["--view", view.as_str()]);
        }
        command.stdin(std::process::Stdio::null());
        match command.spawn() {
            Ok(mut child) => {
                tracing::info!(pid = child.id(), "window opened");
                let (exited_tx, exited) = tokio::sync::oneshot::channel();
                tokio::spawn(async move {
                    match child.wait().await {
                        Ok(status) if !status.success() => {
                            tracing::warn!("the window process ended with {status}")
                        }
                        Err(error) => tracing::warn!("lost the window process: {error}"),
                        Ok(_) => tracing::info!("window closed"),
                    }
                    let _ = exited_tx.send(());
                });
                self.running = Some(exited);
                Reply::Ok
            }
            Err(error) => Reply::Error {
                message: format!("cannot start the window: {error}"),
            },
        }
    }
}

fn window_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SSETRAY_WINDOW_BINARY") {
        return Some(PathBuf::from(path));
    }
    crate::tray_process::bootstrap::sibling_binary("ssetray-window")
}

/// Whether the main loop goes on after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    Quit,
}

/// The tray process's own state, and what it does with each thing that
/// happens. The engine owns the history; this owns the rest.
pub struct App {
    options: AppOptions,
    paths: Paths,
    settings: Settings,
    /// Why the settings (or a secret in them) could not be used, if so.
    settings_problem: Option<String>,
    /// Following the built-in demo server.
    demo: bool,
    paused_until: Option<SystemTime>,
    status: Status,
    /// The streams that opened at least once this run.
    opened: std::collections::HashSet<String>,
    engine: EngineHandle,
    status_tx: watch::Sender<Status>,
    notifier_config: watch::Sender<NotifierConfig>,
    window_events: broadcast::Sender<WindowEvent>,
    window: WindowProcess,
    /// The "no tray" notification was shown (once a run).
    tray_missing_told: bool,
}

impl App {
    /// An app over a running engine. `settings_problem` says why the
    /// settings could not be used, if so; `demo` that the demo is followed.
    pub fn new(
        options: AppOptions,
        paths: Paths,
        settings: Settings,
        settings_problem: Option<String>,
        demo: bool,
        engine: EngineHandle,
    ) -> App {
        let mut status = Status {
            state: ConnectionState::Connecting,
            state_text: ConnectionState::Connecting.to_string(),
            summary: String::new(),
            unread: *engine.unread().borrow(),
            paused_until_ms: None,
            pause_text: None,
            server: String::new(),
            demo,
            since_ms: now_ms(),
            last_event_ms: None,
            events_received: 0,
            bytes_received: 0,
            reconnects: 0,
            settings_problem: settings_problem.clone(),
            store_problem: None,
            tray_problem: None,
            subscriptions: subscription_statuses(&settings, &[]),
        };
        sum_up(&mut status);
        let (status_tx, _) = watch::channel(status.clone());
        let (notifier_config, _) = watch::channel(notifier_config(&settings, None));
        let (window_events, _) = broadcast::channel(1024);
        App {
            options,
            paths,
            settings,
            settings_problem,
            demo,
            paused_until: None,
            status,
            opened: std::collections::HashSet::new(),
            engine,
            status_tx,
            notifier_config,
            window_events,
            window: WindowProcess { running: None },
            tray_missing_told: false,
        }
    }

    /// The status as a latest value, for the tray icon.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status_tx.subscribe()
    }

    /// What the notifier should do, as a latest value.
    pub fn notifier_config(&self) -> watch::Receiver<NotifierConfig> {
        self.notifier_config.subscribe()
    }

    /// What subscribed windows receive.
    pub fn window_events(&self) -> broadcast::Sender<WindowEvent> {
        self.window_events.clone()
    }

    /// Tell the tray and the windows the status changed.
    fn publish(&mut self) {
        self.status.bytes_received = self.engine.bytes_received();
        self.status_tx.send_replace(self.status.clone());
        let _ = self
            .window_events
            .send(WindowEvent::Status(Box::new(self.status.clone())));
    }

    /// The store's unread count changed.
    pub fn on_unread(&mut self, unread: u64) {
        if self.status.unread != unread {
            self.status.unread = unread;
            self.publish();
        }
    }

    /// Something the engine reports.
    pub fn on_engine_event(&mut self, event: EngineEvent) {
        let changes_status = matches!(
            event,
            EngineEvent::State { .. } | EngineEvent::StoreProblem(_)
        );
        match &event {
            EngineEvent::State {
                subscription,
                state,
            } => {
                if let Some(line) = self
                    .status
                    .subscriptions
                    .iter_mut()
                    .find(|line| *line.name == **subscription)
                {
                    // Every opening after a stream's first is a reconnect.
                    if state.is_open() && !self.opened.insert(line.server.clone()) {
                        line.reconnects += 1;
                    }
                    if line.state.is_open() != state.is_open() {
                        line.since_ms = now_ms();
                    }
                    line.state = state.clone();
                    line.state_text = state.to_string();
                }
            }
            EngineEvent::StoreProblem(problem) => self.status.store_problem = problem.clone(),
            EngineEvent::Stored(stored) => {
                if let Some(line) = self
                    .status
                    .subscriptions
                    .iter_mut()
                    .find(|line| line.server == stored.entry.server)
                {
                    line.events_received += 1;
                    line.last_event_ms = Some(now_ms());
                }
                self.status.events_received += 1;
                self.status.last_event_ms = Some(now_ms());
            }
            EngineEvent::LoginImage { .. } => {}
        }
        // Derived once here for every window, which never sees raw data.
        let for_windows = match event {
            EngineEvent::Stored(stored) => {
                let login = matches!(stored.event, AppEvent::Login(_));
                let view = EntryView::with_event(&stored.entry, &stored.event)
                    .named(stored.subscription.as_deref().map(str::to_string));
                let _ = self.window_events.send(WindowEvent::Stored(Box::new(view)));
                login.then(|| {
                    WindowEvent::LoginChanged(stored.subscription.as_deref().map(str::to_string))
                })
            }
            EngineEvent::State {
                subscription,
                state,
            } => Some(WindowEvent::State {
                subscription: subscription.to_string(),
                state,
            }),
            EngineEvent::LoginImage { server } => Some(WindowEvent::LoginChanged(
                self.settings
                    .subscription_of_server(&server)
                    .map(|subscription| subscription.name.clone()),
            )),
            EngineEvent::StoreProblem(_) => None,
        };
        if changes_status {
            sum_up(&mut self.status);
        }
        if let Some(event) = for_windows {
            let _ = self.window_events.send(event);
        }
        // A stored event changes only counters, which the status view asks
        // for when it wants them; one status per event would double a flood.
        if changes_status {
            self.publish();
        }
    }

    /// Whether the desktop shows no tray (no StatusNotifierWatcher came):
    /// the first time, one notification says how to reach the app instead,
    /// since otherwise a user who started it hidden sees nothing at all.
    pub fn on_tray_host(&mut self, missing: bool, text: &str) {
        let told_before = self.tray_missing_told;
        self.status.tray_problem = missing.then(|| text.to_string());
        self.publish();
        if missing && !told_before {
            self.tray_missing_told = true;
            tokio::spawn(notifier::tell(notifier::NotificationText {
                summary: "SSE Tray is running".into(),
                body: text.to_string(),
                urgency: None,
            }));
        }
    }

    /// The network or the machine's sleep changed.
    pub async fn on_network(&mut self, event: NetworkEvent) {
        let _ = self
            .engine
            .commands
            .send(Command::Network(event.control()))
            .await;
    }

    /// A notification was clicked.
    pub async fn on_click(&mut self, click: Click) {
        match click {
            Click::OpenUrl { url, entry_id } => {
                if let Err(error) = notifier::open_in_browser(&url) {
                    tracing::warn!("{error}");
                }
                if let Some(id) = entry_id {
                    let _ = self.engine.commands.send(Command::MarkRead(id)).await;
                }
            }
            Click::OpenLogin { entry_id } => {
                if let Reply::Error { message } = self.open_window(Some(View::Login)) {
                    tracing::warn!("{message}");
                }
                let _ = self.engine.commands.send(Command::MarkRead(entry_id)).await;
            }
        }
    }

    fn open_window(&mut self, view: Option<View>) -> Reply {
        if self.options.headless {
            return Reply::Error {
                message: "running headless: no window".into(),
            };
        }
        self.window.open(view, &self.window_events)
    }

    /// A request from the socket or the tray menu, and its answer.
    pub async fn on_request(&mut self, request: Request) -> (Reply, Next) {
        let reply = match request {
            Request::OpenWindow { view } => self.open_window(view),
            Request::MarkRead { id } => self.forward(Command::MarkRead(id)).await,
            Request::MarkAllRead => self.forward(Command::MarkAllRead).await,
            Request::DeleteEntry { id } => self.forward(Command::Delete(id)).await,
            Request::ClearHistory => self.forward(Command::ClearHistory).await,
            Request::Reconnect { subscription } if self.settings_problem.is_none() => {
                self.forward(Command::ReconnectNow(subscription)).await
            }
            Request::ResetResumePoint { subscription } => {
                self.forward(Command::ResetResumePoint(subscription)).await
            }
            // "Reconnect" after fixing the settings file (or unlocking the
            // keyring) reads it again.
            Request::Reconnect { .. } | Request::SettingsChanged => self.reload_settings().await,
            Request::AddSubscription { subscription } => {
                self.change_subscriptions(|settings| settings.with_subscription(*subscription))
                    .await
            }
            Request::RemoveSubscription {
                name,
                delete_history,
            } => {
                let mut removed = None;
                let reply = self
                    .change_subscriptions(|settings| {
                        let (settings, gone) = settings.without_subscription(&name)?;
                        removed = gone.server_key();
                        Ok(settings)
                    })
                    .await;
                if let (Reply::Ok, true, Some(server)) = (&reply, delete_history, removed) {
                    self.forward(Command::DeleteHistoryOf(server)).await
                } else {
                    reply
                }
            }
            Request::Pause { minutes } => {
                let length = minutes
                    .map(|m| Duration::from_secs(u64::from(m) * 60))
                    .unwrap_or(FOREVER);
                self.set_pause(Some(crate::protocol::clock::now() + length));
                Reply::Ok
            }
            Request::Resume => {
                self.set_pause(None);
                Reply::Ok
            }
            Request::Status => {
                self.status.bytes_received = self.engine.bytes_received();
                Reply::Status {
                    status: Box::new(self.status.clone()),
                }
            }
            Request::Subscribe => Reply::Ok,
            ref store @ Request::StoreEvent { .. } => match store.event_to_store() {
                Some((server, event)) => self.forward(Command::Store { server, event }).await,
                None => Reply::Error {
                    message: "no event to store".into(),
                },
            },
            Request::Quit => return (Reply::Ok, Next::Quit),
        };
        (reply, Next::Continue)
    }

    /// How long until the pause should be looked at again (its end, or a
    /// day at most for a pause "until resumed"); `None` when not paused.
    pub fn pause_check_in(&self) -> Option<Duration> {
        let until = self.paused_until?;
        let left = until
            .duration_since(crate::protocol::clock::now())
            .unwrap_or_default();
        Some(left.min(Duration::from_secs(86_400)))
    }

    /// A pause that has run out ends by itself: the tray's menu and the
    /// window say "on" again without anyone asking.
    pub fn on_pause_check(&mut self) {
        if self
            .paused_until
            .is_some_and(|until| until <= crate::protocol::clock::now())
        {
            self.set_pause(None);
        }
    }

    fn set_pause(&mut self, until: Option<SystemTime>) {
        self.paused_until = until;
        self.status.paused_until_ms = until.map(ms_since_epoch);
        self.status.pause_text = pause_text(
            self.status.paused_until_ms,
            now_ms(),
            &jiff::tz::TimeZone::system(),
        );
        self.notifier_config
            .send_replace(notifier_config(&self.settings, until));
        self.publish();
    }

    /// Change the subscriptions in the settings file (with the header
    /// values the Secret Service keeps) and apply the result: only the
    /// subscriptions that changed connect anew.
    async fn change_subscriptions(
        &mut self,
        change: impl FnOnce(&Settings) -> Result<Settings, crate::core::settings::SettingsError>,
    ) -> Reply {
        let path = self.paths.config_file.clone();
        let changed = match crate::core::secrets::load(&path).await {
            Ok((settings, _)) => change(&settings),
            Err(error) => Err(error),
        };
        let saved = match changed {
            Ok(settings) => crate::core::secrets::save(&settings, &path)
                .await
                .map(|_| ()),
            Err(error) => Err(error),
        };
        match saved {
            Ok(()) => self.reload_settings().await,
            Err(error) => Reply::Error {
                message: error.to_string(),
            },
        }
    }

    async fn reload_settings(&mut self) -> Reply {
        match crate::core::secrets::load(&self.paths.config_file).await {
            Ok((mut settings, secret_problem)) => {
                if self.settings_problem.is_some() && secret_problem.is_none() {
                    tracing::info!("the settings file is good again");
                }
                self.settings_problem = secret_problem;
                self.status.settings_problem = self.settings_problem.clone();
                if !settings.has_server() && self.demo {
                    settings.subscriptions = self.settings.subscriptions.clone();
                } else {
                    self.demo = false;
                    self.status.demo = false;
                }
                self.status.subscriptions =
                    subscription_statuses(&settings, &self.status.subscriptions);
                sum_up(&mut self.status);
                if let Err(error) = crate::desktop::autostart::apply(settings.autostart) {
                    tracing::warn!("{error}");
                }
                self.settings = settings.clone();
                self.notifier_config
                    .send_replace(notifier_config(&self.settings, self.paused_until));
                self.publish();
                self.forward(Command::ApplySettings(Box::new(settings)))
                    .await
            }
            Err(error) => {
                if self.settings_problem.is_some() {
                    // Still broken, maybe elsewhere now: say where.
                    self.settings_problem = Some(format!("Settings not used: {error}"));
                    self.status.settings_problem = self.settings_problem.clone();
                    self.publish();
                }
                Reply::Error {
                    message: error.to_string(),
                }
            }
        }
    }

    async fn forward(&self, command: Command) -> Reply {
        match self.engine.commands.send(command).await {
            Ok(()) => Reply::Ok,
            Err(_) => Reply::Error {
                message: "the engine has stopped".into(),
            },
        }
    }
}

/// How long a quit waits for the engine and the connections to finish.
///
/// Why a wait at all: the engine writes what the connections had already
/// handed over and closes the store, so that a quit loses nothing received
/// and never cuts a write. Why bounded: a task that cannot end (a store
/// that hangs on a network file system, a bug) must not keep a quit from
/// quitting; the user who chose Quit would see an icon that stays, and a
/// session ending would kill the process less gently later. What is left
/// then is named in the log. The writes take far less: a batch commits in
/// milliseconds, and a connection has at most 8 MiB in flight. (The
/// process has one thread: a write already under way ends before the wait
/// can, so it is never the wait that cuts a transaction.)
const QUIT_WITHIN: Duration = Duration::from_secs(5);

/// Run the tray process until Quit, Ctrl-C or SIGTERM.
pub fn run(options: AppOptions) -> Result<(), Failure> {
    if !options.headless && !crate::tray_process::bootstrap::display_available() {
        return Err(Failure {
            code: 1,
            message: crate::tray_process::bootstrap::NO_DISPLAY.into(),
        });
    }
    let paths = Paths::from_environment();
    let runtime = runtime()?;
    runtime.block_on(run_app(options, paths))
}

async fn run_app(options: AppOptions, paths: Paths) -> Result<(), Failure> {
    let listener = match ipc::bind(&ipc::socket_path())
        .await
        .map_err(Failure::runtime)?
    {
        ipc::Bound::AlreadyRunning => return hand_over(options).await,
        ipc::Bound::Listener(listener) => listener,
    };
    let start = StartSettings::read(&paths).await?;
    // The network and sleep, heard rather than polled, where the
    // system tells of them.
    let (hearing, network) = crate::desktop::network_watch::start().await;
    let (engine, handle, commands) = open_engine(&paths, &start.settings);
    let engine = engine.hearing(hearing.hears_the_network(), hearing.hears_sleep());
    let StartSettings {
        settings,
        problem,
        demo,
    } = start;
    let mut app = App::new(options, paths, settings, problem, demo, handle.clone());
    let mut inputs = Inputs::start(&app, &handle, listener, network, options);
    if !options.headless && !options.hidden {
        if let Reply::Error { message } = app.open_window(None) {
            tracing::warn!("{message}");
        }
    }
    let shutdown = ShutdownSignal::new();
    let mut engine_task = tokio::spawn(engine.run(commands, shutdown.listener("the engine")));
    let ended = inputs.serve(&mut app, &mut engine_task).await;
    quit(&shutdown).await;
    ended
}

/// The quit: every task holding the app's shutdown is told (the engine
/// writes what the connections had handed over and closes the store; each
/// connection stops reading and drops its own), and the process waits for
/// them, at most [`QUIT_WITHIN`].
async fn quit(shutdown: &ShutdownSignal) {
    shutdown.begin();
    let left = shutdown.finished(QUIT_WITHIN).await;
    if !left.is_empty() {
        tracing::warn!(
            "quitting without waiting any longer for {}",
            left.join(", ")
        );
    }
}

/// The settings a run starts with, and what is wrong with them.
struct StartSettings {
    settings: Settings,
    /// Why the settings (or a secret in them) could not be used, if so.
    problem: Option<String>,
    /// Following the built-in demo server.
    demo: bool,
}

impl StartSettings {
    /// A settings file that cannot be used does not stop the app: it runs
    /// on the defaults (without saving them over the user's file) and says
    /// what is wrong until the file is fixed.
    async fn read(paths: &Paths) -> Result<StartSettings, Failure> {
        let (mut settings, problem, file_broken) =
            match crate::core::secrets::load(&paths.config_file).await {
                Ok((settings, secret_problem)) => (settings, secret_problem, false),
                Err(error) => {
                    tracing::error!("{error}");
                    eprintln!("ssetray: {error}");
                    (
                        Settings::default(),
                        Some(format!("Settings not used: {error}")),
                        true,
                    )
                }
            };
        if let Some(problem) = problem.as_deref().filter(|_| !file_broken) {
            tracing::warn!("{problem}");
        }
        if let Err(error) = crate::desktop::autostart::apply(settings.autostart) {
            tracing::warn!("{error}");
        }
        // No demo in place of settings that could not be read.
        let demo = !settings.has_server() && !file_broken;
        if demo {
            follow_the_demo(&mut settings).await?;
        }
        Ok(StartSettings {
            settings,
            problem,
            demo,
        })
    }
}

/// A first start: follow the built-in demo (not saved), so the user sees
/// the app work before configuring anything.
async fn follow_the_demo(settings: &mut Settings) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|error| Failure {
            code: 1,
            message: format!("cannot start the demo server: {error}"),
        })?;
    let address = listener.local_addr().map_err(Failure::runtime)?;
    tokio::spawn(crate::tray_process::demo::serve(
        listener,
        crate::tray_process::demo::DemoOptions::default(),
    ));
    let mut demo =
        crate::core::settings::Subscription::new(&format!("http://{address}/stream"), "");
    demo.name = "demo".into();
    settings.subscriptions = vec![demo];
    eprintln!(
        "ssetray: no server configured, so this is the built-in demo. Set yours in Settings, or with `ssetray config set server_url https://example.com/stream`."
    );
    Ok(())
}

/// The engine over the history database; the app runs all the same when
/// the database cannot be opened, and keeps what arrives meanwhile.
fn open_engine(
    paths: &Paths,
    settings: &Settings,
) -> (Engine, EngineHandle, mpsc::Receiver<Command>) {
    match Store::open(&paths.database) {
        Ok((store, recovered)) => {
            if let Some(recovered) = recovered {
                eprintln!(
                    "ssetray: the history database was damaged ({}); it was moved to {} and a new one started.",
                    recovered.problem,
                    recovered.moved_to.display()
                );
            }
            Engine::new(settings.clone(), store, Backoff::default())
        }
        Err(error) => Engine::with_store_closed(
            settings.clone(),
            paths.database.clone(),
            &error,
            Backoff::default(),
        ),
    }
}

/// What the main loop waits on: the engine's events and unread count, the
/// notifications' clicks, the tray host, the network, and the requests of
/// the socket and the tray menu.
struct Inputs {
    engine_events: broadcast::Receiver<EngineEvent>,
    unread: watch::Receiver<u64>,
    clicks: mpsc::Receiver<Click>,
    /// Whether the desktop shows no tray; without a tray icon, never
    /// (its sender, kept here, never says so).
    tray_host_missing: watch::Receiver<bool>,
    _no_tray_icon: watch::Sender<bool>,
    network: mpsc::Receiver<NetworkEvent>,
    requests: mpsc::Receiver<Incoming>,
}

impl Inputs {
    /// Start what feeds them: the notifier, the socket and the tray icon.
    fn start(
        app: &App,
        engine: &EngineHandle,
        listener: ipc::Listener,
        network: mpsc::Receiver<NetworkEvent>,
        options: AppOptions,
    ) -> Inputs {
        let (clicks_tx, clicks) = mpsc::channel::<Click>(16);
        tokio::spawn(notifier::run(
            engine.subscribe(),
            app.notifier_config(),
            clicks_tx,
        ));
        let (requests_tx, requests) = mpsc::channel::<Incoming>(32);
        tokio::spawn(ipc::serve(
            listener,
            requests_tx.clone(),
            app.window_events(),
        ));
        #[allow(unused_mut)]
        let (_no_tray_icon, mut tray_host_missing) = watch::channel(false);
        #[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
        if !options.headless {
            tray_host_missing = crate::desktop::tray::spawn(app.status(), requests_tx.clone());
        }
        #[cfg(not(all(feature = "tray", any(target_os = "linux", windows))))]
        let _ = options;
        Inputs {
            engine_events: engine.subscribe(),
            unread: engine.unread(),
            clicks,
            tray_host_missing,
            _no_tray_icon,
            network,
            requests,
        }
    }

    /// Hand each thing that happens to `app`, until a quit is asked
    /// (Quit, Ctrl-C, SIGTERM) or the engine ends.
    async fn serve(
        &mut self,
        app: &mut App,
        engine_task: &mut tokio::task::JoinHandle<()>,
    ) -> Result<(), Failure> {
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                finished = &mut *engine_task => {
                    return finished.map_err(|error| Failure { code: 1, message: format!("the engine stopped: {error}") });
                }
                _ = &mut shutdown => return Ok(()),
                event = self.engine_events.recv() => match event {
                    Ok(event) => app.on_engine_event(event),
                    // The status is a latest value and the windows are told
                    // of their own lag: nothing is lost that matters here.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                Ok(()) = self.unread.changed() => {
                    let count = *self.unread.borrow_and_update();
                    app.on_unread(count);
                }
                Some(click) = self.clicks.recv() => app.on_click(click).await,
                _ = tokio::time::sleep(app.pause_check_in().unwrap_or_default()), if app.pause_check_in().is_some() => {
                    app.on_pause_check();
                }
                Ok(()) = self.tray_host_missing.changed() => {
                    let missing = *self.tray_host_missing.borrow_and_update();
                    app.on_tray_host(missing, NO_TRAY_HOST);
                }
                Some(event) = self.network.recv() => app.on_network(event).await,
                Some(incoming) = self.requests.recv() => {
                    let (reply, next) = app.on_request(incoming.request).await;
                    let _ = incoming.reply.send(reply);
                    if next == Next::Quit {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// A second start: the running instance opens its window (unless asked to
/// stay hidden), and this process ends.
async fn hand_over(options: AppOptions) -> Result<(), Failure> {
    if options.hidden || options.headless {
        eprintln!("ssetray: SSE Tray is already running.");
        return Ok(());
    }
    // The first instance may hold the lock a moment before its socket
    // answers (both started at once): give it that moment.
    let path = ipc::socket_path();
    let mut tries = 0;
    let mut client = loop {
        match ipc::Client::connect(&path).await {
            Ok(client) => break client,
            Err(ipc::IpcError::NotRunning(_)) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(Failure::runtime(error)),
        }
    };
    match client.request(&Request::OpenWindow { view: None }).await {
        Ok(Reply::Ok) => {
            eprintln!("ssetray: SSE Tray is already running; its window is open.");
            Ok(())
        }
        Ok(Reply::Error { message }) => Err(Failure { code: 1, message }),
        Ok(other) => Err(Failure {
            code: 1,
            message: format!("unexpected answer: {other:?}"),
        }),
        Err(error) => Err(Failure::runtime(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::{HistoryQuery, NewEntry};
    use crate::protocol::feed::AppEvent;

    /// An app over a real engine and store in `dir`, with `rounds` rounds
    /// of "a notification of 4 and a message" already stored.
    async fn app_in(dir: &std::path::Path, rounds: usize) -> (App, EngineHandle, Vec<i64>) {
        let database = dir.join("history.db");
        let (mut store, _) = Store::open(&database).unwrap();
        let four = AppEvent::Notification { count: 4 };
        let message = crate::protocol::feed::interpret(&crate::protocol::sse::SseEvent {
            event_type: "message".into(),
            data: "hello".into(),
            last_event_id: "".into(),
            has_own_id: false,
        });
        let mut ids = Vec::new();
        for round in 0..rounds {
            let (n, m) = (format!("n{round}"), format!("m{round}"));
            for (event, id) in [(&four, &n), (&message, &m)] {
                let stored = store
                    .insert_many(&[NewEntry {
                        server: "http://s/stream",
                        event_type: "message",
                        event_id: Some(id),
                        last_event_id: id,
                        data: id,
                        event,
                        received_at_ms: now_ms(),
                    }])
                    .unwrap();
                ids.extend(stored.into_iter().flatten());
            }
        }
        let (engine, handle, commands) =
            Engine::new(Settings::default(), store, Backoff::default());
        tokio::spawn(engine.run(commands, crate::protocol::shutdown::Shutdown::never()));
        let paths = Paths {
            config_file: dir.join("settings.toml"),
            database,
        };
        let options = AppOptions {
            headless: true,
            hidden: true,
        };
        let app = App::new(
            options,
            paths,
            Settings::default(),
            None,
            false,
            handle.clone(),
        );
        (app, handle, ids)
    }

    /// Wait for the engine's next published count and hand it to the app,
    /// as the main loop does; the count the tray would now show.
    async fn settle(app: &mut App, unread: &mut watch::Receiver<u64>, expected: u64) -> u64 {
        let shown = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let count = *unread.borrow_and_update();
                app.on_unread(count);
                if count == expected {
                    return count;
                }
                unread.changed().await.unwrap();
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the count never became {expected}"));
        assert_eq!(app.status().borrow().unread, shown);
        shown
    }

    #[tokio::test]
    async fn every_way_of_marking_read_shows_the_stores_count() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, handle, ids) = app_in(dir.path(), 3).await;
        let mut unread = handle.unread();
        let mut tray = app.status();
        settle(&mut app, &mut unread, 15).await;
        // A request from the window or the CLI: one entry.
        let (reply, next) = app.on_request(Request::MarkRead { id: ids[0] }).await;
        assert_eq!((reply, next), (Reply::Ok, Next::Continue));
        settle(&mut app, &mut unread, 11).await;
        // A notification click marks its entry read.
        app.on_click(Click::OpenLogin { entry_id: ids[2] }).await;
        settle(&mut app, &mut unread, 7).await;
        // The menu's or the CLI's "mark all read".
        app.on_request(Request::MarkAllRead).await;
        settle(&mut app, &mut unread, 0).await;
        // The tray's latest value is the last count, however late it looks.
        assert!(tray.has_changed().unwrap());
        assert_eq!(tray.borrow_and_update().unread, 0);
        let (reply, _) = app.on_request(Request::Status).await;
        let Reply::Status { status } = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(status.unread, 0);
        assert_eq!(app.on_request(Request::Quit).await.1, Next::Quit);
    }

    #[tokio::test]
    async fn an_event_from_listen_is_stored_by_the_engine_without_its_token() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, handle, _) = app_in(dir.path(), 0).await;
        let mut unread = handle.unread();
        let (reply, _) = app
            .on_request(Request::StoreEvent {
                server: "http://127.0.0.1:1/stream?token=tok-123".into(),
                event_type: "message".into(),
                id: Some("1".into()),
                last_event_id: "1".into(),
                data: "from listen".into(),
            })
            .await;
        assert_eq!(reply, Reply::Ok);
        settle(&mut app, &mut unread, 1).await;
        let store = Store::open_read_only(&dir.path().join("history.db"))
            .unwrap()
            .unwrap();
        let entries = store
            .history(&HistoryQuery {
                limit: 10,
                ..HistoryQuery::default()
            })
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].data, "from listen");
        assert_eq!(entries[0].server, "http://127.0.0.1:1/stream?token=***");
    }

    #[tokio::test]
    async fn pausing_and_resuming_reach_the_notifier_and_the_status() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, _handle, _) = app_in(dir.path(), 0).await;
        let notifier = app.notifier_config();
        app.on_request(Request::Pause { minutes: Some(60) }).await;
        assert!(notifier.borrow().is_paused(crate::protocol::clock::now()));
        let until = app.status().borrow().paused_until_ms.unwrap();
        assert!((until - now_ms() - 3_600_000).abs() < 60_000);
        let text = app.status().borrow().pause_text.clone();
        assert!(
            text.as_deref()
                .is_some_and(|text| text.starts_with("until ")),
            "{text:?}"
        );
        app.on_request(Request::Pause { minutes: None }).await;
        assert_eq!(
            app.status().borrow().pause_text.as_deref(),
            Some("until resumed")
        );
        app.on_request(Request::Resume).await;
        assert!(!notifier.borrow().is_paused(crate::protocol::clock::now()));
        assert_eq!(app.status().borrow().paused_until_ms, None);
        assert_eq!(app.status().borrow().pause_text, None);
        // Headless: no window, and it says so.
        let (reply, _) = app.on_request(Request::OpenWindow { view: None }).await;
        assert!(matches!(reply, Reply::Error { .. }));
    }

    #[tokio::test]
    async fn a_pause_that_ran_out_ends_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (mut app, _handle, _) = app_in(dir.path(), 0).await;
        let status = app.status();
        app.on_request(Request::Pause { minutes: Some(60) }).await;
        let check_in = app.pause_check_in().unwrap();
        assert!(check_in > Duration::from_secs(3500), "{check_in:?}");
        // Nothing ends before its time.
        app.on_pause_check();
        assert!(status.borrow().paused_until_ms.is_some());
        // A pause whose end has come: the main loop's timer asks, and the
        // status (the tray's menu, the window) says "on" without a request.
        app.on_request(Request::Pause { minutes: Some(0) }).await;
        assert_eq!(app.pause_check_in(), Some(Duration::ZERO));
        app.on_pause_check();
        assert_eq!(status.borrow().paused_until_ms, None);
        assert_eq!(status.borrow().pause_text, None);
        assert_eq!(app.pause_check_in(), None);
        // "Until resumed" is looked at again within a day, never further.
        app.on_request(Request::Pause { minutes: None }).await;
        assert_eq!(app.pause_check_in(), Some(Duration::from_secs(86_400)));
    }

    fn line(name: &str, state: ConnectionState) -> SubscriptionStatus {
        SubscriptionStatus {
            name: name.into(),
            server: format!("http://{name}.example/stream"),
            state_text: state.to_string(),
            state,
            since_ms: 0,
            last_event_ms: None,
            events_received: 0,
            reconnects: 0,
        }
    }

    fn summed(lines: Vec<SubscriptionStatus>) -> (String, String) {
        let mut status: Status = serde_json::from_value(serde_json::json!({
            "state": {"state": "connecting"}, "state_text": "", "unread": 0,
            "paused_until_ms": null, "server": "", "demo": false, "since_ms": 0,
            "last_event_ms": null, "events_received": 0, "bytes_received": 0,
            "reconnects": 0, "settings_problem": null, "store_problem": null
        }))
        .unwrap();
        status.subscriptions = lines;
        sum_up(&mut status);
        (status.summary, status.state_text)
    }

    #[test]
    fn the_words_for_the_whole_connection_in_short_and_in_full() {
        let open = |host: &str| ConnectionState::Open {
            host: host.into(),
            dropped: None,
        };
        let retrying = ConnectionState::Retrying {
            delay_ms: 4000,
            reason: "refused".into(),
            detail: None,
            certificate: None,
        };
        assert_eq!(
            summed(vec![]),
            ("Stopped".into(), "Stopped: no server configured".into())
        );
        assert_eq!(
            summed(vec![line("a", open("a.example"))]),
            ("Connected".into(), "Connected to a.example".into())
        );
        assert_eq!(
            summed(vec![line("a", retrying.clone())]),
            ("Retrying".into(), "Retrying in 4 s: refused".into())
        );
        assert_eq!(
            summed(vec![
                line("a", open("a.example")),
                line("b", open("b.example"))
            ]),
            (
                "Connected to all 2 subscriptions".into(),
                "Connected to all 2 subscriptions".into()
            )
        );
        assert_eq!(
            summed(vec![
                line("a", open("a.example")),
                line("b", retrying.clone())
            ]),
            (
                "1 of 2 connected".into(),
                "1 of 2 connected (b: Retrying in 4 s: refused)".into()
            )
        );
        // None connected is counted too, not said as the first one's state.
        assert_eq!(
            summed(vec![
                line("a", retrying.clone()),
                line("b", ConnectionState::Offline { detail: None })
            ])
            .0,
            "0 of 2 connected"
        );
    }

    #[test]
    fn the_pause_in_words_by_its_end() {
        let zone = jiff::tz::TimeZone::UTC;
        // Tuesday 2026-03-03 10:00 UTC.
        let now = 1_772_532_000_000;
        let hour = 3_600_000;
        assert_eq!(pause_text(None, now, &zone), None);
        assert_eq!(pause_text(Some(now), now, &zone), None, "over");
        assert_eq!(
            pause_text(Some(now + hour + 30 * 60_000), now, &zone).as_deref(),
            Some("until 11:30")
        );
        assert_eq!(
            pause_text(Some(now + 24 * hour), now, &zone).as_deref(),
            Some("until Wed 10:00")
        );
        // "Until resumed" is the one length that says so.
        let forever = now + i64::try_from(FOREVER.as_millis()).unwrap();
        assert_eq!(
            pause_text(Some(forever), now, &zone).as_deref(),
            Some("until resumed")
        );
        assert_eq!(
            pause_text(Some(i64::MAX), now, &zone).as_deref(),
            Some("until resumed")
        );
    }
}

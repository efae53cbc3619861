//! The tray process: what `ssetray` runs all day.
//!
//! It joins the engine, the notifier, the local socket and (with the
//! `desktop` feature, on Linux) the tray icon, and starts the window process
//! on demand. Everything here is plain tokio on one thread; no GTK, WebKit
//! or Tauri is linked into this process (a test checks with `ldd`), because
//! merely loading them would multiply its memory for the whole day.
//!
//! The main loop owns the little state that is the app's rather than the
//! engine's: the pause, the window child process, the status that the tray
//! and the window show.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, watch};

use crate::cli::{runtime, shutdown_signal, Failure};
use crate::engine::{Command, Engine, EngineEvent};
use crate::ipc::{self, Incoming, Reply, Request, View};
use crate::notifier::{self, Click, NotifierConfig};
use crate::settings::{Paths, Settings};
use crate::sse::{Backoff, ConnectionState};
use crate::store::Store;

/// How `ssetray` was started.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppOptions {
    /// No tray icon and no window: engine and notifications only.
    pub headless: bool,
    /// Start in the tray without opening the window.
    pub hidden: bool,
}

/// What the tray icon and the window's status view show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub state: ConnectionState,
    /// The state in words: "Connected to example.com".
    pub state_text: String,
    pub unread: u64,
    /// Notifications paused until then (ms since the epoch); `u64::MAX`-like
    /// far future for "until resumed".
    pub paused_until_ms: Option<u64>,
    pub server: String,
    /// Following the built-in demo because no server is configured.
    pub demo: bool,
    pub since_ms: u64,
    pub last_event_ms: Option<u64>,
    pub events_received: u64,
    pub bytes_received: u64,
    pub reconnects: u64,
    /// The settings file could not be used: why, and what to do.
    pub settings_problem: Option<String>,
    /// The history cannot be written: why, and what happens meanwhile.
    pub store_problem: Option<String>,
}

impl Status {
    /// What is wrong, in words, for the tray's tooltip and menu.
    pub fn problems(&self) -> impl Iterator<Item = &str> {
        self.settings_problem
            .iter()
            .chain(self.store_problem.iter())
            .map(String::as_str)
    }
}

/// What goes to a subscribed window: the engine's events, the status, and
/// requests to show a view.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum WindowEvent {
    Engine(EngineEvent),
    Status(Status),
    ShowView(View),
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

/// Pausing "until resumed" is a pause that ends in a hundred years.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn notifier_config(settings: &Settings, paused_until: Option<SystemTime>) -> NotifierConfig {
    let stream = settings.stream_url();
    NotifierConfig {
        quiet_hours: settings
            .quiet_hours
            .as_ref()
            .and_then(|quiet| quiet.minutes()),
        time_zone: None,
        enabled: settings.notifications,
        paused_until,
        server_name: stream
            .as_ref()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_default(),
        // Default: the server's origin, i.e. the web app that serves the stream.
        web_app_url: settings
            .web_app_url
            .clone()
            .or_else(|| stream.map(|url| url.origin().ascii_serialization() + "/")),
    }
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
    crate::cli::sibling_binary("ssetray-window")
}

/// Run the tray process until Quit, Ctrl-C or SIGTERM.
pub fn run(options: AppOptions) -> Result<(), Failure> {
    let paths = Paths::from_environment();
    // A settings file that cannot be used does not stop the app: it runs on
    // the defaults (without saving them over the user's file) and says what
    // is wrong until the file is fixed.
    let (mut settings, mut settings_problem) = match Settings::load(&paths.config_file) {
        Ok(settings) => (settings, None),
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("ssetray: {error}");
            (
                Settings::default(),
                Some(format!("Settings not used: {error}")),
            )
        }
    };
    let runtime = runtime()?;
    runtime.block_on(async move {
        #[cfg(unix)]
        let listener = match ipc::bind(&ipc::socket_path()).await.map_err(Failure::runtime)? {
            ipc::Bound::AlreadyRunning => return hand_over(options).await,
            ipc::Bound::Listener(listener) => listener,
        };
        if let Err(error) = crate::autostart::apply(settings.autostart) {
            tracing::warn!("{error}");
        }
        // No demo in place of settings that could not be read.
        let demo = settings.server_url.is_none() && settings_problem.is_none();
        if demo {
            // A first start: follow the built-in demo (not saved), so the
            // user sees the app work before configuring anything.
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|error| Failure { code: 1, message: format!("cannot start the demo server: {error}") })?;
            let address = listener.local_addr().map_err(Failure::runtime)?;
            tokio::spawn(crate::demo::serve(listener, crate::demo::DemoOptions::default()));
            settings.server_url = Some(format!("http://{address}/stream"));
            eprintln!(
                "ssetray: no server configured, so this is the built-in demo. Set yours in Settings, or with `ssetray config set server_url https://example.com/stream`."
            );
        }
        let (engine, handle, commands) = match Store::open(&paths.database) {
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
            // The app runs all the same and keeps what arrives meanwhile.
            Err(error) => Engine::with_store_closed(
                settings.clone(),
                paths.database.clone(),
                &error,
                Backoff::default(),
            ),
        };
        let mut engine_events = handle.subscribe();
        let mut paused_until: Option<SystemTime> = None;
        let (config_tx, config_rx) = watch::channel(notifier_config(&settings, paused_until));
        let (clicks_tx, mut clicks) = mpsc::channel::<Click>(16);
        tokio::spawn(notifier::run(handle.subscribe(), config_rx, clicks_tx));

        let (window_events, _) = broadcast::channel::<WindowEvent>(1024);
        let (requests_tx, mut requests) = mpsc::channel::<Incoming>(32);
        #[cfg(unix)]
        tokio::spawn(ipc::serve(listener, requests_tx.clone(), window_events.clone()));

        let mut status = Status {
            state: ConnectionState::Connecting,
            state_text: ConnectionState::Connecting.to_string(),
            unread: 0,
            paused_until_ms: None,
            server: settings.stream_url().map(|url| url.to_string()).unwrap_or_default(),
            demo,
            since_ms: now_ms(),
            last_event_ms: None,
            events_received: 0,
            bytes_received: 0,
            reconnects: 0,
            settings_problem: settings_problem.clone(),
            store_problem: None,
        };
        let (status_tx, status_rx) = watch::channel(status.clone());
        #[cfg(all(feature = "tray", target_os = "linux"))]
        if !options.headless {
            crate::tray::spawn(status_rx.clone(), requests_tx.clone());
        }
        drop(status_rx);

        let mut window = WindowProcess { running: None };
        if !options.headless && !options.hidden {
            if let Reply::Error { message } = window.open(None, &window_events) {
                tracing::warn!("{message}");
            }
        }
        let mut engine_task = tokio::spawn(engine.run(commands));
        let mut opens = 0u64;
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                finished = &mut engine_task => {
                    return match finished {
                        Ok(()) => Ok(()),
                        Err(error) => Err(Failure { code: 1, message: format!("the engine stopped: {error}") }),
                    };
                }
                _ = &mut shutdown => break,
                event = engine_events.recv() => {
                    match event {
                        Ok(event) => {
                            match &event {
                                EngineEvent::State(state) => {
                                    if state.is_open() {
                                        opens += 1;
                                        status.reconnects = opens.saturating_sub(1);
                                    }
                                    if status.state.is_open() != state.is_open() {
                                        status.since_ms = now_ms();
                                    }
                                    status.state = state.clone();
                                    status.state_text = state.to_string();
                                }
                                EngineEvent::UnreadCount(count) => status.unread = *count,
                                EngineEvent::StoreProblem(problem) => status.store_problem = problem.clone(),
                                EngineEvent::Stored(_) => {
                                    status.events_received += 1;
                                    status.last_event_ms = Some(now_ms());
                                }
                            }
                            status.bytes_received = handle.bytes_received();
                            let stored = matches!(event, EngineEvent::Stored(_));
                            let _ = window_events.send(WindowEvent::Engine(event));
                            if !stored {
                                let _ = status_tx.send(status.clone());
                                let _ = window_events.send(WindowEvent::Status(status.clone()));
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
                Some(click) = clicks.recv() => match click {
                    Click::OpenUrl { url, entry_id } => {
                        if let Err(error) = notifier::open_in_browser(&url) {
                            tracing::warn!("{error}");
                        }
                        if let Some(id) = entry_id {
                            let _ = handle.commands.send(Command::MarkRead(id)).await;
                        }
                    }
                    Click::OpenLogin { entry_id } => {
                        window.open(Some(View::Login), &window_events);
                        let _ = handle.commands.send(Command::MarkRead(entry_id)).await;
                    }
                },
                Some(incoming) = requests.recv() => {
                    let reply = match incoming.request {
                        Request::OpenWindow { view } => {
                            if options.headless {
                                Reply::Error { message: "running headless: no window".into() }
                            } else {
                                window.open(view, &window_events)
                            }
                        }
                        Request::MarkRead { id } => forward(&handle.commands, Command::MarkRead(id)).await,
                        Request::MarkAllRead => forward(&handle.commands, Command::MarkAllRead).await,
                        Request::DeleteEntry { id } => forward(&handle.commands, Command::Delete(id)).await,
                        Request::ClearHistory => forward(&handle.commands, Command::ClearHistory).await,
                        Request::Reconnect if settings_problem.is_none() => forward(&handle.commands, Command::ReconnectNow).await,
                        Request::ResetResumePoint => forward(&handle.commands, Command::ResetResumePoint).await,
                        // "Reconnect now" after fixing the settings file by
                        // hand reads it again.
                        Request::Reconnect | Request::SettingsChanged => match Settings::load(&paths.config_file) {
                            Ok(new_settings) => {
                                if settings_problem.take().is_some() {
                                    tracing::info!("the settings file is good again");
                                    status.settings_problem = None;
                                    let _ = status_tx.send(status.clone());
                                    let _ = window_events.send(WindowEvent::Status(status.clone()));
                                }
                                let mut new_settings = new_settings;
                                if new_settings.server_url.is_none() && demo {
                                    new_settings.server_url = settings.server_url.clone();
                                } else {
                                    status.demo = false;
                                }
                                status.server = new_settings.stream_url().map(|url| url.to_string()).unwrap_or_default();
                                if let Err(error) = crate::autostart::apply(new_settings.autostart) {
                                    tracing::warn!("{error}");
                                }
                                settings = new_settings.clone();
                                let _ = config_tx.send(notifier_config(&settings, paused_until));
                                forward(&handle.commands, Command::ApplySettings(Box::new(new_settings))).await
                            }
                            Err(error) => {
                                if settings_problem.is_some() {
                                    // Still broken, maybe elsewhere now: say where.
                                    settings_problem = Some(format!("Settings not used: {error}"));
                                    status.settings_problem = settings_problem.clone();
                                    let _ = status_tx.send(status.clone());
                                    let _ = window_events.send(WindowEvent::Status(status.clone()));
                                }
                                Reply::Error { message: error.to_string() }
                            }
                        },
                        Request::Pause { minutes } => {
                            let length = minutes.map(|m| Duration::from_secs(u64::from(m) * 60)).unwrap_or(FOREVER);
                            paused_until = Some(SystemTime::now() + length);
                            status.paused_until_ms = paused_until.map(|until| until.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0));
                            let _ = config_tx.send(notifier_config(&settings, paused_until));
                            let _ = status_tx.send(status.clone());
                            Reply::Ok
                        }
                        Request::Resume => {
                            paused_until = None;
                            status.paused_until_ms = None;
                            let _ = config_tx.send(notifier_config(&settings, paused_until));
                            let _ = status_tx.send(status.clone());
                            Reply::Ok
                        }
                        Request::Status => {
                            status.bytes_received = handle.bytes_received();
                            Reply::Status { status: serde_json::to_value(&status).unwrap_or_default() }
                        }
                        Request::Subscribe => Reply::Ok,
                        Request::Quit => {
                            let _ = incoming.reply.send(Reply::Ok);
                            break;
                        }
                    };
                    let _ = incoming.reply.send(reply);
                }
            }
        }
        // Quit: the engine commits what it has and closes the connection.
        let _ = handle.commands.send(Command::Quit).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), engine_task).await;
        Ok(())
    })
}

async fn forward(commands: &mpsc::Sender<Command>, command: Command) -> Reply {
    match commands.send(command).await {
        Ok(()) => Reply::Ok,
        Err(_) => Reply::Error {
            message: "the engine has stopped".into(),
        },
    }
}

/// A second start: the running instance opens its window (unless asked to
/// stay hidden), and this process ends.
#[cfg(unix)]
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

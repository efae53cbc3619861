//! The command line: the same binary is the tray app and a headless tool.
//!
//! Exit codes (also in `--help`):
//! - 0: done (for `listen`: the server said stop, or `--max-events` reached);
//! - 1: a runtime failure (the store cannot be opened, a port is taken);
//! - 2: bad usage or a bad setting; the message says which and how to fix it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tokio::sync::mpsc;

use crate::core::settings::{check_http_url, Paths};
use crate::core::store::{HistoryQuery, NewEntry, Store};
use crate::protocol::clock::now_ms;
use crate::protocol::feed;
use crate::protocol::sse::client;
use crate::protocol::sse::{Backoff, ClientConfig, ConnectionState, Update};
use crate::tray_process::bootstrap::{load_settings, open_store, runtime, Failure};
use crate::tray_process::terminal::{for_terminal, for_terminal_line, json_for_terminal};

const EXIT_CODES: &str = "Exit codes: 0 done (listen: the server said stop, or --max-events reached); 1 runtime failure; 2 bad usage or setting.";

#[derive(Parser, Debug)]
#[command(name = "ssetray", version, about = "SSE Tray: Server-Sent Events in your system tray.", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Start in the tray only, without opening the window.
    #[arg(long)]
    pub hidden: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the app: connect to the configured server, store events, show
    /// notifications.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// Print the events of any SSE URL; touches no settings or store unless
    /// --store is given.
    #[command(after_help = EXIT_CODES)]
    Listen(ListenArgs),
    /// List stored events, newest first.
    #[command(after_help = EXIT_CODES)]
    History(HistoryArgs),
    /// Mark stored events read (all, or the given ids).
    #[command(after_help = EXIT_CODES)]
    MarkRead(MarkReadArgs),
    /// Read or change the settings file.
    #[command(subcommand, after_help = EXIT_CODES)]
    Config(ConfigCommand),
    /// Serve a demo event stream (QR login, notifications, messages).
    #[command(after_help = EXIT_CODES)]
    DemoServer(DemoArgs),
    /// Open the window of the running app.
    #[command(after_help = EXIT_CODES)]
    Window(WindowArgs),
    /// Show the running app's status: connection, unread, problems.
    #[command(after_help = EXIT_CODES)]
    Status(StatusArgs),
    /// Forget where the stream stopped: the next connection asks the
    /// server for no replay (for a server that refuses the resume point).
    #[command(after_help = EXIT_CODES)]
    ResetResume(ResetResumeArgs),
    /// Follow one more stream (a server, or another Flask-SSE channel).
    #[command(after_help = EXIT_CODES)]
    Subscribe(SubscribeArgs),
    /// List the subscriptions, with their state when the app runs.
    #[command(after_help = EXIT_CODES)]
    Subscriptions(SubscriptionsArgs),
    /// Stop following a subscription; its history stays unless asked.
    #[command(after_help = EXIT_CODES)]
    Unsubscribe(UnsubscribeArgs),
    /// Quit the running app (what the tray's Quit does); nothing to do when
    /// it does not run.
    #[command(after_help = EXIT_CODES)]
    Quit,
}

#[derive(Args, Debug)]
pub struct ResetResumeArgs {
    /// Only this subscription's resume point (default: every one's).
    #[arg(long, value_name = "NAME")]
    pub subscription: Option<String>,
}

#[derive(Args, Debug)]
pub struct SubscribeArgs {
    /// The event stream URL (http or https).
    pub url: String,
    /// The Flask-SSE channel, sent as `?channel=`.
    #[arg(long)]
    pub channel: Option<String>,
    /// What to call it (default: the host, plus "/channel").
    #[arg(long)]
    pub name: Option<String>,
    /// An extra request header, "Name: value" (repeatable).
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SubscriptionsArgs {
    /// One JSON object per subscription.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct UnsubscribeArgs {
    /// The subscription's name (see `ssetray subscriptions`).
    pub name: String,
    /// Delete its stored events too.
    #[arg(long)]
    pub delete_history: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The status as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct WindowArgs {
    /// The view to show.
    #[arg(long, value_enum)]
    pub view: Option<crate::ipc::View>,
}

#[derive(Args, Debug, Default)]
pub struct RunArgs {
    /// Without tray icon or window: the engine and notifications only.
    #[arg(long)]
    pub headless: bool,
    /// Start in the tray without opening the window.
    #[arg(long)]
    pub hidden: bool,
}

#[derive(Args, Debug)]
pub struct ListenArgs {
    /// The event stream URL (http or https).
    pub url: String,
    /// One JSON object per event on stdout: {"type", "data", "id"}.
    #[arg(long)]
    pub json: bool,
    /// Resume after this id (sent as Last-Event-ID).
    #[arg(long, value_name = "ID")]
    pub last_event_id: Option<String>,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// An extra request header, "Name: value" (repeatable).
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Also store the events in the history database.
    #[arg(long)]
    pub store: bool,
    /// A PEM file of CA certificates trusted besides the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Trust exactly the certificate with this SHA-256 fingerprint (as the
    /// state shows it), whoever signed it, and no other.
    #[arg(long, value_name = "SHA256")]
    pub pin: Option<String>,
    /// Reconnection time until the server sends `retry`, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub retry_ms: u64,
    /// Longest wait between reconnects, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub max_retry_ms: u64,
    /// First wait after a wrong status or content type, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 15_000)]
    pub http_error_retry_ms: u64,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub unread: bool,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only this subscription's events.
    #[arg(long, value_name = "NAME")]
    pub subscription: Option<String>,
}

#[derive(Args, Debug)]
pub struct MarkReadArgs {
    /// Entry ids to mark read; none means all.
    pub ids: Vec<i64>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a setting (e.g. server_url, history.keep_days), or all.
    Get { key: Option<String> },
    /// Change a setting; the value is checked before anything is written.
    Set { key: String, value: String },
    /// Print where the settings file is.
    Path,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Milliseconds between events.
    #[arg(long, default_value_t = 4000)]
    pub interval_ms: u64,
}

/// Where `listen --store` keeps what it receives.
enum StoreTo {
    App(crate::ipc::Client),
    File(Store),
}

impl StoreTo {
    /// Where `listen --store` keeps events: through the running app (the
    /// one writer of the history, whose badge then follows), else into the
    /// store directly; `None` without `--store`.
    async fn open(wanted: bool) -> Result<Option<StoreTo>, Failure> {
        if !wanted {
            return Ok(None);
        }
        match crate::ipc::Client::connect(&crate::ipc::socket_path()).await {
            Ok(app) => Ok(Some(StoreTo::App(app))),
            Err(crate::ipc::IpcError::NotRunning(_)) => {
                Ok(Some(StoreTo::File(open_store(&Paths::from_environment())?)))
            }
            Err(error) => Err(Failure::runtime(error)),
        }
    }

    async fn keep(
        &mut self,
        server: &str,
        event: &crate::protocol::sse::SseEvent,
    ) -> Result<(), Failure> {
        match self {
            StoreTo::App(app) => {
                let request = crate::ipc::Request::StoreEvent {
                    server: server.to_string(),
                    event_type: event.event_type.to_string(),
                    id: event.has_own_id.then(|| event.last_event_id.to_string()),
                    last_event_id: event.last_event_id.to_string(),
                    data: event.data.clone(),
                };
                match app.request(&request).await.map_err(Failure::runtime)? {
                    crate::ipc::Reply::Error { message } => Err(Failure::runtime(message)),
                    _ => Ok(()),
                }
            }
            StoreTo::File(store) => {
                let app_event = feed::interpret(event);
                store
                    .insert_many(&[NewEntry {
                        server,
                        event_type: &event.event_type,
                        event_id: event.has_own_id.then_some(&*event.last_event_id),
                        last_event_id: &event.last_event_id,
                        data: &event.data,
                        event: &app_event,
                        received_at_ms: now_ms(),
                    }])
                    .map(|_| ())
                    .map_err(Failure::runtime)
            }
        }
    }
}

/// One line of `listen --json`, fields in the documented order.
#[derive(serde::Serialize)]
struct JsonEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    data: &'a str,
    /// `MessageEvent.lastEventId`: `""` when none.
    id: &'a str,
}

pub fn listen(args: ListenArgs) -> Result<(), Failure> {
    let config = listen_config(&args)?;
    let runtime = runtime()?;
    runtime.block_on(async move {
        let store = StoreTo::open(args.store).await?;
        let mut printer = Printer {
            // As stored and shown: without the secrets the URL may carry.
            server: crate::protocol::url_policy::redacted(&config.url),
            store,
            json: args.json,
            max_events: args.max_events,
            seen: 0,
        };
        // Kept here: the client stops once no one can control it.
        let (_control, mut updates) = follow(config).await?;
        while let Some(update) = updates.recv().await {
            if printer.on_update(update).await? == Listening::Done {
                return Ok(());
            }
        }
        Ok(())
    })
}

/// How `listen` connects: the URL, where to resume, trust, retries and
/// headers of its arguments, each refused with what to give instead.
fn listen_config(args: &ListenArgs) -> Result<ClientConfig, Failure> {
    let url = check_http_url("url", &args.url).map_err(|_| {
        Failure::usage(format!(
            "{:?} is not an http(s) URL with a host; give the full stream address, e.g. http://127.0.0.1:5000/stream",
            args.url
        ))
    })?;
    let mut config = ClientConfig::new(url);
    config.last_event_id = args.last_event_id.clone().unwrap_or_default();
    config.extra_ca_file = args.ca_file.clone();
    if let Some(pin) = &args.pin {
        config.certificate_pin = Some(crate::protocol::sse::trust::Fingerprint::parse(pin).ok_or_else(|| {
            Failure::usage(format!(
                "--pin {pin:?} is not a SHA-256 fingerprint: give its 64 hex digits (colons allowed)"
            ))
        })?);
    }
    config.backoff = Backoff {
        default_retry: Duration::from_millis(args.retry_ms),
        max_delay: Duration::from_millis(args.max_retry_ms),
        http_error_delay: Duration::from_millis(args.http_error_retry_ms),
        ..Backoff::default()
    };
    for header in &args.headers {
        let (name, value) = header_arg(header)?;
        config.headers.insert(name, value);
    }
    Ok(config)
}

/// Starts the client on `config`, hearing the network and sleep as the
/// app hears them, so that a lost link is noticed and its return answered
/// as fast: its control (the client runs while it is kept) and updates.
async fn follow(
    mut config: ClientConfig,
) -> Result<
    (
        mpsc::Sender<crate::protocol::sse::Control>,
        mpsc::Receiver<Update>,
    ),
    Failure,
> {
    let (hearing, mut network) = crate::desktop::network_watch::start().await;
    config.hearing(hearing.hears_the_network(), hearing.hears_sleep());
    let (updates_tx, updates) = mpsc::channel(1024);
    let control = client::spawn(config, updates_tx).map_err(Failure::usage)?;
    let told = control.clone();
    tokio::spawn(async move {
        while let Some(event) = network.recv().await {
            if told.send(event.control()).await.is_err() {
                return;
            }
        }
    });
    Ok((control, updates))
}

/// Whether `listen` goes on after an update.
#[derive(Debug, PartialEq, Eq)]
enum Listening {
    GoOn,
    /// The server said stop, `--max-events` were printed, or stdout closed.
    Done,
}

/// What `listen` does with each update: keeps events when asked, prints
/// them to stdout and the states to stderr, and counts.
struct Printer {
    server: String,
    store: Option<StoreTo>,
    json: bool,
    max_events: Option<u64>,
    seen: u64,
}

impl Printer {
    async fn on_update(&mut self, update: Update) -> Result<Listening, Failure> {
        match update {
            Update::Event(event) => {
                if let Some(store) = self.store.as_mut() {
                    store.keep(&self.server, &event).await?;
                }
                let line = event_line(&event, self.json);
                let mut out = std::io::stdout().lock();
                // A closed stdout (a pipe into `head`) ends the command.
                if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                    return Ok(Listening::Done);
                }
                self.seen += 1;
                if self.max_events.is_some_and(|max| self.seen >= max) {
                    return Ok(Listening::Done);
                }
            }
            Update::State(state) => {
                eprintln!("ssetray: {}", for_terminal_line(&state.to_string()));
                if matches!(state, ConnectionState::Stopped { .. }) {
                    return Ok(Listening::Done);
                }
            }
            Update::LastEventId(_) => {}
        }
        Ok(Listening::GoOn)
    }
}

/// An event as `listen` prints it: a JSON line, or `[type] (id ID) data`
/// (without the id part when there is none), safe for a terminal.
fn event_line(event: &crate::protocol::sse::SseEvent, json: bool) -> String {
    if json {
        json_for_terminal(
            serde_json::to_string(&JsonEvent {
                event_type: &event.event_type,
                data: &event.data,
                id: &event.last_event_id,
            })
            .unwrap_or_default(),
        )
    } else if event.last_event_id.is_empty() {
        format!(
            "[{}] {}",
            for_terminal_line(&event.event_type),
            for_terminal(&event.data)
        )
    } else {
        format!(
            "[{}] (id {}) {}",
            for_terminal_line(&event.event_type),
            for_terminal_line(&event.last_event_id),
            for_terminal(&event.data)
        )
    }
}

/// `ssetray window`: ask the running tray process to open its window.
/// `ssetray quit`: the running app stores what it has and ends. An app
/// that does not run is no failure (an installer calls this before it
/// replaces the program).
pub fn quit() -> Result<(), Failure> {
    match ask_the_app(crate::ipc::Request::Quit)? {
        Some(crate::ipc::Reply::Ok) => eprintln!("ssetray: SSE Tray is quitting."),
        Some(other) => return Err(unexpected(other)),
        None => eprintln!("ssetray: SSE Tray is not running."),
    }
    Ok(())
}

pub fn window(args: WindowArgs) -> Result<(), Failure> {
    match ask_the_app(crate::ipc::Request::OpenWindow { view: args.view })? {
        Some(crate::ipc::Reply::Ok) => Ok(()),
        Some(other) => Err(unexpected(other)),
        None => offer_to_start(),
    }
}

/// No app runs to open a window: at a terminal, offer to start it.
fn offer_to_start() -> Result<(), Failure> {
    use std::io::IsTerminal;
    eprintln!("ssetray: SSE Tray is not running, so there is no window to open.");
    if std::io::stdin().is_terminal() {
        eprint!("Start it now? [Y/n] ");
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !answer.trim().to_ascii_lowercase().starts_with('n') {
            let exe = std::env::current_exe().map_err(Failure::runtime)?;
            std::process::Command::new(exe)
                .stdin(std::process::Stdio::null())
                .spawn()
                .map_err(|error| Failure::runtime(format!("cannot start SSE Tray: {error}")))?;
            return Ok(());
        }
    }
    Err(Failure::runtime(
        "start it with `ssetray` (it opens the window)",
    ))
}

fn unexpected(reply: crate::ipc::Reply) -> Failure {
    Failure::runtime(format!("unexpected answer: {reply:?}"))
}

/// A `-H 'Name: value'` argument, checked.
fn header_arg(
    header: &str,
) -> Result<(reqwest::header::HeaderName, reqwest::header::HeaderValue), Failure> {
    let (name, value) = header.split_once(':').ok_or_else(|| {
        Failure::usage(format!(
            "--header {header:?} must look like \"Name: value\""
        ))
    })?;
    let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| Failure::usage(format!("--header {header:?}: not a valid header name")))?;
    let value = reqwest::header::HeaderValue::from_str(value.trim())
        .map_err(|_| Failure::usage(format!("--header {header:?}: not a valid header value")))?;
    Ok((name, value))
}

/// Ask the running app; `None` when it is not running.
fn ask_the_app(request: crate::ipc::Request) -> Result<Option<crate::ipc::Reply>, Failure> {
    let runtime = runtime()?;
    let path = crate::ipc::socket_path();
    let answer = runtime.block_on(async {
        let mut client = crate::ipc::Client::connect(&path).await?;
        client.request(&request).await
    });
    match answer {
        Ok(crate::ipc::Reply::Error { message }) => Err(Failure::runtime(message)),
        Ok(reply) => Ok(Some(reply)),
        Err(crate::ipc::IpcError::NotRunning(_)) => Ok(None),
        Err(error) => Err(Failure::runtime(error)),
    }
}

/// `ssetray status`: the running app's status.
pub fn status(args: StatusArgs) -> Result<(), Failure> {
    let Some(reply) = ask_the_app(crate::ipc::Request::Status)? else {
        return Err(Failure::runtime(
            "SSE Tray is not running; start it with `ssetray`",
        ));
    };
    let crate::ipc::Reply::Status { status } = reply else {
        return Err(unexpected(reply));
    };
    if args.json {
        println!(
            "{}",
            json_for_terminal(serde_json::to_string(&status).map_err(Failure::runtime)?)
        );
        return Ok(());
    }
    println!("{}", for_terminal_line(&status.state_text));
    println!("server: {}", for_terminal_line(&status.server));
    println!("unread: {}", status.unread);
    for problem in status.problems() {
        println!("problem: {}", for_terminal_line(problem));
    }
    Ok(())
}

/// `ssetray reset-resume`: through the app when it runs (it reconnects at
/// once), else in the store directly.
pub fn reset_resume(args: ResetResumeArgs) -> Result<(), Failure> {
    let request = crate::ipc::Request::ResetResumePoint {
        subscription: args.subscription.clone(),
    };
    if ask_the_app(request)?.is_some() {
        eprintln!("ssetray: reconnecting without a resume point");
        return Ok(());
    }
    let paths = Paths::from_environment();
    let settings = load_settings(&paths)?;
    let servers: Vec<String> = settings
        .followed()
        .filter(|subscription| {
            args.subscription
                .as_deref()
                .is_none_or(|name| subscription.name == name)
        })
        .filter_map(|subscription| subscription.server_key())
        .collect();
    if servers.is_empty() {
        return Err(Failure::usage(
            "no such server is configured, so there is no resume point to forget; see `ssetray subscriptions`",
        ));
    }
    let store = open_store(&paths)?;
    for server in servers {
        store
            .reset_last_event_id(&server)
            .map_err(Failure::runtime)?;
        eprintln!("ssetray: the next connection to {server} starts from now");
    }
    Ok(())
}

/// `ssetray subscribe`: through the running app (which connects at once,
/// the others untouched), else into the settings file.
pub fn subscribe(args: SubscribeArgs) -> Result<(), Failure> {
    check_http_url("server_url", &args.url).map_err(Failure::usage)?;
    let mut subscription = crate::core::settings::Subscription::new(
        args.url.trim(),
        args.channel.as_deref().unwrap_or_default(),
    );
    subscription.name = args.name.clone().unwrap_or_default();
    for header in &args.headers {
        header_arg(header)?;
        // As the user spelt it (a checked name would be lowercased).
        if let Some((name, value)) = header.split_once(':') {
            subscription
                .headers
                .insert(name.trim().to_string(), value.trim().to_string());
        }
    }
    let request = crate::ipc::Request::AddSubscription {
        subscription: Box::new(subscription.clone()),
    };
    if ask_the_app(request)
        .map_err(|failure| Failure::usage(failure.message))?
        .is_some()
    {
        eprintln!("ssetray: subscribed; the running app connected to it");
        return Ok(());
    }
    let paths = Paths::from_environment();
    let runtime = runtime()?;
    runtime.block_on(async {
        let (settings, _) = crate::core::secrets::load(&paths.config_file)
            .await
            .map_err(Failure::usage)?;
        let changed = settings
            .with_subscription(subscription)
            .map_err(Failure::usage)?;
        crate::core::secrets::save(&changed, &paths.config_file)
            .await
            .map_err(Failure::usage)?;
        let name = changed
            .subscriptions
            .last()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        eprintln!("ssetray: subscribed as {name:?}; SSE Tray follows it when it starts");
        Ok(())
    })
}

/// `ssetray subscriptions`: the settings' subscriptions, with the running
/// app's state of each.
pub fn subscriptions(args: SubscriptionsArgs) -> Result<(), Failure> {
    let paths = Paths::from_environment();
    let settings = load_settings(&paths)?;
    let status = match ask_the_app(crate::ipc::Request::Status)? {
        Some(crate::ipc::Reply::Status { status }) => Some(status),
        _ => None,
    };
    let mut out = std::io::stdout().lock();
    for subscription in &settings.subscriptions {
        let server = subscription.server_key().unwrap_or_default();
        let line = status.as_ref().and_then(|status| {
            status
                .subscriptions
                .iter()
                .find(|line| line.server == server)
        });
        let text = if args.json {
            let value = serde_json::json!({
                "name": subscription.name,
                "url": crate::protocol::url_policy::redacted_text(subscription.server_url.as_deref().unwrap_or_default()),
                "channel": subscription.channel,
                "server": server,
                "notifications": subscription.notifications,
                "state": line.map(|line| &line.state),
                "state_text": line.map(|line| &line.state_text),
            });
            json_for_terminal(value.to_string())
        } else {
            let state = line.map_or("(SSE Tray is not running)", |line| line.state_text.as_str());
            format!(
                "{}\t{}\t{}",
                for_terminal_line(&subscription.name),
                for_terminal_line(&server),
                for_terminal_line(state)
            )
        };
        if writeln!(out, "{text}").is_err() {
            break;
        }
    }
    Ok(())
}

/// `ssetray unsubscribe`: through the running app, else in the settings
/// file (and the store, with `--delete-history`).
pub fn unsubscribe(args: UnsubscribeArgs) -> Result<(), Failure> {
    let request = crate::ipc::Request::RemoveSubscription {
        name: args.name.clone(),
        delete_history: args.delete_history,
    };
    if ask_the_app(request)
        .map_err(|failure| Failure::usage(failure.message))?
        .is_some()
    {
        eprintln!("ssetray: unsubscribed from {:?}", args.name);
        return Ok(());
    }
    let paths = Paths::from_environment();
    let runtime = runtime()?;
    let server = runtime.block_on(async {
        let (settings, _) = crate::core::secrets::load(&paths.config_file)
            .await
            .map_err(Failure::usage)?;
        let (changed, removed) = settings
            .without_subscription(&args.name)
            .map_err(Failure::usage)?;
        crate::core::secrets::save(&changed, &paths.config_file)
            .await
            .map_err(Failure::usage)?;
        Ok::<_, Failure>(removed.server_key())
    })?;
    if let (true, Some(server)) = (args.delete_history, server) {
        let mut store = open_store(&paths)?;
        let removed = store.delete_server(&server).map_err(Failure::runtime)?;
        eprintln!("ssetray: deleted its {removed} stored events");
    }
    eprintln!("ssetray: unsubscribed from {:?}", args.name);
    Ok(())
}

/// A history row as `history --json` prints it: the entry and the name of
/// the subscription it came on.
#[derive(serde::Serialize)]
struct HistoryRow<'a> {
    #[serde(flatten)]
    entry: &'a crate::core::store::HistoryEntry,
    subscription: Option<&'a String>,
}

pub fn history(args: HistoryArgs) -> Result<(), Failure> {
    let paths = Paths::from_environment();
    // A reader: the running app stays the only writer.
    let Some(store) = Store::open_read_only(&paths.database).map_err(Failure::runtime)? else {
        return Ok(());
    };
    let settings = load_settings(&paths).unwrap_or_default();
    let server = match args.subscription.as_deref() {
        Some(name) => Some(
            settings
                .subscription(name)
                .and_then(|subscription| subscription.server_key())
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "no subscription is called {name:?}; see `ssetray subscriptions`"
                    ))
                })?,
        ),
        None => None,
    };
    let entries = store
        .history(&HistoryQuery {
            unread_only: args.unread,
            limit: args.limit,
            server,
            ..Default::default()
        })
        .map_err(Failure::runtime)?;
    let names = settings.names_by_server();
    let mut out = std::io::stdout().lock();
    for entry in entries {
        let line = if args.json {
            // Every row says which subscription it came on (null for a
            // stream no longer subscribed to).
            json_for_terminal(
                serde_json::to_string(&HistoryRow {
                    entry: &entry,
                    subscription: names.get(&entry.server),
                })
                .unwrap_or_default(),
            )
        } else {
            let mark = if entry.read { ' ' } else { '*' };
            let data: String = entry
                .data
                .chars()
                .take(120)
                .map(|c| if c == '\n' { ' ' } else { c })
                .collect();
            format!(
                "{mark} {:>6}  {:<14} {}",
                entry.id,
                for_terminal_line(&entry.event_type),
                for_terminal_line(&data)
            )
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(())
}

pub fn mark_read(args: MarkReadArgs) -> Result<(), Failure> {
    let paths = Paths::from_environment();
    // A running app is the store's one writer: ask it, so that its badge
    // follows at once instead of drifting from the store.
    let reader = Store::open_read_only(&paths.database).map_err(Failure::runtime)?;
    for &id in &args.ids {
        if let Some(reader) = &reader {
            if !reader.has_entry(id).map_err(Failure::runtime)? {
                return Err(Failure::usage(format!(
                    "there is no entry {id}; see `ssetray history`"
                )));
            }
        }
    }
    let requests: Vec<crate::ipc::Request> = if args.ids.is_empty() {
        vec![crate::ipc::Request::MarkAllRead]
    } else {
        args.ids
            .iter()
            .map(|&id| crate::ipc::Request::MarkRead { id })
            .collect()
    };
    let mut through_the_app = false;
    for request in requests {
        through_the_app |= ask_the_app(request)?.is_some();
    }
    if through_the_app {
        return Ok(());
    }
    let store = open_store(&paths)?;
    if args.ids.is_empty() {
        let changed = store.mark_all_read().map_err(Failure::runtime)?;
        eprintln!("ssetray: marked {changed} entries read");
    } else {
        for id in args.ids {
            if !store.mark_read(id).map_err(Failure::runtime)? {
                return Err(Failure::usage(format!(
                    "there is no entry {id}; see `ssetray history`"
                )));
            }
        }
    }
    Ok(())
}

pub fn config(command: ConfigCommand) -> Result<(), Failure> {
    let paths = Paths::from_environment();
    match command {
        ConfigCommand::Path => println!("{}", paths.config_file.display()),
        // The file as it is: header values kept in the Secret Service are
        // listed by name only, never printed.
        ConfigCommand::Get { key: None } => {
            let settings = load_settings(&paths)?;
            let text = toml::to_string_pretty(&settings).map_err(Failure::runtime)?;
            print!("{text}");
        }
        ConfigCommand::Get { key: Some(key) } => {
            let mut settings = load_settings(&paths)?;
            if key.contains("headers.") {
                if let Some(problem) =
                    runtime()?.block_on(crate::core::secrets::fill(&mut settings))
                {
                    eprintln!("ssetray: {problem}");
                }
            }
            println!("{}", settings.get(&key).map_err(Failure::usage)?);
        }
        ConfigCommand::Set { key, value } => {
            let runtime = runtime()?;
            let mut settings = load_settings(&paths)?;
            // The other headers' values, so that the save keeps them.
            if let Some(problem) = runtime.block_on(crate::core::secrets::fill(&mut settings)) {
                eprintln!("ssetray: {problem}");
            }
            let changed = settings.set(&key, &value).map_err(Failure::usage)?;
            let kept_in = runtime
                .block_on(crate::core::secrets::save(&changed, &paths.config_file))
                .map_err(Failure::usage)?;
            drop(runtime);
            if key.starts_with("headers.") {
                eprintln!("ssetray: the header value is kept {}", kept_in.describe());
            }
            // A running app applies it at once.
            match ask_the_app(crate::ipc::Request::SettingsChanged) {
                Ok(Some(_)) => eprintln!("ssetray: saved; the running app applied it"),
                Ok(None) => {}
                Err(failure) => eprintln!(
                    "ssetray: saved, but the running app did not apply it: {}",
                    failure.message
                ),
            }
        }
    }
    Ok(())
}

pub fn demo_server(args: DemoArgs) -> Result<(), Failure> {
    let runtime = runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .map_err(|error| {
                Failure::runtime(format!(
                    "cannot listen on 127.0.0.1:{}: {error}. Pick another with --port.",
                    args.port
                ))
            })?;
        let address = listener.local_addr().map_err(Failure::runtime)?;
        println!("http://{address}/stream");
        let _ = std::io::stdout().flush();
        let options = crate::tray_process::demo::DemoOptions {
            interval: Duration::from_millis(args.interval_ms.max(10)),
            ..Default::default()
        };
        crate::tray_process::demo::serve(listener, options)
            .await
            .map_err(Failure::runtime)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::sse::SseEvent;

    fn event(event_type: &str, data: &str, id: &str) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data: data.to_string(),
            last_event_id: id.into(),
            has_own_id: !id.is_empty(),
        }
    }

    #[test]
    fn listen_prints_an_event_on_one_line_safe_for_a_terminal() {
        assert_eq!(event_line(&event("chat", "hi", ""), false), "[chat] hi");
        assert_eq!(
            event_line(&event("chat", "hi", "7"), false),
            "[chat] (id 7) hi"
        );
        let json: serde_json::Value =
            serde_json::from_str(&event_line(&event("chat", "hi", "7"), true)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "chat", "data": "hi", "id": "7"})
        );
        let hostile = event_line(&event("a\x1b[2Jb", "c\x1b]0;x\x07d", "e\nf"), false);
        assert!(
            !hostile.contains('\x1b') && !hostile.contains('\x07'),
            "{hostile:?}"
        );
        assert!(!hostile.contains('\n'), "{hostile:?}");
    }
}

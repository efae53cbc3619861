//! What the window's commands do, without Tauri.
//!
//! The window process's Tauri layer (`window_main.rs`) only registers these
//! as commands. Reads go to the store through a read-only connection; every
//! change goes to the tray process over the local socket, since that process
//! is the store's only writer. The page gets what to show and nothing more:
//! rows as [`EntryView`]s (never an event's raw data), images only as
//! `data:` URLs of the PNGs the tray process wrote (this process fetches
//! nothing), links only by an entry's id.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::entry_view::EntryView;
use crate::core::settings::{Paths, Settings, SettingsError, Subscription};
use crate::core::store::{HistoryQuery, LoginState, Store};
use crate::desktop::notifier::open_in_browser;
use crate::ipc::{self, Reply, Request};
use crate::protocol::clock::now_ms;
use crate::protocol::feed::Login;
use crate::protocol::sse::connection::{Connection, OpenError};

/// An error for the page: which field (for settings) and what to do.
#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub field: Option<String>,
    pub message: String,
}

impl CommandError {
    pub fn message(text: impl ToString) -> CommandError {
        CommandError {
            field: None,
            message: text.to_string(),
        }
    }
}

impl From<SettingsError> for CommandError {
    fn from(error: SettingsError) -> Self {
        let field = match &error {
            SettingsError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        CommandError {
            field,
            message: error.to_string(),
        }
    }
}

/// The history query as the page sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryQueryArgs {
    pub before_id: Option<i64>,
    pub limit: u32,
    #[serde(default)]
    pub unread_only: bool,
    pub event_type: Option<String>,
    pub search: Option<String>,
    /// Only this subscription's entries (by name).
    #[serde(default)]
    pub subscription: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub entries: Vec<EntryView>,
    pub unread: u64,
    pub types: Vec<String>,
    /// Each subscription and its unread count, for the filter.
    pub subscriptions: Vec<SubscriptionUnread>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionUnread {
    pub name: String,
    pub unread: u64,
}

/// A login state, whose it is, and the subscriptions that have one.
#[derive(Debug, Default)]
pub struct LoginOf {
    pub state: Option<LoginState>,
    pub subscription: Option<String>,
    pub with_login: Vec<String>,
}

/// The settings as saved (none readable: none), to name subscriptions.
fn saved_settings() -> Settings {
    Settings::load(&Paths::from_environment().config_file).unwrap_or_default()
}

/// The window's read-only view of the store, opened when first needed.
pub struct Reader {
    store: Option<Store>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Reader {
        Reader { store: None }
    }

    fn store(&mut self) -> Result<Option<&Store>, CommandError> {
        if self.store.is_none() {
            let paths = Paths::from_environment();
            self.store = Store::open_read_only(&paths.database).map_err(CommandError::message)?;
        }
        Ok(self.store.as_ref())
    }

    /// Opens the store and reads the newest page once, so that the page's
    /// first query finds the connection open and the rows in SQLite's cache.
    /// Called beside the webview's start-up, which takes far longer.
    pub fn warm_up(&mut self) {
        let newest = HistoryQueryArgs {
            before_id: None,
            limit: 30,
            unread_only: false,
            event_type: None,
            search: None,
            subscription: None,
        };
        if let Err(error) = self.history(&newest) {
            tracing::debug!("the store could not be read ahead: {}", error.message);
        }
    }

    /// The link of entry `id`, as its row shows it (derived here, http(s)
    /// only, no user info); `None` when it has none.
    /// An entry's link and the stream it came on.
    pub fn link_of(&mut self, id: i64) -> Result<Option<(String, String)>, CommandError> {
        let Some(store) = self.store()? else {
            return Ok(None);
        };
        let entry = store.entry(id).map_err(CommandError::message)?;
        Ok(entry.and_then(|entry| {
            let link = EntryView::of(&entry).link?;
            Some((link, entry.server))
        }))
    }

    pub fn history(&mut self, args: &HistoryQueryArgs) -> Result<HistoryPage, CommandError> {
        let settings = saved_settings();
        let subscriptions_of = |store: &Store| -> Result<Vec<SubscriptionUnread>, CommandError> {
            let unread = store.unread_by_server().map_err(CommandError::message)?;
            Ok(settings
                .subscriptions
                .iter()
                .map(|subscription| SubscriptionUnread {
                    name: subscription.name.clone(),
                    unread: unread
                        .iter()
                        .find(|(server, _)| Some(server) == subscription.server_key().as_ref())
                        .map_or(0, |(_, count)| *count),
                })
                .collect())
        };
        let Some(store) = self.store()? else {
            return Ok(HistoryPage {
                entries: Vec::new(),
                unread: 0,
                types: Vec::new(),
                subscriptions: Vec::new(),
            });
        };
        let server = match args.subscription.as_deref().filter(|name| !name.is_empty()) {
            Some(name) => Some(
                settings
                    .subscription(name)
                    .and_then(|subscription| subscription.server_key())
                    .ok_or_else(|| {
                        CommandError::message(format!("no subscription is called {name:?}"))
                    })?,
            ),
            None => None,
        };
        let query = HistoryQuery {
            unread_only: args.unread_only,
            event_type: args.event_type.clone().filter(|t| !t.is_empty()),
            before_id: args.before_id,
            search: args.search.clone().filter(|s| !s.trim().is_empty()),
            server,
            limit: args.limit.clamp(1, 1000),
        };
        let entries = store.history(&query).map_err(CommandError::message)?;
        let names = settings.names_by_server();
        Ok(HistoryPage {
            entries: entries
                .iter()
                .map(|entry| EntryView::of(entry).named(names.get(&entry.server).cloned()))
                .collect(),
            unread: store.unread_count().map_err(CommandError::message)?,
            types: store.event_types().map_err(CommandError::message)?,
            subscriptions: subscriptions_of(store)?,
        })
    }

    /// The login state of the subscription called `name`, or the newest
    /// of any; with the subscriptions that have one.
    pub fn login_state(&mut self, name: Option<&str>) -> Result<LoginOf, CommandError> {
        let settings = saved_settings();
        let Some(store) = self.store()? else {
            return Ok(LoginOf::default());
        };
        let servers = store.login_servers().map_err(CommandError::message)?;
        let name_of = |server: &str| {
            settings
                .subscription_of_server(server)
                .map(|subscription| subscription.name.clone())
        };
        let with_login: Vec<String> = servers
            .iter()
            .filter_map(|server| name_of(server))
            .collect();
        let server = match name {
            Some(name) => settings
                .subscription(name)
                .and_then(|subscription| subscription.server_key()),
            None => servers.first().cloned(),
        };
        let Some(server) = server else {
            return Ok(LoginOf {
                with_login,
                ..LoginOf::default()
            });
        };
        Ok(LoginOf {
            state: store.login_state(&server).map_err(CommandError::message)?,
            subscription: name_of(&server),
            with_login,
        })
    }
}

/// Send a request to the tray process; its answer as a result.
pub async fn forward(request: Request) -> Result<(), CommandError> {
    match ask(request).await? {
        Reply::Ok | Reply::Status { .. } => Ok(()),
        Reply::Error { message } => Err(CommandError::message(message)),
    }
}

async fn ask(request: Request) -> Result<Reply, CommandError> {
    let mut client = ipc::Client::connect(&ipc::socket_path())
        .await
        .map_err(CommandError::message)?;
    client
        .request(&request)
        .await
        .map_err(CommandError::message)
}

pub async fn status() -> Result<Box<crate::ipc::Status>, CommandError> {
    match ask(Request::Status).await? {
        Reply::Status { status } => Ok(status),
        Reply::Error { message } => Err(CommandError::message(message)),
        Reply::Ok => Err(CommandError::message("no status")),
    }
}

/// The login view: the newest step, with its images checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoginView {
    /// Whose login this is (by name), when known.
    pub subscription: Option<String>,
    /// The subscriptions that sent login events, newest first.
    pub subscriptions_with_login: Vec<String>,
    pub step: String,
    pub qr_data_url: Option<String>,
    pub image_data_url: Option<String>,
    pub user_name: Option<String>,
    pub avatar_data_url: Option<String>,
    pub updated_at_ms: Option<i64>,
    pub expired: bool,
}

/// The login view for the newest stored step; a QR code older than
/// `qr_expiry` shows as expired. Its image is the PNG the tray process
/// wrote, or none while it is being fetched.
pub fn login_view(stored: Option<LoginState>, qr_expiry: Duration) -> LoginView {
    let Some(LoginState {
        step,
        updated_at_ms,
        image_png,
    }) = stored
    else {
        return LoginView {
            step: "none".into(),
            ..Default::default()
        };
    };
    let image = image_png.as_deref().and_then(png_data_url);
    let mut view = LoginView {
        updated_at_ms: Some(updated_at_ms),
        ..Default::default()
    };
    match step {
        Login::ScanQrCode { .. } => {
            view.step = "scan_qr_code".into();
            view.qr_data_url = image;
            view.expired = now_ms().saturating_sub(updated_at_ms) > qr_expiry.as_millis() as i64;
        }
        Login::ConfirmLogin { .. } => {
            view.step = "confirm_login".into();
            view.image_data_url = image;
        }
        Login::LoggedIn { user, .. } => {
            view.step = "logged_in".into();
            view.user_name = user.name.clone();
            view.avatar_data_url = image;
        }
        Login::LoggedOut { .. } => view.step = "logged_out".into(),
    }
    view
}

/// A `data:` URL for a stored PNG (checked again: the store is a file on
/// disk, and only a PNG ever goes to the page).
pub fn png_data_url(png: &[u8]) -> Option<String> {
    png.starts_with(b"\x89PNG\r\n\x1a\n").then(|| {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    })
}

/// The QR expiry from the settings (the default when they cannot be read).
pub fn qr_expiry() -> Duration {
    let minutes = Settings::load(&Paths::from_environment().config_file)
        .map(|settings| settings.qr_expiry_minutes)
        .unwrap_or(5);
    Duration::from_secs(u64::from(minutes) * 60)
}

/// The settings for the page, with the header values the Secret Service
/// keeps.
pub async fn get_settings() -> Result<Value, CommandError> {
    let (settings, problem) =
        crate::core::secrets::load(&Paths::from_environment().config_file).await?;
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    serde_json::to_value(settings).map_err(CommandError::message)
}

/// Validate and save the settings the page sends (header values to the
/// Secret Service where one runs), then tell the tray process to apply
/// them. Nothing invalid is written.
pub async fn save_settings(value: Value) -> Result<(), CommandError> {
    let mut settings = Settings::from_json(value)?;
    let path = Paths::from_environment().config_file;
    // A pin is for one server: moved to another, it is trusted anew (unless
    // the page set a new pin with it).
    if let Ok(before) = Settings::load(&path) {
        for subscription in &mut settings.subscriptions {
            let Some(was) = before.subscription(&subscription.name) else {
                continue;
            };
            if was.stream_origin() != subscription.stream_origin()
                && was.certificate_pin == subscription.certificate_pin
            {
                subscription.certificate_pin = None;
            }
        }
    }
    crate::core::secrets::save(&settings, &path).await?;
    // Without a running tray process the file is still saved; the app
    // reads it when it starts.
    match forward(Request::SettingsChanged).await {
        Err(error) if !error.message.contains("not running") => Err(error),
        _ => Ok(()),
    }
}

/// Whether `url` is one of the app's own pages, the only place the window
/// may navigate to: Tauri serves them as `tauri://localhost/…` (and as
/// `http(s)://tauri.localhost/…` where the webview cannot take a custom
/// scheme).
pub fn is_own_page(url: &url::Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost") && url.port().is_none(),
        _ => false,
    }
}

/// "Trust this certificate": pin the fingerprint the state offered for the
/// configured server, save, and have the tray process connect with it.
pub async fn trust_certificate(
    fingerprint: &str,
    subscription: Option<&str>,
) -> Result<(), CommandError> {
    let Some(pin) = crate::protocol::sse::trust::Fingerprint::parse(fingerprint) else {
        return Err(CommandError {
            field: Some("certificate_pin".into()),
            message: format!("{fingerprint:?} is not a SHA-256 fingerprint"),
        });
    };
    let path = Paths::from_environment().config_file;
    let (settings, _) = crate::core::secrets::load(&path).await?;
    // The first subscription's by its top-level key, another's by name.
    let key = match subscription {
        Some(name)
            if settings
                .subscriptions
                .first()
                .is_some_and(|first| first.name != name) =>
        {
            format!("subscriptions.{name}.certificate_pin")
        }
        _ => "certificate_pin".to_string(),
    };
    let settings = settings.set(&key, &pin.to_string())?;
    crate::core::secrets::save(&settings, &path).await?;
    forward(Request::SettingsChanged).await
}

/// What "Test connection" found.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionTest {
    /// An event stream answered.
    pub ok: bool,
    /// What was seen, in words.
    pub message: String,
}

/// How long "Test connection" waits for the stream's first answer before
/// it asks the server something else.
const TEST_WAIT: Duration = Duration::from_secs(4);

/// Connect with what the form holds (URL, channel, headers, CA file,
/// pinned certificate), exactly as the app would, and say what was seen.
pub async fn test_connection(form: Value) -> ConnectionTest {
    let failed = |message: String| ConnectionTest { ok: false, message };
    let mut subscription: Subscription = match serde_json::from_value(form) {
        Ok(subscription) => subscription,
        Err(error) => {
            return failed(format!(
                "The subscription is not in the expected shape: {error}"
            ))
        }
    };
    // A row being added may have no name yet; that is no reason not to try.
    if subscription.name.trim().is_empty() {
        subscription.name = subscription.default_name();
    }
    if let Err(error) = subscription.check() {
        return failed(error.to_string());
    }
    let max_event_bytes = Settings::default().max_event_bytes;
    let Some(config) = subscription.client_config(max_event_bytes) else {
        return failed("No server URL to test: enter the address of your event stream.".into());
    };
    let http = match crate::protocol::sse::client::http_client(&config) {
        Ok(http) => http,
        Err(error) => return failed(error.to_string()),
    };
    let open = Connection::open(&http, &config.url, &config.headers, "");
    let connecting = config.connect_timeout;
    match tokio::time::timeout(connecting + TEST_WAIT, open).await {
        Ok(Ok(_)) => ConnectionTest {
            ok: true,
            message: "Connected: an event stream.".into(),
        },
        Ok(Err(OpenError::ServerAskedToStop)) => {
            failed("HTTP 204: the server asks clients not to connect.".into())
        }
        Ok(Err(error)) => failed(error.reason()),
        // The connection was made (connecting is bounded by its own
        // timeout) but the stream has answered nothing. Flask-SSE sends
        // not even its headers before the first publish; a server that
        // answers nothing at all looks the same, so ask it for its front
        // page: an HTTP server answers that at once.
        Err(_) => {
            let mut front = config.url.clone();
            front.set_path("/");
            front.set_query(None);
            let answer = http.get(front).headers(config.headers.clone()).send();
            match tokio::time::timeout(TEST_WAIT, answer).await {
                Ok(Ok(_)) => ConnectionTest {
                    ok: true,
                    message: "Connected: an event stream (no event yet; Flask-SSE sends nothing until the first publish).".into(),
                },
                _ => failed(format!(
                    "No answer: the server took the connection but has sent nothing in {} s.",
                    TEST_WAIT.as_secs() * 2
                )),
            }
        }
    }
}

/// More stored events than this within a second is a flood: they reach
/// the page as "lagged", and it reads the history afresh once the flood has
/// calmed, instead of drawing every row (which would keep WebKit busy, on a
/// machine the flood already keeps busy).
pub const FLOOD_PER_SECOND: usize = 100;

/// Lets live events through to the page, turning a flood of stored ones
/// into "lagged".
#[derive(Debug, Default)]
pub struct FloodGate {
    /// When the latest stored events passed (at most one more than a
    /// flood's worth is kept).
    recent: std::collections::VecDeque<std::time::Instant>,
}

impl FloodGate {
    /// What of `events` (live events as the tray process sent them, taken
    /// at `now`) goes to the page.
    pub fn pass(
        &mut self,
        events: Vec<ipc::WindowEvent>,
        now: std::time::Instant,
    ) -> Vec<ipc::WindowEvent> {
        let is_stored = |event: &ipc::WindowEvent| matches!(event, ipc::WindowEvent::Stored(_));
        let stored = events.iter().filter(|event| is_stored(event)).count();
        for _ in 0..stored.min(FLOOD_PER_SECOND + 1) {
            self.recent.push_back(now);
        }
        while self.recent.len() > FLOOD_PER_SECOND + 1
            || self
                .recent
                .front()
                .is_some_and(|at| now.duration_since(*at) > Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if stored == 0 || self.recent.len() <= FLOOD_PER_SECOND {
            return events;
        }
        let mut batch: Vec<ipc::WindowEvent> = events
            .into_iter()
            .filter(|event| !is_stored(event))
            .collect();
        batch.push(ipc::WindowEvent::Lagged(
            u64::try_from(stored).unwrap_or(u64::MAX),
        ));
        batch
    }
}

/// Where and how large the window was when it last closed, to open it
/// there again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl Geometry {
    /// The file is on disk and may have been edited: only a size the
    /// window can take, at a position some screen can have.
    fn sane(self) -> Option<Geometry> {
        let size_ok = (MIN_WIDTH..=16_384).contains(&self.width)
            && (MIN_HEIGHT..=16_384).contains(&self.height);
        let place_ok = (-16_384..=32_768).contains(&self.x) && (-16_384..=32_768).contains(&self.y);
        (size_ok && place_ok).then_some(self)
    }
}

/// The window's smallest size, in logical pixels.
pub const MIN_WIDTH: u32 = 420;
pub const MIN_HEIGHT: u32 = 360;

fn geometry_file() -> std::path::PathBuf {
    Paths::from_environment()
        .database
        .with_file_name("window.json")
}

/// The window's last geometry, if it was saved and makes sense.
pub fn load_geometry() -> Option<Geometry> {
    let text = crate::core::private_files::read_checked(&geometry_file(), 64 * 1024).ok()??;
    serde_json::from_slice::<Geometry>(&text).ok()?.sane()
}

/// Keep the window's geometry for next time (a failure only costs that).
pub fn save_geometry(geometry: Geometry) {
    let Some(geometry) = geometry.sane() else {
        return;
    };
    let path = geometry_file();
    let written = path
        .parent()
        .map_or(Ok(()), crate::core::private_files::private_folder)
        .and_then(|()| {
            crate::core::private_files::write_private(
                &path,
                &serde_json::to_vec(&geometry).unwrap_or_default(),
            )
        });
    if let Err(error) = written {
        tracing::debug!("the window's size was not kept: {error}");
    }
}

/// Start the tray process ("Start SSE Tray" when it is not running): the
/// `ssetray` beside this binary, in the tray only, and wait until its
/// socket answers.
pub async fn start_tray() -> Result<(), CommandError> {
    if ipc::Client::connect(&ipc::socket_path()).await.is_ok() {
        return Ok(());
    }
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|folder| folder.join("ssetray")))
        .filter(|binary| binary.exists())
        .unwrap_or_else(|| "ssetray".into());
    std::process::Command::new(&binary)
        .arg("--hidden")
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|error| {
            CommandError::message(format!(
                "SSE Tray could not be started ({}: {error}). Start it from the app menu or with `ssetray`.",
                binary.display()
            ))
        })?;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ipc::Client::connect(&ipc::socket_path()).await.is_ok() {
            return Ok(());
        }
    }
    Err(CommandError::message(
        "SSE Tray was started but does not answer yet. Run `ssetray` in a terminal to see why.",
    ))
}

/// Open entry `id`'s link (found by [`Reader::link_of`], never a URL the
/// page names) in the browser and mark the entry read.
pub async fn open_entry_link(id: i64, link: Option<(String, String)>) -> Result<(), CommandError> {
    let Some((link, server)) = link else {
        return Err(CommandError::message("this entry has no web link to open"));
    };
    let source = crate::desktop::notifier::Source {
        server: server.clone(),
        name: String::new(),
        web_app_url: url::Url::parse(&server)
            .ok()
            .map(|url| crate::protocol::url_policy::web_app_of(&url)),
        notifications: true,
    };
    let click = crate::desktop::notifier::Click::OpenUrl {
        url: link,
        entry_id: Some(id),
    };
    let Some(crate::desktop::notifier::Click::OpenUrl { url: link, .. }) =
        crate::desktop::notifier::away_from_home(Some(click), &source).await
    else {
        return Err(CommandError::message(
            "this entry's link leads into your own network, so it is not opened",
        ));
    };
    open_in_browser(&link).map_err(CommandError::message)?;
    let _ = forward(Request::MarkRead { id }).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_stays_on_the_apps_own_pages() {
        let page = |text: &str| url::Url::parse(text).unwrap();
        assert!(is_own_page(&page("tauri://localhost/index.html#status")));
        assert!(is_own_page(&page("http://tauri.localhost/index.html")));
        for elsewhere in [
            "https://example.com/",
            "http://localhost:8080/",
            "tauri://evil.example/",
            "http://tauri.localhost.evil.example/",
            "http://tauri.localhost:8080/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
        ] {
            assert!(!is_own_page(&page(elsewhere)), "{elsewhere}");
        }
    }

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    #[test]
    fn a_flood_reaches_the_page_as_lagged_and_single_events_as_they_are() {
        let stored = |n: usize| -> Vec<ipc::WindowEvent> {
            (0..n)
                .map(|id| {
                    let view: EntryView = serde_json::from_value(serde_json::json!({
                        "id": id, "subscription": null, "event_type": "message",
                        "kind": "message", "received_at_ms": 0, "read": false,
                        "unread_weight": 1, "title": null, "text": "hello",
                        "link": null, "link_host": null
                    }))
                    .unwrap();
                    ipc::WindowEvent::Stored(Box::new(view))
                })
                .collect()
        };
        let start = std::time::Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut gate = FloodGate::default();
        // A trickle passes whole, one event at a time for a second.
        for ms in 0..50 {
            assert_eq!(gate.pass(stored(1), at(ms * 20)).len(), 1);
        }
        // 400 a second in small batches (never a big one): lagged.
        let mut lagged = 0;
        for ms in 0..40 {
            let passed = gate.pass(stored(10), at(2000 + ms * 25));
            if passed == [ipc::WindowEvent::Lagged(10)] {
                lagged += 1;
            }
        }
        assert!(lagged >= 30, "{lagged} of 40 batches");
        // Other events pass beside it, and after a calm second events pass again.
        let mut mixed = stored(50);
        mixed.push(ipc::WindowEvent::LoginChanged(None));
        let passed = gate.pass(mixed, at(3000));
        assert_eq!(passed.len(), 2);
        assert_eq!(gate.pass(stored(1), at(4500)).len(), 1);
    }

    fn stored(step: Login, updated_at_ms: i64, image_png: Option<Vec<u8>>) -> Option<LoginState> {
        Some(LoginState {
            step,
            updated_at_ms,
            image_png,
        })
    }

    #[test]
    fn login_view_shows_the_stored_png_and_the_expiry() {
        // The view passes the stored PNG on as it is: its signature will do.
        let png = b"\x89PNG\r\n\x1a\n".to_vec();
        let scan = || Login::ScanQrCode {
            uuid: "u".into(),
            qr_png_base64: String::new(),
        };
        let fresh = login_view(stored(scan(), now_ms(), Some(png.clone())), FIVE_MINUTES);
        assert_eq!(fresh.step, "scan_qr_code");
        assert!(fresh
            .qr_data_url
            .as_deref()
            .is_some_and(|url| url.starts_with("data:image/png;base64,")));
        assert!(!fresh.expired);
        let old = login_view(
            stored(scan(), now_ms() - 6 * 60 * 1000, Some(png)),
            FIVE_MINUTES,
        );
        assert!(old.expired);
        // Not fetched yet, or not a PNG on disk: no image.
        let waiting = login_view(stored(scan(), now_ms(), None), FIVE_MINUTES);
        assert_eq!(waiting.qr_data_url, None);
        let tampered = login_view(
            stored(scan(), now_ms(), Some(b"<svg onload=alert(1)>".to_vec())),
            FIVE_MINUTES,
        );
        assert_eq!(tampered.qr_data_url, None);
    }
}

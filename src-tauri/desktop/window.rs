//! What the window's commands do, without Tauri.
//!
//! The window process's Tauri layer (`window_main.rs`) only registers these
//! as commands. Reads go to the store through a read-only connection; every
//! change goes to the tray process over the local socket, since that process
//! is the store's only writer. Everything handed to the page is checked here:
//! images only as `data:` URLs of real PNG/JPEG/GIF/WebP bytes, links only
//! http(s), text as text.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::now_ms;
use crate::feed::{self, AppEvent, Login};
use crate::ipc::{self, Reply, Request};
use crate::notifier::open_in_browser;
use crate::settings::{Paths, Settings, SettingsError};
use crate::sse::connection::{Connection, OpenError};
use crate::sse::{ClientConfig, SseEvent};
use crate::store::{HistoryEntry, HistoryQuery, Store};
use crate::url_policy::safe_link;

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
}

/// A history row with what to show, derived from its data.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    #[serde(flatten)]
    pub entry: HistoryEntry,
    pub title: Option<String>,
    pub text: String,
    /// Only ever an http(s) link.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub entries: Vec<HistoryRow>,
    pub unread: u64,
    pub types: Vec<String>,
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
        };
        if let Err(error) = self.history(&newest) {
            tracing::debug!("the store could not be read ahead: {}", error.message);
        }
    }

    /// The link of entry `id`, as its row shows it (derived here, http(s)
    /// only, no user info); `None` when it has none.
    pub fn link_of(&mut self, id: i64) -> Result<Option<String>, CommandError> {
        let Some(store) = self.store()? else {
            return Ok(None);
        };
        let entry = store.entry(id).map_err(CommandError::message)?;
        Ok(entry.and_then(|entry| row(entry).url))
    }

    pub fn history(&mut self, args: &HistoryQueryArgs) -> Result<HistoryPage, CommandError> {
        let Some(store) = self.store()? else {
            return Ok(HistoryPage {
                entries: Vec::new(),
                unread: 0,
                types: Vec::new(),
            });
        };
        let query = HistoryQuery {
            unread_only: args.unread_only,
            event_type: args.event_type.clone().filter(|t| !t.is_empty()),
            before_id: args.before_id,
            search: args.search.clone().filter(|s| !s.trim().is_empty()),
            limit: args.limit.clamp(1, 1000),
        };
        let entries = store.history(&query).map_err(CommandError::message)?;
        Ok(HistoryPage {
            entries: entries.into_iter().map(row).collect(),
            unread: store.unread_count().map_err(CommandError::message)?,
            types: store.event_types().map_err(CommandError::message)?,
        })
    }

    pub fn login_state(
        &mut self,
        server: Option<&str>,
    ) -> Result<Option<(Login, i64)>, CommandError> {
        let Some(store) = self.store()? else {
            return Ok(None);
        };
        let server = match server {
            Some(server) => server.to_string(),
            None => match Settings::load(&Paths::from_environment().config_file)
                .ok()
                .and_then(|settings| settings.server_key())
            {
                Some(server) => server,
                None => return Ok(None),
            },
        };
        store.login_state(&server).map_err(CommandError::message)
    }
}

/// What a history row shows, from the same interpretation as everywhere.
pub fn row(entry: HistoryEntry) -> HistoryRow {
    let event = feed::interpret(&SseEvent {
        event_type: entry.event_type.as_str().into(),
        data: entry.data.clone(),
        last_event_id: "".into(),
        has_own_id: false,
    });
    let (title, text, url) = match event {
        AppEvent::Message(message) => (
            message.title,
            message.text,
            message.url.as_deref().and_then(safe_link),
        ),
        AppEvent::Notification { count } => (
            None,
            if count == 1 {
                "1 new message".to_string()
            } else {
                format!("{count} new messages")
            },
            None,
        ),
        AppEvent::Login(login) => (
            None,
            match login {
                Login::ScanQrCode { .. } => "Login QR code ready".to_string(),
                Login::ConfirmLogin { .. } => "QR code scanned: confirm on the phone".to_string(),
                Login::LoggedIn { user, .. } => {
                    format!(
                        "Logged in as {}",
                        user.name.as_deref().unwrap_or("unknown user")
                    )
                }
                Login::LoggedOut { .. } => "Logged out".to_string(),
            },
            None,
        ),
        AppEvent::ServerClosed => (None, "The server closed the stream".to_string(), None),
    };
    HistoryRow {
        entry,
        title,
        text,
        url,
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
    pub step: String,
    pub qr_data_url: Option<String>,
    pub image_data_url: Option<String>,
    pub user_name: Option<String>,
    pub avatar_data_url: Option<String>,
    pub updated_at_ms: Option<i64>,
    pub expired: bool,
}

/// Largest image the window accepts from the server, inline or fetched.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// The login view for the newest stored step; a QR code older than
/// `qr_expiry` shows as expired.
pub async fn login_view(stored: Option<(Login, i64)>, qr_expiry: Duration) -> LoginView {
    let Some((login, updated_at)) = stored else {
        return LoginView {
            step: "none".into(),
            ..Default::default()
        };
    };
    let mut view = LoginView {
        updated_at_ms: Some(updated_at),
        ..Default::default()
    };
    match login {
        Login::ScanQrCode { qr_png_base64, .. } => {
            view.step = "scan_qr_code".into();
            view.qr_data_url = base64::engine::general_purpose::STANDARD
                .decode(qr_png_base64.trim())
                .ok()
                .and_then(|bytes| {
                    image_data_url(&bytes).filter(|url| url.starts_with("data:image/png"))
                });
            view.expired = now_ms().saturating_sub(updated_at) > qr_expiry.as_millis() as i64;
        }
        Login::ConfirmLogin { image, .. } => {
            view.step = "confirm_login".into();
            view.image_data_url = image_from_server(&image).await;
        }
        Login::LoggedIn { user, .. } => {
            view.step = "logged_in".into();
            view.user_name = user.name.clone();
            if let Some(avatar) = &user.avatar {
                view.avatar_data_url = image_from_server(avatar).await;
            }
        }
        Login::LoggedOut { .. } => view.step = "logged_out".into(),
    }
    view
}

/// A `data:` URL for image bytes, only when they are a PNG, JPEG, GIF or
/// WebP (by signature, and for PNG by decoding its header).
pub fn image_data_url(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return None;
    }
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .ok()?;
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    };
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// An image the server referred to: a `data:` URL (re-checked) or an
/// http(s) URL fetched here, bounded in size and type, so that the webview
/// itself loads nothing remote.
pub async fn image_from_server(reference: &str) -> Option<String> {
    let reference = reference.trim();
    if let Some(rest) = reference.strip_prefix("data:") {
        let (_, payload) = rest.split_once(";base64,")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()?;
        return image_data_url(&bytes);
    }
    let url = safe_link(reference)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .ok()?;
    let mut response = client.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_IMAGE_BYTES {
            return None;
        }
    }
    image_data_url(&bytes)
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
    let (settings, problem) = crate::secrets::load(&Paths::from_environment().config_file).await?;
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    serde_json::to_value(settings).map_err(CommandError::message)
}

/// Validate and save the settings the page sends (header values to the
/// Secret Service where one runs), then tell the tray process to apply
/// them. Nothing invalid is written.
pub async fn save_settings(value: Value) -> Result<(), CommandError> {
    let mut settings: Settings = serde_json::from_value(value).map_err(|error| CommandError {
        field: None,
        message: format!("the settings are not in the expected shape: {error}"),
    })?;
    let path = Paths::from_environment().config_file;
    // A pin is for one server: moved to another, it is trusted anew (unless
    // the page set a new pin with it).
    if let Ok(before) = Settings::load(&path) {
        if before.stream_origin() != settings.stream_origin()
            && before.certificate_pin == settings.certificate_pin
        {
            settings.certificate_pin = None;
        }
    }
    crate::secrets::save(&settings, &path).await?;
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
pub async fn trust_certificate(fingerprint: &str) -> Result<(), CommandError> {
    let Some(pin) = crate::sse::trust::Fingerprint::parse(fingerprint) else {
        return Err(CommandError {
            field: Some("certificate_pin".into()),
            message: format!("{fingerprint:?} is not a SHA-256 fingerprint"),
        });
    };
    let path = Paths::from_environment().config_file;
    let (settings, _) = crate::secrets::load(&path).await?;
    let settings = settings.set("certificate_pin", &pin.to_string())?;
    crate::secrets::save(&settings, &path).await?;
    forward(Request::SettingsChanged).await
}

/// What "Test connection" found.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
}

/// Try a URL the way the client would, and say what was found.
pub async fn test_connection(text: &str) -> ConnectionTest {
    let url = match crate::settings::check_http_url("server_url", text) {
        Ok(url) => url,
        Err(error) => {
            return ConnectionTest {
                ok: false,
                message: error.to_string(),
            }
        }
    };
    let config = ClientConfig::new(url.clone());
    let http = match crate::sse::client::http_client(&config) {
        Ok(http) => http,
        Err(error) => {
            return ConnectionTest {
                ok: false,
                message: error.to_string(),
            }
        }
    };
    let open = Connection::open(&http, &url, &config.headers, "");
    match tokio::time::timeout(config.connect_timeout + Duration::from_secs(1), open).await {
        Ok(Ok(_)) => ConnectionTest {
            ok: true,
            message: "Connected: the server answers with an event stream.".into(),
        },
        Ok(Err(OpenError::ServerAskedToStop)) => ConnectionTest {
            ok: false,
            message: "The server answered 204: it asks clients to stop.".into(),
        },
        Ok(Err(error)) => ConnectionTest {
            ok: false,
            message: error.reason(),
        },
        // Connecting is bounded by the connect timeout, so a request still
        // waiting has a live connection to a server that says nothing yet.
        Err(_) => ConnectionTest {
            ok: true,
            message: "Connected: the server has sent nothing yet (Flask-SSE sends its headers with the first event).".into(),
        },
    }
}

/// Open entry `id`'s link (found by [`Reader::link_of`], never a URL the
/// page names) in the browser and mark the entry read.
pub async fn open_entry_link(id: i64, link: Option<String>) -> Result<(), CommandError> {
    let Some(link) = link else {
        return Err(CommandError::message("this entry has no web link to open"));
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

    #[test]
    fn only_real_images_become_data_urls() {
        let png = crate::demo::qr_png("x");
        assert!(image_data_url(&png)
            .unwrap()
            .starts_with("data:image/png;base64,"));
        assert_eq!(image_data_url(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_data_url(b"\x89PNG\r\n\x1a\nnot really"), None);
        assert_eq!(image_data_url(&vec![0xFF; MAX_IMAGE_BYTES + 1]), None);
    }

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    #[tokio::test]
    async fn login_view_checks_the_qr_code_and_expiry() {
        let png = base64::engine::general_purpose::STANDARD.encode(crate::demo::qr_png("x"));
        let fresh = login_view(
            Some((
                Login::ScanQrCode {
                    uuid: "u".into(),
                    qr_png_base64: png.clone(),
                },
                now_ms(),
            )),
            FIVE_MINUTES,
        )
        .await;
        assert_eq!(fresh.step, "scan_qr_code");
        assert!(fresh.qr_data_url.is_some());
        assert!(!fresh.expired);
        let old = login_view(
            Some((
                Login::ScanQrCode {
                    uuid: "u".into(),
                    qr_png_base64: png,
                },
                now_ms() - 6 * 60 * 1000,
            )),
            FIVE_MINUTES,
        )
        .await;
        assert!(old.expired);
        let fake = login_view(
            Some((
                Login::ScanQrCode {
                    uuid: "u".into(),
                    qr_png_base64: base64::engine::general_purpose::STANDARD.encode("<script>"),
                },
                now_ms(),
            )),
            FIVE_MINUTES,
        )
        .await;
        assert_eq!(fake.qr_data_url, None);
        let confirm = login_view(
            Some((
                Login::ConfirmLogin {
                    uuid: "u".into(),
                    image: "javascript:alert(1)".into(),
                },
                now_ms(),
            )),
            FIVE_MINUTES,
        )
        .await;
        assert_eq!(confirm.image_data_url, None);
    }

    #[test]
    fn rows_show_text_and_only_http_links() {
        let entry = |event_type: &str, data: &str| HistoryEntry {
            id: 1,
            server: "s".into(),
            event_type: event_type.into(),
            event_id: None,
            data: data.into(),
            kind: "message".into(),
            unread_weight: 1,
            received_at_ms: 0,
            read: false,
        };
        let hostile = row(entry(
            "message",
            r#"{"title": "<b>t</b>", "body": "<img src=x onerror=alert(1)>", "url": "javascript:alert(1)"}"#,
        ));
        assert_eq!(hostile.title.as_deref(), Some("<b>t</b>"));
        assert_eq!(hostile.text, "<img src=x onerror=alert(1)>");
        assert_eq!(hostile.url, None);
        let link = row(entry(
            "message",
            r#"{"body": "b", "link": "https://example.com/x"}"#,
        ));
        assert_eq!(link.url.as_deref(), Some("https://example.com/x"));
        assert_eq!(
            row(entry("notification", r#"{"count": 2}"#)).text,
            "2 new messages"
        );
    }
}

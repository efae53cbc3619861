//! The user's settings: a TOML file in the XDG config folder.
//!
//! TOML because people edit it by hand; validated on load and on save so that
//! a bad value never reaches the connection, and every error names the field
//! and says how to fix it. `ssetray config get|set|path` edits it from a
//! shell, the settings view from the window, both through [`Settings::set`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::store::Retention;

mod file;

/// What to do with events of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeRule {
    /// Store, count and show a notification.
    Notify,
    /// Store and count, but show nothing.
    StoreOnly,
    /// Drop it.
    Ignore,
}

/// A daily span without notifications, in local time ("22:00" to "07:00"
/// runs over midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub from: String,
    pub to: String,
}

impl QuietHours {
    /// Minutes after midnight of `from` and `to`, when both are valid.
    pub fn minutes(&self) -> Option<(u32, u32)> {
        Some((minute_of_day(&self.from)?, minute_of_day(&self.to)?))
    }
}

fn minute_of_day(text: &str) -> Option<u32> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// One stream the user follows: a server (and Flask-SSE channel) with its
/// own headers, trust, rules, web app and notification switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Subscription {
    /// Unique, what the user sees; defaults to the host (and channel).
    pub name: String,
    /// The event stream URL, e.g. `https://example.com/stream`.
    pub server_url: Option<String>,
    /// Flask-SSE channel, sent as `?channel=`; empty for the default.
    pub channel: String,
    /// Extra request headers, e.g. `Authorization = "Bearer ..."`.
    pub headers: BTreeMap<String, String>,
    /// Headers whose values the desktop's Secret Service keeps (see
    /// `secrets`): only their names are in the file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secret_headers: Vec<String>,
    /// A PEM file of extra CA certificates (a company CA), added to the
    /// system's.
    pub extra_ca_file: Option<PathBuf>,
    /// The SHA-256 fingerprint of the one certificate trusted for this
    /// server, in place of the CAs (trust on first use, for a self-signed
    /// server); cleared when the server changes.
    pub certificate_pin: Option<String>,
    /// What a notification click opens; default: the server's origin.
    pub web_app_url: Option<String>,
    /// Per event type: notify, store_only or ignore. Types not listed notify.
    pub rules: BTreeMap<String, TypeRule>,
    /// Show OS notifications for this subscription.
    pub notifications: bool,
}

impl Default for Subscription {
    fn default() -> Self {
        Subscription {
            name: String::new(),
            server_url: None,
            channel: String::new(),
            headers: BTreeMap::new(),
            secret_headers: Vec::new(),
            extra_ca_file: None,
            certificate_pin: None,
            web_app_url: None,
            rules: BTreeMap::new(),
            notifications: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The streams followed, in the user's order; none: the built-in demo.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
    /// Show OS notifications at all (each subscription has its own switch
    /// beside this one).
    pub notifications: bool,
    /// No notifications in this daily span (events are still stored).
    pub quiet_hours: Option<QuietHours>,
    /// A login QR code older than this shows as expired.
    pub qr_expiry_minutes: u32,
    pub start_hidden: bool,
    pub autostart: bool,
    /// The largest event kept, in bytes of text: its data, its type and its
    /// id together (the field names not counted). A larger one is dropped
    /// with a warning and the stream goes on; a line may be as long as this
    /// plus its field name.
    pub max_event_bytes: usize,
    pub history: Retention,
    // A file's top level may also hold the keys of one stream, as a file of
    // one server did before subscriptions: `file` reads them beside these,
    // as the first subscription (see `adopt_single_server`).
}

/// Bounds of `max_event_bytes`: 1 KiB to 16 MiB.
const MAX_EVENT_BYTES_RANGE: std::ops::RangeInclusive<usize> = 1024..=16 * 1024 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            subscriptions: Vec::new(),
            notifications: true,
            quiet_hours: None,
            qr_expiry_minutes: 5,
            start_hidden: false,
            autostart: false,
            max_event_bytes: crate::protocol::sse::parser::DEFAULT_LIMIT_BYTES,
            history: Retention::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings: `{field}` {problem}. {fix}")]
    Invalid {
        field: String,
        problem: String,
        fix: String,
    },
    #[error("the settings file {path} is not valid TOML: {message}. Fix the file, or move it away to start from the defaults.")]
    Syntax { path: PathBuf, message: String },
    #[error("cannot read or write the settings file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn invalid(field: &str, problem: impl Into<String>, fix: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        field: field.to_string(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// Check a URL the app will connect to or open: http or https with a host.
pub fn check_http_url(field: &str, text: &str) -> Result<url::Url, SettingsError> {
    crate::protocol::url_policy::http_url(text).map_err(|refused| {
        invalid(
            field,
            format!("= {text:?} is refused: {refused}"),
            format!(
                "Set it to a full address such as `ssetray config set {field} https://example.com/stream`."
            ),
        )
    })
}

impl Subscription {
    /// A subscription to `server_url` named by default.
    pub fn new(server_url: &str, channel: &str) -> Subscription {
        let mut subscription = Subscription {
            server_url: Some(server_url.to_string()),
            channel: channel.to_string(),
            ..Subscription::default()
        };
        subscription.name = subscription.default_name();
        subscription
    }

    /// The host (and port), plus "/channel" when there is one: what a
    /// subscription is called unless the user names it.
    pub fn default_name(&self) -> String {
        let host = self
            .server_url
            .as_deref()
            .and_then(|url| url::Url::parse(url).ok())
            .and_then(|url| {
                url.host_str().map(|host| match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                })
            })
            .unwrap_or_else(|| "server".to_string());
        if self.channel.is_empty() {
            host
        } else {
            format!("{host}/{}", self.channel)
        }
    }

    /// Check every field, naming each by its key.
    pub fn check(&self) -> Result<(), SettingsError> {
        self.validate(str::to_string)
    }

    /// Check every field; `field` names them as errors should (`server_url`
    /// for the first subscription, `subscriptions.N.server_url` else).
    fn validate(&self, field: impl Fn(&str) -> String) -> Result<(), SettingsError> {
        if self.name.trim().is_empty()
            || self.name.len() > 100
            || self.name.chars().any(char::is_control)
        {
            return Err(invalid(
                &field("name"),
                format!("= {:?} is not a name", self.name),
                "Give each subscription a short name of its own, such as `work`.",
            ));
        }
        if let Some(url) = &self.server_url {
            check_http_url(&field("server_url"), url)?;
        }
        if let Some(url) = &self.web_app_url {
            check_http_url(&field("web_app_url"), url)?;
        }
        if self.channel.len() > 200 || self.channel.chars().any(char::is_control) {
            return Err(invalid(
                &field("channel"),
                "is too long or holds control characters",
                "Use a plain channel name such as `sse`, or an empty one for the default.",
            ));
        }
        if let Some(pin) = &self.certificate_pin {
            if crate::protocol::sse::trust::Fingerprint::parse(pin).is_none() {
                return Err(invalid(
                    &field("certificate_pin"),
                    format!("= {pin:?} is not a SHA-256 fingerprint"),
                    "Give the 64 hex digits the state shows (colons allowed), or an empty value to trust the CAs again.",
                ));
            }
        }
        for name in &self.secret_headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                invalid(
                    &field("secret_headers"),
                    format!("names {name:?}, which is not a valid HTTP header name"),
                    "Remove it from `secret_headers`; set the header again with `ssetray config set headers.NAME VALUE`.",
                )
            })?;
        }
        for (name, value) in &self.headers {
            let header = field(&format!("headers.{name}"));
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                invalid(
                    &header,
                    "is not a valid HTTP header name",
                    "Use letters, digits and dashes, such as `Authorization`.",
                )
            })?;
            reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                invalid(
                    &header,
                    "has a value with characters a header cannot carry",
                    "Use printable text on one line.",
                )
            })?;
        }
        if let Some(path) = &self.extra_ca_file {
            if !path.is_file() {
                return Err(invalid(
                    &field("extra_ca_file"),
                    format!("= {} is not a readable file", path.display()),
                    "Point it at a PEM file of CA certificates, or remove the setting.",
                ));
            }
        }
        Ok(())
    }

    /// The URL to connect to: the server URL with the channel added.
    pub fn stream_url(&self) -> Option<url::Url> {
        let mut url = check_http_url("server_url", self.server_url.as_deref()?).ok()?;
        if !self.channel.is_empty() {
            url.query_pairs_mut().append_pair("channel", &self.channel);
        }
        Some(url)
    }

    /// What to do with an event type.
    pub fn rule_for(&self, event_type: &str) -> TypeRule {
        self.rules
            .get(event_type)
            .copied()
            .unwrap_or(TypeRule::Notify)
    }

    /// The stream as the history keys it and the status shows it: its URL
    /// without the secrets it may carry (see `url_policy::redacted`).
    pub fn server_key(&self) -> Option<String> {
        self.stream_url()
            .map(|url| crate::protocol::url_policy::redacted(&url))
    }

    /// The origin of the stream, which a certificate pin belongs to.
    pub fn stream_origin(&self) -> Option<url::Origin> {
        self.stream_url().map(|url| url.origin())
    }

    /// The pinned certificate, if one is set and valid.
    pub fn pinned_certificate(&self) -> Option<crate::protocol::sse::trust::Fingerprint> {
        self.certificate_pin
            .as_deref()
            .and_then(crate::protocol::sse::trust::Fingerprint::parse)
    }

    /// How the client connects to this stream: its URL (with the channel),
    /// headers, extra CA, pinned certificate and size limits. The one place
    /// that turns settings into a connection, for the engine and for "Test
    /// connection" alike.
    pub fn client_config(
        &self,
        max_event_bytes: usize,
    ) -> Option<crate::protocol::sse::ClientConfig> {
        let mut config = crate::protocol::sse::ClientConfig::new(self.stream_url()?);
        config.limits = crate::protocol::sse::Limits { max_event_bytes };
        config.extra_ca_file = self.extra_ca_file.clone();
        config.certificate_pin = self.pinned_certificate();
        for (name, value) in &self.headers {
            // Validated with the settings; a bad pair is skipped, not fatal.
            if let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                config.headers.insert(name, value);
            }
        }
        Some(config)
    }

    /// What, of this subscription, a connection depends on: a change here
    /// reconnects it, any other change (name, rules, web app) does not.
    pub fn connection_key(&self, max_event_bytes: usize) -> impl PartialEq {
        (
            self.stream_url(),
            self.headers.clone(),
            self.extra_ca_file.clone(),
            self.certificate_pin.clone(),
            max_event_bytes,
        )
    }
}

/// Where a dotted key points: the settings, or a subscription by index.
enum KeyPlace<'a> {
    Settings(&'a str),
    Subscription(usize, &'a str),
}

impl Settings {
    /// The subscriptions that have a server to follow.
    pub fn followed(&self) -> impl Iterator<Item = &Subscription> {
        self.subscriptions
            .iter()
            .filter(|subscription| subscription.stream_url().is_some())
    }

    /// Whether any subscription has a server (else the demo plays).
    pub fn has_server(&self) -> bool {
        self.followed().next().is_some()
    }

    /// The subscription called `name`.
    pub fn subscription(&self, name: &str) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|subscription| subscription.name == name)
    }

    /// The subscription whose stream the history keys as `server`.
    pub fn subscription_of_server(&self, server: &str) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|subscription| subscription.server_key().as_deref() == Some(server))
    }

    /// Each followed stream's server key and its subscription's name, to
    /// label many history rows at once.
    pub fn names_by_server(&self) -> std::collections::HashMap<String, String> {
        self.subscriptions
            .iter()
            .filter_map(|subscription| {
                Some((subscription.server_key()?, subscription.name.clone()))
            })
            .collect()
    }

    /// A name not taken yet: `wanted`, else `wanted-2`, `wanted-3`...
    pub fn free_name(&self, wanted: &str) -> String {
        let taken = |name: &str| self.subscription(name).is_some();
        if !taken(wanted) {
            return wanted.to_string();
        }
        (2..)
            .map(|n| format!("{wanted}-{n}"))
            .find(|name| !taken(name))
            .unwrap_or_default()
    }

    /// A copy with `subscription` added at the end (named by default when
    /// it has no name), validated: a name or a stream followed already is
    /// refused with what to do.
    pub fn with_subscription(
        &self,
        mut subscription: Subscription,
    ) -> Result<Settings, SettingsError> {
        if subscription.name.trim().is_empty() {
            subscription.name = self.free_name(&subscription.default_name());
        }
        if self.subscription(&subscription.name).is_some() {
            return Err(invalid(
                "name",
                format!(
                    "= {:?} is the name of a subscription already",
                    subscription.name
                ),
                "Choose another name with --name.",
            ));
        }
        let mut settings = self.clone();
        settings.subscriptions.push(subscription);
        settings.validate()?;
        Ok(settings)
    }

    /// A copy without the subscription called `name`, and that
    /// subscription.
    pub fn without_subscription(
        &self,
        name: &str,
    ) -> Result<(Settings, Subscription), SettingsError> {
        let index = self
            .subscriptions
            .iter()
            .position(|subscription| subscription.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.subscriptions.iter().map(|s| s.name.as_str()).collect();
                invalid(
                    "name",
                    format!("= {name:?} is no subscription"),
                    format!("The subscriptions are: {}.", known.join(", ")),
                )
            })?;
        let mut settings = self.clone();
        let removed = settings.subscriptions.remove(index);
        Ok((settings, removed))
    }

    /// The stream keys at the top level of a file of one server (before
    /// subscriptions), `single`, taken as its first subscription. Both
    /// forms in one file is a hand edit that cannot be read one way or the
    /// other, and is said so.
    fn adopt_single_server(&mut self, single: Subscription) -> Result<(), SettingsError> {
        if single == Subscription::default() {
            return Ok(());
        }
        if !self.subscriptions.is_empty() {
            return Err(invalid(
                "server_url",
                "stands beside [[subscriptions]]",
                "Move the top-level server_url, channel, headers, rules and the like into a [[subscriptions]] entry.",
            ));
        }
        let mut single = single;
        single.name = single.default_name();
        self.subscriptions.push(single);
        Ok(())
    }

    /// Check every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.validate_subscriptions()?;
        self.validate_quiet_hours()?;
        self.validate_ranges()
    }

    /// Each subscription's fields, in order, and that it shares its name
    /// and its stream with none before it.
    fn validate_subscriptions(&self) -> Result<(), SettingsError> {
        let mut names = std::collections::HashSet::new();
        let mut streams = std::collections::HashSet::new();
        for (index, subscription) in self.subscriptions.iter().enumerate() {
            let field = |key: &str| subscription_field(index, key);
            subscription.validate(field)?;
            if !names.insert(subscription.name.as_str()) {
                return Err(invalid(
                    &field("name"),
                    format!(
                        "= {:?} is the name of another subscription",
                        subscription.name
                    ),
                    "Give each subscription a name of its own.",
                ));
            }
            if let Some(stream) = subscription.stream_url() {
                if !streams.insert(stream.to_string()) {
                    return Err(invalid(
                        &field("server_url"),
                        format!("= {stream} is followed by another subscription already"),
                        "Follow each server and channel once; remove one of the two.",
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_quiet_hours(&self) -> Result<(), SettingsError> {
        if let Some(quiet) = &self.quiet_hours {
            match quiet.minutes() {
                None => {
                    return Err(invalid(
                        "quiet_hours",
                        format!("= {} to {} is not a pair of times", quiet.from, quiet.to),
                        "Give both times as HH:MM, e.g. 22:00 and 07:00, or remove quiet hours.",
                    ))
                }
                Some((from, to)) if from == to => {
                    return Err(invalid(
                        "quiet_hours",
                        format!("= {} to {} starts and ends at once", quiet.from, quiet.to),
                        "Give two different times, e.g. 22:00 and 07:00, or remove quiet hours.",
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The numbers within their bounds.
    fn validate_ranges(&self) -> Result<(), SettingsError> {
        if !(1..=1440).contains(&self.qr_expiry_minutes) {
            return Err(invalid(
                "qr_expiry_minutes",
                format!("= {} is out of range", self.qr_expiry_minutes),
                "Use between 1 and 1440 minutes (default 5).",
            ));
        }
        if self.history.keep_count == 0 || self.history.keep_count > 10_000_000 {
            return Err(invalid(
                "history.keep_count",
                format!("= {} is out of range", self.history.keep_count),
                "Keep between 1 and 10000000 entries (default 10000).",
            ));
        }
        if self.history.keep_days == 0 || self.history.keep_days > 36_500 {
            return Err(invalid(
                "history.keep_days",
                format!("= {} is out of range", self.history.keep_days),
                "Keep between 1 and 36500 days (default 30).",
            ));
        }
        if self.history.keep_megabytes == 0 || self.history.keep_megabytes > 1_000_000 {
            return Err(invalid(
                "history.keep_megabytes",
                format!("= {} is out of range", self.history.keep_megabytes),
                "Keep between 1 and 1000000 MB of event data (default 256).",
            ));
        }
        if !MAX_EVENT_BYTES_RANGE.contains(&self.max_event_bytes) {
            return Err(invalid(
                "max_event_bytes",
                format!("= {} is out of range", self.max_event_bytes),
                "Use between 1024 and 16777216 bytes (default 1048576, 1 MiB).",
            ));
        }
        Ok(())
    }

    /// What to do with an event type of the stream keyed `server`.
    pub fn rule_for(&self, server: &str, event_type: &str) -> TypeRule {
        self.subscription_of_server(server)
            .map_or(TypeRule::Notify, |subscription| {
                subscription.rule_for(event_type)
            })
    }

    /// Load from `path`; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let io = |source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(folder) = path.parent().filter(|folder| folder.exists()) {
            crate::core::private_files::check_folder(folder).map_err(io)?;
        }
        let Some(bytes) = crate::core::private_files::read_checked(
            path,
            crate::core::private_files::MAX_SETTINGS_BYTES,
        )
        .map_err(io)?
        else {
            return Ok(Settings::default());
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it is not UTF-8 text; fix the file, or move it away to start from the defaults",
            ))
        })?;
        Settings::from_toml(&text, path)
    }

    /// Settings from the text of a settings file at `path` (named in
    /// errors), validated. Any text gives settings or an error that names
    /// the line or the field, never a crash (a fuzz target checks it).
    pub fn from_toml(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let (mut settings, single) =
            file::read(|| toml::de::Deserializer::parse(text)).map_err(|error| {
                SettingsError::Syntax {
                    path: path.to_path_buf(),
                    message: error.message().to_string() + &line_of(text, error.span()),
                }
            })?;
        settings.adopt_single_server(single)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Settings the window sends (JSON), in the same shape as the file.
    pub fn from_json(value: serde_json::Value) -> Result<Settings, SettingsError> {
        let (mut settings, single) = file::read(|| Ok(&value)).map_err(|error| {
            invalid(
                "settings",
                format!("are not in the expected shape: {error}"),
                "Report this as a bug.",
            )
        })?;
        settings.adopt_single_server(single)?;
        Ok(settings)
    }

    /// Validate, then write atomically (a temporary file renamed over the old
    /// one), so a crash mid-save never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        self.validate()?;
        let io = |source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(folder) = path.parent() {
            crate::core::private_files::private_folder(folder).map_err(io)?;
        }
        let text = toml::to_string_pretty(self)
            .map_err(|error| io(std::io::Error::other(format!("cannot write TOML: {error}"))))?;
        let temporary = path.with_extension("toml.tmp");
        // The user's alone (it may hold tokens), on every save.
        crate::core::private_files::write_private(
            &temporary,
            format!(
                "# SSE Tray settings. Edit here or with `ssetray config set KEY VALUE`.\n{text}"
            )
            .as_bytes(),
        )
        .map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    /// Where `key` points: a stream key at the top level (`server_url`,
    /// `headers.X`) is the first subscription's; `subscriptions.NAME.KEY`
    /// names one; anything else is a setting of the app.
    fn place<'k>(&self, key: &'k str) -> Result<KeyPlace<'k>, SettingsError> {
        let first = key.split('.').next().unwrap_or_default();
        if file::stream_keys().contains(&first) {
            return Ok(KeyPlace::Subscription(0, key));
        }
        if let Some(rest) = key.strip_prefix("subscriptions.") {
            // Names may hold dots ("example.com"): the longest name that
            // matches wins.
            let found = self
                .subscriptions
                .iter()
                .enumerate()
                .filter_map(|(index, subscription)| {
                    let tail = rest.strip_prefix(subscription.name.as_str())?;
                    Some((index, tail.strip_prefix('.')?))
                })
                .max_by_key(|(index, _)| self.subscriptions[*index].name.len());
            return found
                .map(|(index, tail)| KeyPlace::Subscription(index, tail))
                .ok_or_else(|| unknown_key(key));
        }
        Ok(KeyPlace::Settings(key))
    }

    /// The value of a dotted key as TOML text (`server_url`, `history.keep_days`,
    /// `headers.Authorization`, `subscriptions.work.channel`).
    pub fn get(&self, key: &str) -> Result<String, SettingsError> {
        match self.place(key)? {
            KeyPlace::Settings(path) => get_in(self, path, key),
            KeyPlace::Subscription(index, path) => match self.subscriptions.get(index) {
                Some(subscription) => get_in(subscription, path, key),
                None => Err(unknown_key(key)),
            },
        }
    }

    /// A copy with one dotted key set, validated. The value is read as TOML
    /// when it parses as such (numbers, booleans), else as a string. A
    /// stream key at the top level sets the first subscription's, making
    /// one when there is none.
    pub fn set(&self, key: &str, value: &str) -> Result<Settings, SettingsError> {
        let mut settings = self.clone();
        match self.place(key)? {
            KeyPlace::Settings(path) => settings = set_in(self, path, value, key)?,
            KeyPlace::Subscription(index, path) => {
                if index == settings.subscriptions.len() {
                    settings.subscriptions.push(Subscription::default());
                }
                let before = settings.subscriptions[index].clone();
                let mut changed: Subscription = set_in(&before, path, value, key)?;
                if path == "server_url" && changed.stream_origin() != before.stream_origin() {
                    // A pin is for one server: another one is trusted anew.
                    changed.certificate_pin = None;
                }
                if changed.name.is_empty() || changed.name == before.default_name() {
                    changed.name = changed.default_name();
                }
                settings.subscriptions[index] = changed;
            }
        }
        settings.validate().map_err(|error| match self.place(key) {
            // Named as the user typed it (`subscriptions.work.server_url`).
            Ok(KeyPlace::Subscription(index, path)) => {
                rename_field(error, &subscription_field(index, path), key)
            }
            _ => error,
        })?;
        Ok(settings)
    }
}

/// How errors name a subscription's field: the first one's by its
/// top-level key, as `config set` takes it; the others' by their place.
fn subscription_field(index: usize, key: &str) -> String {
    if index == 0 {
        key.to_string()
    } else {
        format!("subscriptions.{index}.{key}")
    }
}

/// An error about `field` named `key` instead.
fn rename_field(error: SettingsError, field: &str, key: &str) -> SettingsError {
    match error {
        SettingsError::Invalid {
            field: named,
            problem,
            fix,
        } if named == field => SettingsError::Invalid {
            field: key.to_string(),
            problem,
            fix,
        },
        other => other,
    }
}

/// The value at a dotted `path` of `value`'s TOML form.
fn get_in<T: Serialize>(value: &T, path: &str, key: &str) -> Result<String, SettingsError> {
    let table = toml::Table::try_from(value).map_err(|error| {
        invalid(
            key,
            format!("cannot be read: {error}"),
            "Report this as a bug.",
        )
    })?;
    let mut value = toml::Value::Table(table);
    for part in path.split('.') {
        value = match value {
            toml::Value::Table(mut table) => table.remove(part).ok_or_else(|| unknown_key(key))?,
            _ => return Err(unknown_key(key)),
        };
    }
    Ok(match value {
        toml::Value::String(text) => text,
        other => other.to_string(),
    })
}

/// A copy of `value` with its dotted `path` set to `text` (read as TOML
/// when it parses as such, else as a string; an empty text clears an
/// optional address or path).
fn set_in<T>(value: &T, path: &str, text: &str, key: &str) -> Result<T, SettingsError>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    let mut table = toml::Table::try_from(value).map_err(|error| {
        invalid(
            key,
            format!("cannot be read: {error}"),
            "Report this as a bug.",
        )
    })?;
    let parsed = toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut wrapper| wrapper.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()));
    let parts: Vec<&str> = path.split('.').collect();
    let (last, parents) = parts.split_last().ok_or_else(|| unknown_key(key))?;
    let mut cursor = &mut table;
    for part in parents {
        cursor = cursor
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| unknown_key(key))?;
    }
    if text.is_empty()
        && matches!(
            *last,
            "server_url" | "web_app_url" | "extra_ca_file" | "certificate_pin"
        )
    {
        cursor.remove(*last);
    } else {
        // Free-form maps and names take strings whatever they look like.
        let value =
            if matches!(parents.first(), Some(&"headers")) || matches!(*last, "name" | "channel") {
                toml::Value::String(text.to_string())
            } else {
                parsed
            };
        cursor.insert(last.to_string(), value);
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(|error: toml::de::Error| {
            if error.message().contains("unknown field") {
                unknown_key(key)
            } else {
                invalid(
                    key,
                    format!("= {text:?}: {}", error.message()),
                    "Check the value's type (text, number, true/false).",
                )
            }
        })
}

fn unknown_key(key: &str) -> SettingsError {
    let stream: Vec<&str> = file::stream_keys()
        .iter()
        .filter_map(|key| known_as(key))
        .collect();
    let own: Vec<String> = file::subscription_only_keys()
        .iter()
        .map(|key| format!("subscriptions.NAME.{key}"))
        .collect();
    invalid(
        key,
        "is not a setting",
        format!(
            "Known settings: {} of the first subscription, the same as subscriptions.NAME.KEY of any (and {}), notifications, quiet_hours.from, quiet_hours.to, qr_expiry_minutes, start_hidden, autostart, max_event_bytes, history.keep_count, history.keep_days, history.keep_megabytes.",
            stream.join(", "),
            own.join(", ")
        ),
    )
}

/// How the list of known settings names a stream key. `secret_headers` is
/// left out: the app keeps it in step with the desktop's secret store, and
/// the user sets `headers.NAME`.
fn known_as(key: &str) -> Option<&str> {
    match key {
        "headers" => Some("headers.NAME"),
        "rules" => Some("rules.TYPE (notify, store_only, ignore)"),
        "secret_headers" => None,
        other => Some(other),
    }
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => format!(
            " (line {})",
            text[..span.start.min(text.len())].lines().count().max(1)
        ),
        None => String::new(),
    }
}

/// Where SSE Tray keeps its files: the XDG folders on Linux (tests and
/// portable setups move them with the XDG variables, which `dirs` honours),
/// the Known Folders on Windows.
pub struct Paths {
    pub config_file: PathBuf,
    pub database: PathBuf,
}

impl Paths {
    pub fn from_environment() -> Paths {
        let config = dirs::config_dir().unwrap_or_else(|| PathBuf::from("."));
        // The history is this machine's (Windows: %LOCALAPPDATA%, not
        // carried along with a roaming profile); the settings go with the
        // user (%APPDATA%). On Linux both are the XDG folders.
        let data = dirs::data_local_dir().unwrap_or_else(|| PathBuf::from("."));
        Paths {
            config_file: config.join("ssetray").join("settings.toml"),
            database: data.join("ssetray").join("history.db"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_makes_the_same_default_names() {
        // The Settings form names a new subscription as the user types
        // (defaultName in ui/subscriptions.js); its node test reads the
        // same cases, so the two cannot drift apart.
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/default-names.json");
        let cases: Vec<(String, String, String)> =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        assert!(cases.len() > 3);
        for (url, channel, name) in cases {
            assert_eq!(
                Subscription::new(&url, &channel).name,
                name,
                "{url} {channel}"
            );
        }
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());
        let settings = Settings::default()
            .set("server_url", "https://example.com/stream")
            .unwrap()
            .set("headers.Authorization", "Bearer 123")
            .unwrap()
            .set("history.keep_days", "7")
            .unwrap()
            .set("rules.message", "store_only")
            .unwrap();
        settings.save(&path).unwrap();
        let loaded = Settings::load(&path).unwrap();
        assert_eq!(loaded, settings);
        assert_eq!(loaded.get("history.keep_days").unwrap(), "7");
        assert_eq!(
            loaded.get("server_url").unwrap(),
            "https://example.com/stream"
        );
        let first = &loaded.subscriptions[0];
        assert_eq!(first.name, "example.com");
        assert_eq!(first.rule_for("message"), TypeRule::StoreOnly);
        assert_eq!(first.rule_for("login"), TypeRule::Notify);
    }

    #[cfg(unix)]
    #[test]
    fn the_settings_file_holding_a_token_is_the_users_alone_after_every_save() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("ssetray");
        let path = folder.join("settings.toml");
        let settings = Settings::default()
            .set("headers.Authorization", "Bearer secret")
            .unwrap();
        settings.save(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&folder), 0o700);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        settings
            .set("notifications", "false")
            .unwrap()
            .save(&path)
            .unwrap();
        assert_eq!(mode(&path), 0o600, "a save makes it private again");
    }

    #[test]
    fn bad_urls_name_the_field_and_the_fix() {
        for bad in [
            "ftp://example.com",
            "javascript:alert(1)",
            "example.com",
            "http://",
            "file:///etc/passwd",
        ] {
            let error = Settings::default()
                .set("server_url", bad)
                .unwrap_err()
                .to_string();
            assert!(error.contains("`server_url`"), "{bad}: {error}");
            assert!(
                error.contains("https://example.com/stream"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused() {
        let error = Settings::default()
            .set("sever_url", "x")
            .unwrap_err()
            .to_string();
        assert!(error.contains("is not a setting"), "{error}");
        let error = Settings::default()
            .set("history.keep_days", "many")
            .unwrap_err()
            .to_string();
        assert!(error.contains("history.keep_days"), "{error}");
        let error = Settings::default()
            .set("history.keep_count", "0")
            .unwrap_err()
            .to_string();
        assert!(error.contains("out of range"), "{error}");
        let error = Settings::default()
            .set("headers.Bad Name", "x")
            .unwrap_err()
            .to_string();
        assert!(error.contains("header name"), "{error}");
    }

    #[test]
    fn a_bad_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "server_url = \"gopher://x\"\n").unwrap();
        let error = Settings::load(&path).unwrap_err().to_string();
        assert!(error.contains("server_url"), "{error}");
        std::fs::write(&path, "server_url = \n").unwrap();
        let error = Settings::load(&path).unwrap_err().to_string();
        assert!(error.contains("line 1"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "server_url = \n");
    }

    #[test]
    fn quiet_hours_need_two_times() {
        let settings = Settings::default()
            .set("quiet_hours.from", "22:00")
            .and_then(|s| s.set("quiet_hours.to", "07:30"));
        // Setting one half first leaves the pair incomplete.
        assert!(settings.is_err());
        let mut settings = Settings {
            quiet_hours: Some(QuietHours {
                from: "22:00".into(),
                to: "07:30".into(),
            }),
            ..Settings::default()
        };
        assert!(settings.validate().is_ok());
        assert_eq!(
            settings.quiet_hours.as_ref().unwrap().minutes(),
            Some((1320, 450))
        );
        settings.quiet_hours = Some(QuietHours {
            from: "22:00".into(),
            to: " 22:00".into(),
        });
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("starts and ends at once"), "{error}");
        settings.quiet_hours = Some(QuietHours {
            from: "25:00".into(),
            to: "07:30".into(),
        });
        assert!(settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("quiet_hours"));
    }

    #[test]
    fn channel_goes_into_the_query() {
        let settings = Settings::default()
            .set("server_url", "http://127.0.0.1:5000/stream")
            .unwrap()
            .set("channel", "news")
            .unwrap();
        let first = &settings.subscriptions[0];
        assert_eq!(
            first.stream_url().unwrap().as_str(),
            "http://127.0.0.1:5000/stream?channel=news"
        );
        assert_eq!(first.name, "127.0.0.1:5000/news");
    }

    #[test]
    fn a_settings_file_of_one_server_is_read_as_one_subscription_and_saved_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "server_url = \"https://example.com/stream\"\nchannel = \"news\"\nnotifications = false\n\n[headers]\nAuthorization = \"Bearer 1\"\n\n[rules]\nchat = \"ignore\"\n",
        )
        .unwrap();
        let settings = Settings::load(&path).unwrap();
        assert_eq!(settings.subscriptions.len(), 1);
        let only = &settings.subscriptions[0];
        assert_eq!(only.name, "example.com/news");
        assert_eq!(only.headers["Authorization"], "Bearer 1");
        assert_eq!(only.rule_for("chat"), TypeRule::Ignore);
        assert!(!settings.notifications, "the app's own keys stay");
        assert_eq!(settings.get("channel").unwrap(), "news");
        settings.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[[subscriptions]]"), "{text}");
        let top_level = text.split("\n[").next().unwrap_or_default();
        assert!(!top_level.contains("server_url"), "{text}");
        assert_eq!(Settings::load(&path).unwrap(), settings);
        // Both forms in one file cannot be read either way, and say so.
        std::fs::write(
            &path,
            format!("server_url = \"https://other.example/s\"\n{text}"),
        )
        .unwrap();
        let error = Settings::load(&path).unwrap_err().to_string();
        assert!(error.contains("[[subscriptions]]"), "{error}");
    }

    #[test]
    fn every_stream_key_of_a_file_of_one_server_is_read_and_named() {
        // A subscription with every field set, written at a file's top
        // level as a file of one server was: a field the stream keys did
        // not cover would be refused as unknown, or lost on the way.
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "").unwrap();
        let mut full = Subscription::new("https://example.com/stream", "news");
        full.headers.insert("X-Token".into(), "1".into());
        full.secret_headers = vec!["Authorization".into()];
        full.extra_ca_file = Some(ca);
        full.certificate_pin = Some("ab".repeat(32));
        full.web_app_url = Some("https://example.com/app".into());
        full.rules.insert("chat".into(), TypeRule::Ignore);
        let mut top_level = toml::Table::try_from(&full).unwrap();
        for own in file::subscription_only_keys() {
            top_level.remove(*own);
        }
        let keys: Vec<&str> = top_level.keys().map(String::as_str).collect();
        assert_eq!(
            keys.len(),
            file::stream_keys().len(),
            "set every field: {keys:?}"
        );
        let text = toml::to_string(&top_level).unwrap();
        let settings = Settings::from_toml(&text, &dir.path().join("s.toml")).unwrap();
        assert_eq!(settings.subscriptions, vec![full]);
        // Each is also a key of `config set` and `get`, and listed when a
        // key is unknown.
        let listed = Settings::default()
            .set("sever_url", "x")
            .unwrap_err()
            .to_string();
        for key in file::stream_keys() {
            assert!(settings.get(key).is_ok(), "{key}");
            if let Some(name) = known_as(key) {
                assert!(listed.contains(name), "{name}: {listed}");
            }
        }
    }

    #[test]
    fn subscriptions_are_named_set_and_kept_apart() {
        let mut settings = Settings::default()
            .set("server_url", "http://127.0.0.1:5000/stream")
            .unwrap();
        let mut second = Subscription::new("http://127.0.0.1:5000/stream", "user.42");
        second.name = settings.free_name(&second.name);
        settings.subscriptions.push(second);
        settings.validate().unwrap();
        assert_eq!(settings.subscriptions[1].name, "127.0.0.1:5000/user.42");
        let settings = settings
            .set("subscriptions.127.0.0.1:5000/user.42.rules.chat", "ignore")
            .unwrap();
        assert_eq!(settings.subscriptions[1].rule_for("chat"), TypeRule::Ignore);
        assert_eq!(settings.subscriptions[0].rule_for("chat"), TypeRule::Notify);
        assert_eq!(
            settings
                .get("subscriptions.127.0.0.1:5000/user.42.channel")
                .unwrap(),
            "user.42"
        );
        // A second subscription of the same stream, or the same name, is refused.
        let mut twice = settings.clone();
        twice
            .subscriptions
            .push(Subscription::new("http://127.0.0.1:5000/stream", ""));
        twice.subscriptions[2].name = "other".into();
        let error = twice.validate().unwrap_err().to_string();
        assert!(error.contains("subscriptions.2.server_url"), "{error}");
        let mut same_name = settings.clone();
        same_name.subscriptions[1].name = same_name.subscriptions[0].name.clone();
        let error = same_name.validate().unwrap_err().to_string();
        assert!(error.contains("subscriptions.1.name"), "{error}");
        let error = settings
            .set(
                "subscriptions.127.0.0.1:5000/user.42.server_url",
                "gopher://x",
            )
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`subscriptions.127.0.0.1:5000/user.42.server_url`"),
            "{error}"
        );
        assert_eq!(settings.free_name("127.0.0.1:5000"), "127.0.0.1:5000-2");
    }
}

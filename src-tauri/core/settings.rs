//! The user's settings: a TOML file in the XDG config folder.
//!
//! TOML because people edit it by hand; validated on load and on save so that
//! a bad value never reaches the connection, and every error names the field
//! and says how to fix it. `ssetray config get|set|path` edits it from a
//! shell, the settings view from the window, both through [`Settings::set`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::Retention;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
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
    /// Show OS notifications at all.
    pub notifications: bool,
    /// No notifications in this daily span (events are still stored).
    pub quiet_hours: Option<QuietHours>,
    /// A login QR code older than this shows as expired.
    pub qr_expiry_minutes: u32,
    pub start_hidden: bool,
    pub autostart: bool,
    /// The largest event (its data) kept, in bytes; a larger one is
    /// dropped with a warning and the stream goes on.
    pub max_event_bytes: usize,
    pub history: Retention,
}

/// Bounds of `max_event_bytes`: 1 KiB to 16 MiB.
const MAX_EVENT_BYTES_RANGE: std::ops::RangeInclusive<usize> = 1024..=16 * 1024 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server_url: None,
            channel: String::new(),
            headers: BTreeMap::new(),
            secret_headers: Vec::new(),
            extra_ca_file: None,
            certificate_pin: None,
            web_app_url: None,
            rules: BTreeMap::new(),
            notifications: true,
            quiet_hours: None,
            qr_expiry_minutes: 5,
            start_hidden: false,
            autostart: false,
            max_event_bytes: crate::sse::parser::DEFAULT_LIMIT_BYTES,
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
    let example = format!(
        "Set it to a full address such as `ssetray config set {field} https://example.com/stream`."
    );
    crate::url_policy::http_url(text)
        .map_err(|refused| invalid(field, format!("= {text:?} is refused: {refused}"), &example))
}

impl Settings {
    /// Check every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(url) = &self.server_url {
            check_http_url("server_url", url)?;
        }
        if let Some(url) = &self.web_app_url {
            check_http_url("web_app_url", url)?;
        }
        if self.channel.len() > 200 || self.channel.chars().any(char::is_control) {
            return Err(invalid(
                "channel",
                "is too long or holds control characters",
                "Use a plain channel name such as `sse`, or an empty one for the default.",
            ));
        }
        if let Some(pin) = &self.certificate_pin {
            if crate::sse::trust::Fingerprint::parse(pin).is_none() {
                return Err(invalid(
                    "certificate_pin",
                    format!("= {pin:?} is not a SHA-256 fingerprint"),
                    "Give the 64 hex digits the state shows (colons allowed), or an empty value to trust the CAs again.",
                ));
            }
        }
        for name in &self.secret_headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                invalid(
                    "secret_headers",
                    format!("names {name:?}, which is not a valid HTTP header name"),
                    "Remove it from `secret_headers`; set the header again with `ssetray config set headers.NAME VALUE`.",
                )
            })?;
        }
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                invalid(
                    &field,
                    "is not a valid HTTP header name",
                    "Use letters, digits and dashes, such as `Authorization`.",
                )
            })?;
            reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                invalid(
                    &field,
                    "has a value with characters a header cannot carry",
                    "Use printable text on one line.",
                )
            })?;
        }
        if let Some(path) = &self.extra_ca_file {
            if !path.is_file() {
                return Err(invalid(
                    "extra_ca_file",
                    format!("= {} is not a readable file", path.display()),
                    "Point it at a PEM file of CA certificates, or remove the setting.",
                ));
            }
        }
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

    /// Load from `path`; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Settings::default())
            }
            Err(source) => {
                return Err(SettingsError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Settings::from_toml(&text, path)
    }

    /// Settings from the text of a settings file at `path` (named in
    /// errors), validated. Any text gives settings or an error that names
    /// the line or the field, never a crash (a fuzz target checks it).
    pub fn from_toml(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let settings: Settings = toml::from_str(text).map_err(|error| SettingsError::Syntax {
            path: path.to_path_buf(),
            message: error.message().to_string() + &line_of(text, error.span()),
        })?;
        settings.validate()?;
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
            crate::private_files::private_folder(folder).map_err(io)?;
        }
        let text = toml::to_string_pretty(self)
            .map_err(|error| io(std::io::Error::other(format!("cannot write TOML: {error}"))))?;
        let temporary = path.with_extension("toml.tmp");
        // The user's alone (it may hold tokens), on every save.
        crate::private_files::write_private(
            &temporary,
            format!(
                "# SSE Tray settings. Edit here or with `ssetray config set KEY VALUE`.\n{text}"
            )
            .as_bytes(),
        )
        .map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    /// The value of a dotted key as TOML text (`server_url`, `history.keep_days`,
    /// `headers.Authorization`).
    pub fn get(&self, key: &str) -> Result<String, SettingsError> {
        let table = toml::Table::try_from(self).map_err(|error| {
            invalid(
                key,
                format!("cannot be read: {error}"),
                "Report this as a bug.",
            )
        })?;
        let mut value = toml::Value::Table(table);
        for part in key.split('.') {
            value = match value {
                toml::Value::Table(mut table) => {
                    table.remove(part).ok_or_else(|| unknown_key(key))?
                }
                _ => return Err(unknown_key(key)),
            };
        }
        Ok(match value {
            toml::Value::String(text) => text,
            other => other.to_string(),
        })
    }

    /// A copy with one dotted key set, validated. The value is read as TOML
    /// when it parses as such (numbers, booleans), else as a string.
    pub fn set(&self, key: &str, value: &str) -> Result<Settings, SettingsError> {
        let mut table = toml::Table::try_from(self).map_err(|error| {
            invalid(
                key,
                format!("cannot be read: {error}"),
                "Report this as a bug.",
            )
        })?;
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut wrapper| wrapper.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        let parts: Vec<&str> = key.split('.').collect();
        let (last, path) = parts.split_last().ok_or_else(|| unknown_key(key))?;
        let mut cursor = &mut table;
        for part in path {
            cursor = cursor
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| unknown_key(key))?;
        }
        // An empty value clears an optional setting.
        if value.is_empty()
            && matches!(
                *last,
                "server_url" | "web_app_url" | "extra_ca_file" | "certificate_pin"
            )
        {
            cursor.remove(*last);
        } else {
            // Free-form maps take strings whatever they look like.
            let value = if matches!(path.first(), Some(&"headers")) {
                toml::Value::String(value.to_string())
            } else {
                parsed
            };
            cursor.insert(last.to_string(), value);
        }
        let settings: Settings =
            toml::Value::Table(table)
                .try_into()
                .map_err(|error: toml::de::Error| {
                    if error.message().contains("unknown field") {
                        unknown_key(key)
                    } else {
                        invalid(
                            key,
                            format!("= {value:?}: {}", error.message()),
                            "Check the value's type (text, number, true/false).",
                        )
                    }
                })?;
        let mut settings = settings;
        if key == "server_url" && settings.stream_origin() != self.stream_origin() {
            // A pin is for one server: another one is trusted anew.
            settings.certificate_pin = None;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// The stream as the history keys it and the status shows it: its URL
    /// without the secrets it may carry (see `url_policy::redacted`).
    pub fn server_key(&self) -> Option<String> {
        self.stream_url()
            .map(|url| crate::url_policy::redacted(&url))
    }

    /// The origin of the stream, which a certificate pin belongs to.
    pub fn stream_origin(&self) -> Option<url::Origin> {
        self.stream_url().map(|url| url.origin())
    }

    /// The pinned certificate, if one is set and valid.
    pub fn pinned_certificate(&self) -> Option<crate::sse::trust::Fingerprint> {
        self.certificate_pin
            .as_deref()
            .and_then(crate::sse::trust::Fingerprint::parse)
    }

    /// How the client connects to the configured stream: its URL (with the
    /// channel), headers, extra CA, pinned certificate and size limits.
    /// The one place that turns settings into a connection, for the engine
    /// and for "Test connection" alike.
    pub fn client_config(&self) -> Option<crate::sse::ClientConfig> {
        let mut config = crate::sse::ClientConfig::new(self.stream_url()?);
        config.limits = crate::sse::Limits {
            max_line_bytes: self.max_event_bytes,
            max_event_bytes: self.max_event_bytes,
        };
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
}

fn unknown_key(key: &str) -> SettingsError {
    invalid(
        key,
        "is not a setting",
        "Known settings: server_url, channel, headers.NAME, extra_ca_file, certificate_pin, web_app_url, rules.TYPE (notify, store_only, ignore), notifications, quiet_hours.from, quiet_hours.to, qr_expiry_minutes, start_hidden, autostart, max_event_bytes, history.keep_count, history.keep_days, history.keep_megabytes.",
    )
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

/// Where SSE Tray keeps its files. Tests and portable setups move them with
/// the XDG variables, which `dirs` honours.
pub struct Paths {
    pub config_file: PathBuf,
    pub database: PathBuf,
}

impl Paths {
    pub fn from_environment() -> Paths {
        let config = dirs::config_dir().unwrap_or_else(|| PathBuf::from("."));
        let data = dirs::data_dir().unwrap_or_else(|| PathBuf::from("."));
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
        assert_eq!(loaded.rule_for("message"), TypeRule::StoreOnly);
        assert_eq!(loaded.rule_for("login"), TypeRule::Notify);
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
        assert_eq!(
            settings.stream_url().unwrap().as_str(),
            "http://127.0.0.1:5000/stream?channel=news"
        );
    }
}

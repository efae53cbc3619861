//! What the seed servers' events mean.
//!
//! The `sse` layer hands over events as the protocol defines them (a type, a
//! text, an id); this module turns them into [`AppEvent`]s in the user's
//! terms: a login step, a count of new messages, a message. It knows nothing
//! of sockets, storage or screens, so each rule is a pure function with a
//! test. Server data is untrusted: anything that does not have the expected
//! shape is kept as a plain message with its raw text, and logged.

use serde::{Deserialize, Serialize};

use crate::protocol::sse::SseEvent;

/// Event data as JSON, as far as the feed reads it: the strings and
/// numbers it may use, under the keys it knows. Everything else (arrays,
/// other keys, a key given twice) is passed over as it is read and never
/// held, so that no shape of data takes more memory parsed than as text (a
/// whole JSON tree of an array of zeros takes 16 times its text).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Text(String),
    Number(serde_json::Number),
    /// The known keys, each once (the last given wins, as in a JSON
    /// object read whole).
    Object(Vec<(&'static str, Json)>),
    Other,
}

/// Every key any event's data is read for.
const KNOWN_KEYS: &[&str] = &[
    // Messages.
    "title",
    "summary",
    "subject",
    "body",
    "message",
    "text",
    "content",
    "url",
    "link",
    "urgency",
    "priority",
    // Notifications.
    "count",
    // Login steps, and their user.
    "type",
    "uuid",
    "extra",
    "user",
    "name",
    "nickname",
    "NickName",
    "username",
    "display_name",
    "avatar",
    "avatar_url",
    "HeadImgUrl",
    "head_img",
];

impl Json {
    /// `data` read as JSON; `None` when it is not JSON.
    fn parse(data: &str) -> Option<Json> {
        serde_json::from_str(data).ok()
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields
                .iter()
                .find_map(|(name, value)| (*name == key).then_some(value)),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// An object's key, if it is one of [`KNOWN_KEYS`] (read without a copy).
struct KnownKey(Option<&'static str>);

impl<'de> Deserialize<'de> for KnownKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<KnownKey, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = KnownKey;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a key")
            }
            fn visit_str<E>(self, key: &str) -> Result<KnownKey, E> {
                Ok(KnownKey(
                    KNOWN_KEYS.iter().copied().find(|known| *known == key),
                ))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("JSON")
    }

    fn visit_str<E>(self, text: &str) -> Result<Json, E> {
        Ok(Json::Text(text.to_string()))
    }

    fn visit_string<E>(self, text: String) -> Result<Json, E> {
        Ok(Json::Text(text))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Json, E> {
        Ok(Json::Number(number.into()))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Json, E> {
        Ok(Json::Number(number.into()))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(number).map_or(Json::Other, Json::Number))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Other)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<Json, A::Error> {
        while items.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Json::Other)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields: Vec<(&'static str, Json)> = Vec::new();
        while let Some(KnownKey(key)) = map.next_key::<KnownKey>()? {
            let Some(known) = key else {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            };
            let value = map.next_value::<Json>()?;
            fields.retain(|(name, _)| *name != known);
            fields.push((known, value));
        }
        Ok(Json::Object(fields))
    }
}

/// A step of the QR-code login flow (seed 000's `login` events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Login {
    /// A login QR code is ready: `qr_png_base64` is a PNG, base64-encoded.
    ScanQrCode {
        uuid: String,
        qr_png_base64: String,
    },
    /// The phone scanned it: `image` is shown in place of the QR code.
    ConfirmLogin {
        uuid: String,
        image: String,
    },
    LoggedIn {
        uuid: String,
        user: User,
    },
    LoggedOut {
        uuid: String,
    },
}

/// The logged-in user, as far as the server told: what the app shows of
/// it. The rest of the object is not kept (it stays in the event's data),
/// so a user object can weigh no more than these two fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: Option<String>,
    pub avatar: Option<String>,
}

/// A message for the user to read (any event type other than the known ones).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub title: Option<String>,
    pub text: String,
    /// A link the server attached, only ever opened when it is http(s).
    pub url: Option<String>,
    /// `low`, `normal` or `critical` when the server said so.
    pub urgency: Option<String>,
    /// Why the event did not have the shape its type promises, if it did not.
    pub malformed: Option<String>,
}

/// An event in the user's terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppEvent {
    Login(Login),
    /// `count` new messages are waiting on the server.
    Notification {
        count: u64,
    },
    /// The server asks the client to close the stream (seed 001).
    ServerClosed,
    Message(Message),
}

impl AppEvent {
    /// A short name of the kind, as stored in the history.
    pub fn kind(&self) -> &'static str {
        match self {
            AppEvent::Login(_) => "login",
            AppEvent::Notification { .. } => "notification",
            AppEvent::ServerClosed => "server_closed",
            AppEvent::Message(_) => "message",
        }
    }

    /// How many unread messages this event adds: a notification stands for
    /// `count` messages on the server, a message for one; login steps and
    /// control events are state, not something to read.
    pub fn unread_weight(&self) -> u64 {
        match self {
            AppEvent::Notification { count } => *count,
            AppEvent::Message(_) => 1,
            AppEvent::Login(_) | AppEvent::ServerClosed => 0,
        }
    }
}

/// Longest text a message keeps for display: the full data stays in the
/// store, but nobody reads a megabyte in a notification or a list row.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Interpret one event. Never fails: what cannot be understood becomes a
/// message with the raw text and a reason in `malformed`.
pub fn interpret(event: &SseEvent) -> AppEvent {
    match &*event.event_type {
        "login" => interpret_login(&event.data)
            .unwrap_or_else(|problem| malformed(event, format!("a login event with {problem}"))),
        "notification" => match notification_count(&event.data) {
            Ok(count) => AppEvent::Notification { count },
            Err(problem) => malformed(event, format!("a notification with {problem}")),
        },
        "server_closed" => AppEvent::ServerClosed,
        _ => AppEvent::Message(message(&event.data)),
    }
}

fn malformed(event: &SseEvent, reason: String) -> AppEvent {
    tracing::warn!(
        event_type = %event.event_type,
        "{reason}; keeping it as plain text"
    );
    AppEvent::Message(Message {
        title: None,
        text: truncate(&event.data),
        url: None,
        urgency: None,
        malformed: Some(reason),
    })
}

fn interpret_login(data: &str) -> Result<AppEvent, String> {
    let object = Json::parse(data).ok_or_else(|| "data that is not JSON".to_string())?;
    if !matches!(object, Json::Object(_)) {
        return Err("data that is not a JSON object".to_string());
    }
    let step = object
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| "no `type` string".to_string())?;
    // The uuid names the login session; some servers send none.
    let uuid = match object.get("uuid") {
        Some(Json::Text(uuid)) => uuid.clone(),
        Some(Json::Number(number)) => number.to_string(),
        _ => String::new(),
    };
    let extra_string = || match object.get("extra") {
        Some(Json::Text(extra)) => Ok(extra.clone()),
        _ => Err(format!("`{step}` without an `extra` string")),
    };
    let login = match step {
        "scan_qr_code" => Login::ScanQrCode {
            uuid,
            qr_png_base64: extra_string()?,
        },
        "confirm_login" => Login::ConfirmLogin {
            uuid,
            image: extra_string()?,
        },
        "logged_in" => {
            let raw = object.get("user").unwrap_or(&Json::Other);
            let field = |names: &[&str]| {
                names.iter().find_map(|name| {
                    raw.get(name)
                        .and_then(Json::as_str)
                        .map(|text| text.chars().take(200).collect::<String>())
                })
            };
            let user = User {
                name: field(&["name", "nickname", "NickName", "username", "display_name"]),
                avatar: field(&["avatar", "avatar_url", "HeadImgUrl", "head_img"]),
            };
            Login::LoggedIn { uuid, user }
        }
        "logged_out" => Login::LoggedOut { uuid },
        other => {
            let shown: String = other.chars().take(40).collect();
            return Err(format!("an unknown step `{shown}`"));
        }
    };
    Ok(AppEvent::Login(login))
}

/// The largest count one notification can add to the unread total. A
/// server's count is a number like any other it sends: without a bound, one
/// `u64::MAX` would overflow the sum of unread messages.
pub const MAX_NOTIFICATION_COUNT: u64 = 1_000_000;

fn notification_count(data: &str) -> Result<u64, String> {
    let value = Json::parse(data).ok_or_else(|| "data that is not JSON".to_string())?;
    let not_a_count = || "a `count` that is not a whole number from 0".to_string();
    match value.get("count") {
        Some(Json::Number(count)) => match (count.as_u64(), count.as_f64()) {
            (Some(count), _) => Ok(count.min(MAX_NOTIFICATION_COUNT)),
            // A whole number beyond u64 arrives as a float: it is huge.
            (None, Some(float)) if float >= 1.0 && float.fract() == 0.0 => {
                Ok(MAX_NOTIFICATION_COUNT)
            }
            _ => Err(not_a_count()),
        },
        Some(_) => Err(not_a_count()),
        None => Err("no `count`".to_string()),
    }
}

/// A message from any other event: JSON objects give their `title`, `body`
/// (or `message`, `text`), `url` (or `link`) and `urgency`; JSON strings give
/// their text; anything else is shown as it came.
fn message(data: &str) -> Message {
    let mut message = Message {
        title: None,
        text: truncate(data),
        url: None,
        urgency: None,
        malformed: None,
    };
    let trimmed = data.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('"')) {
        return message;
    }
    match Json::parse(data) {
        Some(Json::Text(text)) => message.text = truncate(&text),
        Some(object @ Json::Object(_)) => {
            let text_of = |keys: &[&str]| {
                keys.iter()
                    .find_map(|key| object.get(key).and_then(Json::as_str))
                    .map(truncate)
            };
            message.title = text_of(&["title", "summary", "subject"]);
            if let Some(body) = text_of(&["body", "message", "text", "content"]) {
                message.text = body;
            }
            message.url = text_of(&["url", "link"]);
            message.urgency = text_of(&["urgency", "priority"])
                .map(|urgency| urgency.to_ascii_lowercase())
                .filter(|urgency| ["low", "normal", "critical"].contains(&urgency.as_str()));
        }
        _ => {}
    }
    message
}

fn truncate(text: &str) -> String {
    cut(text, MAX_TEXT_CHARS)
}

/// `text` cut to `max` characters, with "…" when cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(event_type: &str, data: &str) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: "".into(),
            has_own_id: false,
        }
    }

    #[test]
    fn login_steps_of_seed_000() {
        let scan = interpret(&sse(
            "login",
            r#"{"type": "scan_qr_code", "uuid": "u1", "extra": "iVBORw0KGgo="}"#,
        ));
        assert_eq!(
            scan,
            AppEvent::Login(Login::ScanQrCode {
                uuid: "u1".into(),
                qr_png_base64: "iVBORw0KGgo=".into()
            })
        );
        let confirm = interpret(&sse(
            "login",
            r#"{"type": "confirm_login", "uuid": "u1", "extra": "data:image/png;base64,AAAA"}"#,
        ));
        assert!(
            matches!(confirm, AppEvent::Login(Login::ConfirmLogin { ref image, .. }) if image == "data:image/png;base64,AAAA")
        );
        let logged_in = interpret(&sse(
            "login",
            r#"{"type": "logged_in", "uuid": "u1", "extra": null, "user": {"name": "Ada", "avatar": "https://x/a.png", "id": 7}}"#,
        ));
        match logged_in {
            AppEvent::Login(Login::LoggedIn { user, .. }) => {
                assert_eq!(user.name.as_deref(), Some("Ada"));
                assert_eq!(user.avatar.as_deref(), Some("https://x/a.png"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            interpret(&sse(
                "login",
                r#"{"type": "logged_out", "uuid": "u1", "extra": null}"#
            )),
            AppEvent::Login(Login::LoggedOut { uuid: "u1".into() })
        );
    }

    #[test]
    fn notification_count() {
        assert_eq!(
            interpret(&sse("notification", r#"{"count": 12}"#)),
            AppEvent::Notification { count: 12 }
        );
        assert_eq!(
            interpret(&sse("notification", r#"{"count": 0}"#)).unread_weight(),
            0
        );
    }

    #[test]
    fn huge_counts_are_clamped() {
        for data in [
            r#"{"count": 9223372036854775807}"#,
            r#"{"count": 18446744073709551615}"#,
            r#"{"count": 99999999999999999999999}"#,
            r#"{"count": 1e300}"#,
        ] {
            assert_eq!(
                interpret(&sse("notification", data)),
                AppEvent::Notification {
                    count: MAX_NOTIFICATION_COUNT
                },
                "{data}"
            );
        }
        assert_eq!(
            interpret(&sse("notification", r#"{"count": 1000000}"#)).unread_weight(),
            MAX_NOTIFICATION_COUNT
        );
    }

    #[test]
    fn server_closed() {
        assert_eq!(interpret(&sse("server_closed", "")), AppEvent::ServerClosed);
    }

    #[test]
    fn other_types_are_messages() {
        let answer = interpret(&sse(
            "new_answers",
            r#"{"question": "which programming is the best?", "value": "Absolutely, PHP", "who": "allen"}"#,
        ));
        match answer {
            AppEvent::Message(message) => {
                assert!(message.text.contains("Absolutely, PHP"));
                assert_eq!(message.malformed, None);
            }
            other => panic!("{other:?}"),
        }
        let chat = interpret(&sse("message", "[12:00:01] ada: hi <b>there</b>"));
        assert!(
            matches!(chat, AppEvent::Message(ref m) if m.text == "[12:00:01] ada: hi <b>there</b>")
        );
        let number = interpret(&sse("message", "42"));
        assert!(matches!(number, AppEvent::Message(ref m) if m.text == "42"));
        let rich = interpret(&sse(
            "message",
            r#"{"title": "Build", "body": "passed", "url": "https://ci/1", "urgency": "Critical"}"#,
        ));
        match rich {
            AppEvent::Message(m) => {
                assert_eq!(m.title.as_deref(), Some("Build"));
                assert_eq!(m.text, "passed");
                assert_eq!(m.url.as_deref(), Some("https://ci/1"));
                assert_eq!(m.urgency.as_deref(), Some("critical"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_input_is_kept_as_raw_text() {
        let cases = [
            ("login", "not json"),
            ("login", "[1,2]"),
            ("login", r#"{"uuid": "x"}"#),
            ("login", r#"{"type": "scan_qr_code", "extra": 5}"#),
            ("login", r#"{"type": "dance"}"#),
            ("notification", "{}"),
            ("notification", r#"{"count": -3}"#),
            ("notification", r#"{"count": 1.5}"#),
            ("notification", r#"{"count": "many"}"#),
            ("notification", r#"{"count": 1e400}"#),
        ];
        for (event_type, data) in cases {
            match interpret(&sse(event_type, data)) {
                AppEvent::Message(message) => {
                    assert_eq!(message.text, data, "{event_type} {data}");
                    assert!(message.malformed.is_some(), "{event_type} {data}");
                }
                other => panic!("{event_type} {data}: {other:?}"),
            }
        }
    }

    #[test]
    fn only_the_known_keys_are_read_the_last_of_each_wins() {
        let data = r#"{"title": "first", "n": [0, {"title": "inner"}], "title": "last",
            "extra": {"body": "nested"}, "body": ["not", "text"], "text": "the text",
            "url": "https://x/", "url": 5}"#;
        match interpret(&sse("message", data)) {
            AppEvent::Message(message) => {
                assert_eq!(message.title.as_deref(), Some("last"));
                assert_eq!(message.text, "the text");
                assert_eq!(message.url, None);
            }
            other => panic!("{other:?}"),
        }
        let json = Json::parse(data).unwrap();
        let Json::Object(fields) = &json else {
            panic!("{json:?}")
        };
        let keys: Vec<&str> = fields.iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, ["title", "extra", "body", "text", "url"]);
        assert_eq!(json.get("body"), Some(&Json::Other));
        // Escaped keys are keys all the same.
        assert_eq!(
            interpret(&sse("notification", r#"{"co\u0075nt": 3}"#)),
            AppEvent::Notification { count: 3 }
        );
        let login = r#"{"type": "logged_in", "uuid": 7, "user": {"name": ["x"], "nickname": "N", "avatar": "a"}}"#;
        assert_eq!(
            interpret(&sse("login", login)),
            AppEvent::Login(Login::LoggedIn {
                uuid: "7".into(),
                user: User {
                    name: Some("N".into()),
                    avatar: Some("a".into()),
                }
            })
        );
    }

    #[test]
    fn huge_text_is_trimmed_for_display() {
        let huge = "x".repeat(100_000);
        match interpret(&sse("message", &huge)) {
            AppEvent::Message(message) => {
                assert_eq!(message.text.chars().count(), MAX_TEXT_CHARS + 1)
            }
            other => panic!("{other:?}"),
        }
    }
}

//! What a history entry says, decided once.
//!
//! The window's rows, its live events and the history's search all use
//! [`EntryView`]: the page receives this and never an event's raw data (up to
//! a megabyte each, which it has no use for), and the search index holds
//! exactly the title and text a row shows, so a search finds what the user
//! sees rather than JSON keys.

use serde::{Deserialize, Serialize};

use crate::feed::{self, cut, AppEvent, Login};
use crate::sse::SseEvent;
use crate::store::HistoryEntry;
use crate::url_policy::safe_link_url;

/// Longest title a row shows, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// What a row shows of an entry: the one view of an event for the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: i64,
    /// The name of the subscription it came on; none for a stream no longer
    /// subscribed to.
    pub subscription: Option<String>,
    pub event_type: String,
    /// `message`, `notification`, `login` or `server_closed`.
    pub kind: String,
    pub received_at_ms: i64,
    pub read: bool,
    pub unread_weight: u64,
    pub title: Option<String>,
    /// At most [`feed::MAX_TEXT_CHARS`] characters (and "…").
    pub text: String,
    /// Only ever an http(s) link without user info.
    pub link: Option<String>,
    /// The link's host, shown beside it so that the user sees where it leads.
    pub link_host: Option<String>,
}

/// The title, text and link of an event, as a row and the search index
/// have them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    pub title: Option<String>,
    pub text: String,
    pub link: Option<url::Url>,
}

/// What an event says in the history.
pub fn describe(event: &AppEvent) -> Description {
    let said = |text: &str| Description {
        text: text.to_string(),
        ..Description::default()
    };
    match event {
        AppEvent::Message(message) => Description {
            title: message
                .title
                .as_deref()
                .map(without_direction_controls)
                .map(|title| title.trim().to_string())
                .filter(|title| !title.is_empty())
                .map(|title| cut(&title, MAX_TITLE_CHARS)),
            // The feed has already cut it to `feed::MAX_TEXT_CHARS`.
            text: without_direction_controls(&message.text),
            link: message.url.as_deref().and_then(safe_link_url),
        },
        AppEvent::Notification { count: 1 } => said("1 new message"),
        AppEvent::Notification { count } => said(&format!("{count} new messages")),
        AppEvent::Login(Login::ScanQrCode { .. }) => said("Login QR code ready"),
        AppEvent::Login(Login::ConfirmLogin { .. }) => {
            said("QR code scanned: confirm on the phone")
        }
        AppEvent::Login(Login::LoggedIn { user, .. }) => said(&format!(
            "Logged in as {}",
            cut(
                &without_direction_controls(user.name.as_deref().unwrap_or("unknown user")),
                MAX_TITLE_CHARS
            )
        )),
        AppEvent::Login(Login::LoggedOut { .. }) => said("Logged out"),
        AppEvent::ServerClosed => said("The server closed the stream"),
    }
}

/// Server text without the characters that override or embed a writing
/// direction (U+202A to U+202E) or open and close an isolate (U+2066 to
/// U+2069): a right-to-left override makes "gnp.exe" read "exe.png". The
/// page isolates each piece of server text as well; this keeps a piece from
/// lying about itself.
pub fn without_direction_controls(text: &str) -> String {
    text.chars().filter(|&c| !is_direction_control(c)).collect()
}

/// The characters [`without_direction_controls`] takes out.
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl EntryView {
    /// The view of a stored entry, interpreting its data as the engine did.
    pub fn of(entry: &HistoryEntry) -> EntryView {
        let event = feed::interpret(&SseEvent {
            event_type: entry.event_type.as_str().into(),
            data: entry.data.clone(),
            last_event_id: "".into(),
            has_own_id: false,
        });
        EntryView::with_event(entry, &event)
    }

    /// The same, labelled with its subscription's name.
    pub fn named(self, subscription: Option<String>) -> EntryView {
        EntryView {
            subscription,
            ..self
        }
    }

    /// The view of an entry whose event is already interpreted (a live one).
    pub fn with_event(entry: &HistoryEntry, event: &AppEvent) -> EntryView {
        let Description { title, text, link } = describe(event);
        EntryView {
            id: entry.id,
            subscription: None,
            event_type: entry.event_type.clone(),
            kind: entry.kind.clone(),
            received_at_ms: entry.received_at_ms,
            read: entry.read,
            unread_weight: entry.unread_weight,
            title,
            text,
            link_host: link
                .as_ref()
                .and_then(|link| link.host_str())
                .map(str::to_string),
            link: link.map(String::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event_type: &str, data: &str) -> HistoryEntry {
        HistoryEntry {
            id: 1,
            server: "s".into(),
            event_type: event_type.into(),
            event_id: None,
            data: data.into(),
            kind: "message".into(),
            unread_weight: 1,
            received_at_ms: 0,
            read: false,
        }
    }

    #[test]
    fn rows_show_text_and_only_http_links_with_their_host() {
        let hostile = EntryView::of(&entry(
            "message",
            r#"{"title": "<b>t</b>", "body": "<img src=x onerror=alert(1)>", "url": "javascript:alert(1)"}"#,
        ));
        assert_eq!(hostile.title.as_deref(), Some("<b>t</b>"));
        assert_eq!(hostile.text, "<img src=x onerror=alert(1)>");
        assert_eq!((hostile.link, hostile.link_host), (None, None));

        let link = EntryView::of(&entry(
            "message",
            r#"{"body": "b", "link": "https://example.com/x"}"#,
        ));
        assert_eq!(link.link.as_deref(), Some("https://example.com/x"));
        assert_eq!(link.link_host.as_deref(), Some("example.com"));

        let spoof = EntryView::of(&entry(
            "message",
            r#"{"body": "b", "url": "https://bank.example@evil.example/"}"#,
        ));
        assert_eq!(spoof.link, None);

        assert_eq!(
            EntryView::of(&entry("notification", r#"{"count": 2}"#)).text,
            "2 new messages"
        );
    }

    #[test]
    fn direction_overrides_cannot_disguise_a_row() {
        let view = EntryView::of(&entry(
            "message",
            r#"{"title": "\u202egnp.exe", "body": "a \u2067b\u2069 \u202dc"}"#,
        ));
        assert_eq!(view.title.as_deref(), Some("gnp.exe"));
        assert_eq!(view.text, "a b c");
    }

    #[test]
    fn a_row_carries_no_raw_data_and_is_bounded() {
        let data = format!(
            r#"{{"title": "{}", "body": "{}", "secret_field": "raw"}}"#,
            "t".repeat(5000),
            "é".repeat(100_000)
        );
        let view = EntryView::of(&entry("message", &data));
        assert_eq!(view.title.as_ref().map(|t| t.chars().count()), Some(201));
        assert_eq!(view.text.chars().count(), feed::MAX_TEXT_CHARS + 1);
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("secret_field"), "{json}");
        assert!(json.len() < 20_000, "{} bytes", json.len());
    }
}

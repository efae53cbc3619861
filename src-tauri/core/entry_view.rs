//! What a history entry says, decided once.
//!
//! The window's rows, its live events and the history's search all use
//! [`EntryView`]: the page receives this and never an event's raw data (up to
//! a megabyte each, which it has no use for), and the search index holds
//! exactly the title and text a row shows, so a search finds what the user
//! sees rather than JSON keys (both from [`describe`]).

use serde::{Deserialize, Serialize};

use crate::core::description::{describe, Description};
use crate::core::store::HistoryEntry;
use crate::protocol::feed::{self, cut, AppEvent};
use crate::protocol::sse::SseEvent;

/// Longest event type a row shows, in characters (a longer one is cut,
/// and not offered as a filter).
pub const MAX_TYPE_CHARS: usize = 100;
/// What a row shows of an entry: the one view of an event for the page.
/// Bounded whatever the server sent: a few kilobytes of text (title, text,
/// type and link each cut or dropped at their limits) beside the
/// subscription's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: i64,
    /// The name of the subscription it came on; none for a stream no longer
    /// subscribed to.
    pub subscription: Option<String>,
    /// At most [`MAX_TYPE_CHARS`] characters (and "…").
    pub event_type: String,
    /// `message`, `notification`, `login` or `server_closed`.
    pub kind: String,
    pub received_at_ms: i64,
    pub read: bool,
    pub unread_weight: u64,
    pub title: Option<String>,
    /// At most [`feed::MAX_TEXT_CHARS`] characters (and "…").
    pub text: String,
    /// Only ever an http(s) link without user info, of at most
    /// [`MAX_LINK_BYTES`].
    pub link: Option<String>,
    /// The link's host, shown beside it so that the user sees where it leads.
    pub link_host: Option<String>,
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
            event_type: cut(&entry.event_type, MAX_TYPE_CHARS),
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
    use crate::core::description::{MAX_LINK_BYTES, MAX_TITLE_CHARS};

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

    #[test]
    fn a_huge_type_name_and_link_leave_the_row_bounded() {
        // 2,000 characters, each written out as 6 bytes (%C3%A9).
        let long_link = format!(r#"https://example.com/{}"#, "é".repeat(2000));
        let data = format!(
            r#"{{"title": "{}", "body": "{}", "url": "{long_link}"}}"#,
            r"\u00e9".repeat(50_000),
            r"\ud83d\ude00".repeat(50_000),
        );
        let view = EntryView::of(&entry(&"t".repeat(1_000_000), &data));
        assert_eq!(view.event_type.chars().count(), MAX_TYPE_CHARS + 1);
        assert_eq!(view.link, None, "a link of 12,000 bytes");
        assert_eq!(view.link_host, None);
        // Each character of the text at its largest (4 bytes): the row's
        // whole weight is bounded by its limits, whatever the event's size.
        let json = serde_json::to_string(&view).unwrap();
        let most = 4 * (feed::MAX_TEXT_CHARS + 1)
            + 4 * (MAX_TITLE_CHARS + 1)
            + 4 * (MAX_TYPE_CHARS + 1)
            + 2 * MAX_LINK_BYTES
            + 512;
        assert!(json.len() <= most, "{} bytes, at most {most}", json.len());
        // A link within the limit stays.
        let fits = EntryView::of(&entry(
            "message",
            &format!(r#"{{"url": "https://example.com/{}"}}"#, "a".repeat(1000)),
        ));
        assert!(fits.link.is_some());
    }
}

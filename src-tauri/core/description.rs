//! What an event says, in a title, a text and a link: decided once, for the
//! window's rows ([`crate::core::entry_view`]) and the history's search
//! index (the store), so that a search finds what a row shows. Server text
//! is cut to its limits and loses the characters that would make it lie
//! about its direction.

use crate::protocol::feed::{cut, AppEvent, Login};
use crate::protocol::url_policy::safe_link_url;

/// Longest title a row shows, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest link a row carries, in bytes as written out: a longer one is no
/// link to open, and would make every row that carries it heavy.
pub const MAX_LINK_BYTES: usize = 4096;

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
            link: message
                .url
                .as_deref()
                .and_then(safe_link_url)
                .filter(|link| link.as_str().len() <= MAX_LINK_BYTES),
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

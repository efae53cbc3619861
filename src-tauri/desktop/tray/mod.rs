//! The tray icon: what it shows and offers, the same on every platform,
//! and one file per platform that puts it on screen (`linux.rs`: a
//! StatusNotifierItem over D-Bus; `windows.rs`: the notification area
//! through tray-icon).
//!
//! Thin by design: it shows the [`Status`] it is given (badge, tooltip, menu
//! header) and turns clicks into [`Request`]s for the app's main loop, like
//! any other client of the tray process. [`menu`] and [`tooltip`] decide
//! the words, so both platforms say the same.

use tokio::sync::{mpsc, oneshot};

use crate::desktop::badge;
use crate::ipc::{Connected, Incoming, Request, Status, View};

/// How long a tray host may take to appear (a desktop still starting)
/// before the user is told that this desktop shows no tray.
pub const TRAY_HOST_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the tray, the Status view and `ssetray status` say when no tray
/// host shows the icon.
pub const NO_TRAY_HOST: &str = "No tray on this desktop: the icon cannot be shown. Open SSE Tray from the app menu, or start it again. On GNOME, the AppIndicator and KStatusNotifierItem Support extension adds a tray.";

/// One line of the tray's menu.
#[derive(Debug, Clone, PartialEq)]
pub enum MenuEntry {
    /// Shown, not clickable (the state).
    Label(String),
    /// Clicked, it asks the app for `request`.
    Action {
        label: String,
        request: Request,
    },
    Submenu {
        label: String,
        entries: Vec<MenuEntry>,
    },
    Separator,
}

fn action(label: impl Into<String>, request: Request) -> MenuEntry {
    MenuEntry::Action {
        label: label.into(),
        request,
    }
}

/// What the icon's pixels depend on.
pub fn icon_key(status: &Status) -> (Option<String>, Connected) {
    (badge::badge_text(status.unread), status.connected())
}

/// The tooltip's text under its title "SSE Tray": the state, a line per
/// subscription when there are several, what is wrong, the unread count.
pub fn tooltip(status: &Status) -> String {
    let mut description = status.state_text.clone();
    if status.subscriptions.len() > 1 {
        for line in &status.subscriptions {
            description.push_str(&format!("\n{}: {}", line.name, line.state_text));
        }
    }
    for problem in status.problems() {
        description.push('\n');
        description.push_str(problem);
    }
    if status.unread > 0 {
        description.push_str(&format!("\n{} unread", status.unread));
    }
    description
}

/// The menu for `status`.
pub fn menu(status: &Status) -> Vec<MenuEntry> {
    let mut entries = state_entries(status);
    entries.extend([
        MenuEntry::Separator,
        action("Open SSE Tray", Request::OpenWindow { view: None }),
        action(
            format!("{} unread", status.unread),
            Request::OpenWindow {
                view: Some(View::History),
            },
        ),
        action("Mark all read", Request::MarkAllRead),
        pause_entry(status),
        reconnect_entry(status),
        action(
            "Settings…",
            Request::OpenWindow {
                view: Some(View::Settings),
            },
        ),
        MenuEntry::Separator,
        action("Quit", Request::Quit),
    ]);
    entries
}

/// The menu's head: the state, each subscription's when there are
/// several, each problem, and a word on the demo.
fn state_entries(status: &Status) -> Vec<MenuEntry> {
    let mut entries = vec![MenuEntry::Label(status.state_text.clone())];
    // Several subscriptions: a line each, under the summary.
    if status.subscriptions.len() > 1 {
        for line in &status.subscriptions {
            entries.push(MenuEntry::Label(format!(
                "{}: {}",
                line.name, line.state_text
            )));
        }
    }
    for problem in status.problems() {
        // A menu line, not a page: the first sentence, the rest in the
        // Status view.
        let first = problem.split(". ").next().unwrap_or(problem);
        entries.push(action(
            format!("⚠ {first}"),
            Request::OpenWindow {
                view: Some(View::Status),
            },
        ));
    }
    if status.demo {
        entries.push(action(
            "Demo server: set yours in Settings…",
            Request::OpenWindow {
                view: Some(View::Settings),
            },
        ));
    }
    entries
}

/// Resume when paused, else a choice of how long to pause.
fn pause_entry(status: &Status) -> MenuEntry {
    // The pause's words are the status's: the window says the same.
    if let Some(until) = &status.pause_text {
        action(
            format!("Resume notifications (paused {until})"),
            Request::Resume,
        )
    } else {
        MenuEntry::Submenu {
            label: "Pause notifications".into(),
            entries: vec![
                action("For 1 hour", Request::Pause { minutes: Some(60) }),
                action("Until resumed", Request::Pause { minutes: None }),
            ],
        }
    }
}

/// Reconnect everything, or with several subscriptions a choice of all
/// or one.
fn reconnect_entry(status: &Status) -> MenuEntry {
    let everywhere = Request::Reconnect { subscription: None };
    if status.subscriptions.len() > 1 {
        let mut each = vec![action("All", everywhere)];
        for line in &status.subscriptions {
            each.push(action(
                line.name.clone(),
                Request::Reconnect {
                    subscription: Some(line.name.clone()),
                },
            ));
        }
        MenuEntry::Submenu {
            label: "Reconnect now".into(),
            entries: each,
        }
    } else {
        action("Reconnect now", everywhere)
    }
}

/// Hand a click's request to the app's main loop; nobody waits for the
/// answer of a menu click.
fn send(requests: &mpsc::Sender<Incoming>, request: Request) {
    let (reply, _) = oneshot::channel();
    if requests.try_send(Incoming { request, reply }).is_err() {
        tracing::warn!("the app is busy; the tray click was dropped");
    }
}

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::spawn;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::spawn;

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(entries: &[MenuEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|entry| match entry {
                MenuEntry::Label(label) => label.clone(),
                MenuEntry::Action { label, .. } | MenuEntry::Submenu { label, .. } => label.clone(),
                MenuEntry::Separator => "—".into(),
            })
            .collect()
    }

    #[test]
    fn the_menu_says_the_state_and_offers_what_the_app_does() {
        let status: Status = serde_json::from_value(serde_json::json!({
            "state": {"state": "connecting"}, "state_text": "Connecting to a.example", "unread": 3,
            "paused_until_ms": null, "server": "https://a.example/", "demo": false,
            "since_ms": 0, "last_event_ms": null, "events_received": 0, "bytes_received": 0,
            "reconnects": 0, "settings_problem": "Settings not used: bad. Fix it", "store_problem": null
        }))
        .unwrap();
        let entries = menu(&status);
        assert_eq!(
            labels(&entries),
            [
                "Connecting to a.example",
                "⚠ Settings not used: bad",
                "—",
                "Open SSE Tray",
                "3 unread",
                "Mark all read",
                "Pause notifications",
                "Reconnect now",
                "Settings…",
                "—",
                "Quit"
            ]
        );
        assert!(entries.contains(&action("Quit", Request::Quit)));
        assert_eq!(
            tooltip(&status),
            "Connecting to a.example\nSettings not used: bad. Fix it\n3 unread"
        );
        // Paused: the status's words for its end, as the window shows them.
        let paused = Status {
            paused_until_ms: Some(i64::MAX),
            pause_text: Some("until resumed".into()),
            ..status
        };
        assert!(labels(&menu(&paused))
            .contains(&"Resume notifications (paused until resumed)".to_string()));
    }
}

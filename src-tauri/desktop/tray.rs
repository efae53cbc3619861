//! The tray icon on Linux: a StatusNotifierItem with its dbusmenu, over
//! D-Bus (ksni), so that no GTK is needed in the tray process.
//!
//! Thin by design: it shows the [`Status`] it is given (badge, tooltip, menu
//! header) and turns clicks into [`Request`]s for the app's main loop, like
//! any other client of the tray process.

use ksni::menu::{StandardItem, SubMenu};
use ksni::{MenuItem, ToolTip, Tray, TrayMethods};
use tokio::sync::{mpsc, oneshot, watch};

use crate::badge;
use crate::ipc::{Connected, Status};
use crate::ipc::{Incoming, Request, View};

struct TrayIcon {
    status: Status,
    requests: mpsc::Sender<Incoming>,
    /// The icon at every size, drawn when the badge or the connection
    /// changes, not on every status update.
    icons: Vec<ksni::Icon>,
    icon_key: (Option<String>, Connected),
    /// Whether a tray host (a StatusNotifierWatcher) shows the icon: `None`
    /// until the bus has said otherwise.
    host: watch::Sender<Option<bool>>,
}

/// How long a tray host may take to appear (a desktop still starting)
/// before the user is told that this desktop shows no tray.
pub const TRAY_HOST_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the tray, the Status view and `ssetray status` say when no tray
/// host shows the icon.
pub const NO_TRAY_HOST: &str = "No tray on this desktop: the icon cannot be shown. Open SSE Tray from the app menu, or start it again. On GNOME, the AppIndicator and KStatusNotifierItem Support extension adds a tray.";

/// When a pause ends, as the menu says it ("14:30", or "Tue 14:30" when
/// not today); `None` for a pause until resumed (a century away).
fn pause_end_text(until_ms: i64) -> Option<String> {
    let zone = jiff::tz::TimeZone::system();
    let end = jiff::Timestamp::from_millisecond(until_ms)
        .ok()?
        .to_zoned(zone.clone());
    let now = jiff::Timestamp::now().to_zoned(zone);
    if end.year() > now.year() + 1 {
        return None;
    }
    Some(if end.date() == now.date() {
        end.strftime("%H:%M").to_string()
    } else {
        end.strftime("%a %H:%M").to_string()
    })
}

/// What the icon's pixels depend on.
fn icon_key(status: &Status) -> (Option<String>, Connected) {
    (badge::badge_text(status.unread), status.connected())
}

fn draw_icons(status: &Status) -> Vec<ksni::Icon> {
    let connected = status.connected();
    [16, 22, 24, 32, 48, 64]
        .into_iter()
        .map(|size| {
            let image = badge::render(size, status.unread, connected);
            ksni::Icon {
                width: size as i32,
                height: size as i32,
                data: image.argb(),
            }
        })
        .collect()
}

impl TrayIcon {
    fn send(&self, request: Request) {
        // Nobody waits for the answer of a menu click.
        let (reply, _) = oneshot::channel();
        if self.requests.try_send(Incoming { request, reply }).is_err() {
            tracing::warn!("the app is busy; the tray click was dropped");
        }
    }
}

fn item(
    label: impl Into<String>,
    activate: impl Fn(&mut TrayIcon) + Send + 'static,
) -> MenuItem<TrayIcon> {
    StandardItem {
        label: label.into(),
        activate: Box::new(activate),
        ..Default::default()
    }
    .into()
}

impl Tray for TrayIcon {
    fn id(&self) -> String {
        "ssetray".into()
    }

    fn title(&self) -> String {
        "SSE Tray".into()
    }

    fn watcher_online(&self) {
        self.host.send_replace(Some(true));
    }

    fn watcher_offline(&self, reason: ksni::OfflineReason) -> bool {
        tracing::debug!("no tray host: {reason:?}");
        self.host.send_replace(Some(false));
        // Keep the icon: it appears if a host comes later.
        true
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        self.icons.clone()
    }

    fn tool_tip(&self) -> ToolTip {
        let mut description = self.status.state_text.clone();
        if self.status.subscriptions.len() > 1 {
            for line in &self.status.subscriptions {
                description.push_str(&format!("\n{}: {}", line.name, line.state_text));
            }
        }
        for problem in self.status.problems() {
            description.push('\n');
            description.push_str(problem);
        }
        if self.status.unread > 0 {
            description.push_str(&format!("\n{} unread", self.status.unread));
        }
        ToolTip {
            title: "SSE Tray".into(),
            description,
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        self.send(Request::OpenWindow { view: None });
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        let paused = self
            .status
            .paused_until_ms
            .is_some_and(|until| until > crate::clock::now_ms());
        let pause = if paused {
            let label = match self.status.paused_until_ms.and_then(pause_end_text) {
                Some(end) => format!("Resume notifications (paused until {end})"),
                None => "Resume notifications (paused until resumed)".to_string(),
            };
            item(label, |tray: &mut TrayIcon| tray.send(Request::Resume))
        } else {
            SubMenu {
                label: "Pause notifications".into(),
                submenu: vec![
                    item("For 1 hour", |tray: &mut TrayIcon| {
                        tray.send(Request::Pause { minutes: Some(60) })
                    }),
                    item("Until resumed", |tray: &mut TrayIcon| {
                        tray.send(Request::Pause { minutes: None })
                    }),
                ],
                ..Default::default()
            }
            .into()
        };
        let mut items = vec![StandardItem {
            label: self.status.state_text.clone(),
            enabled: false,
            ..Default::default()
        }
        .into()];
        // Several subscriptions: a line each, under the summary.
        if self.status.subscriptions.len() > 1 {
            for line in &self.status.subscriptions {
                items.push(
                    StandardItem {
                        label: format!("{}: {}", line.name, line.state_text),
                        enabled: false,
                        ..Default::default()
                    }
                    .into(),
                );
            }
        }
        let everywhere = |tray: &mut TrayIcon| tray.send(Request::Reconnect { subscription: None });
        let reconnect = if self.status.subscriptions.len() > 1 {
            let mut each = vec![item("All", everywhere)];
            for line in &self.status.subscriptions {
                let name = line.name.clone();
                each.push(item(line.name.clone(), move |tray: &mut TrayIcon| {
                    tray.send(Request::Reconnect {
                        subscription: Some(name.clone()),
                    })
                }));
            }
            SubMenu {
                label: "Reconnect now".into(),
                submenu: each,
                ..Default::default()
            }
            .into()
        } else {
            item("Reconnect now", everywhere)
        };
        for problem in self.status.problems() {
            // A menu line, not a page: the first sentence, the rest in the
            // Status view.
            let first = problem.split(". ").next().unwrap_or(problem);
            items.push(item(format!("⚠ {first}"), |tray: &mut TrayIcon| {
                tray.send(Request::OpenWindow {
                    view: Some(View::Status),
                })
            }));
        }
        if self.status.demo {
            items.push(item(
                "Demo server: set yours in Settings…",
                |tray: &mut TrayIcon| {
                    tray.send(Request::OpenWindow {
                        view: Some(View::Settings),
                    })
                },
            ));
        }
        items.extend([
            MenuItem::Separator,
            item("Open SSE Tray", |tray: &mut TrayIcon| {
                tray.send(Request::OpenWindow { view: None })
            }),
            item(
                format!("{} unread", self.status.unread),
                |tray: &mut TrayIcon| {
                    tray.send(Request::OpenWindow {
                        view: Some(View::History),
                    })
                },
            ),
            item("Mark all read", |tray: &mut TrayIcon| {
                tray.send(Request::MarkAllRead)
            }),
            pause,
            reconnect,
            item("Settings…", |tray: &mut TrayIcon| {
                tray.send(Request::OpenWindow {
                    view: Some(View::Settings),
                })
            }),
            MenuItem::Separator,
            item("Quit", |tray: &mut TrayIcon| tray.send(Request::Quit)),
        ]);
        items
    }
}

async fn handle_key(handle: &ksni::Handle<TrayIcon>) -> (Option<String>, Connected) {
    handle
        .update(|tray| tray.icon_key.clone())
        .await
        .unwrap_or_default()
}

/// Show the tray icon and keep it in step with `status`. Without a tray host
/// on the session bus the icon waits for one to appear (a desktop that starts
/// after the app). The answer says whether the desktop shows no tray: `true`
/// once no host has come within [`TRAY_HOST_WAIT`], `false` again when one
/// does.
pub fn spawn(
    mut status: watch::Receiver<Status>,
    requests: mpsc::Sender<Incoming>,
) -> watch::Receiver<bool> {
    let (host, hosts) = watch::channel(None);
    let (missing_tx, missing) = watch::channel(false);
    tokio::spawn(tell_missing_host(hosts, missing_tx));
    tokio::spawn(async move {
        let current = status.borrow().clone();
        let icon = TrayIcon {
            icons: draw_icons(&current),
            icon_key: icon_key(&current),
            status: current,
            requests,
            host,
        };
        let handle = match icon.assume_sni_available(true).spawn().await {
            Ok(handle) => handle,
            Err(error) => {
                tracing::warn!("no tray icon: {error}. Open the window with `ssetray window`.");
                return;
            }
        };
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            let key = icon_key(&current);
            let icons = (key != handle_key(&handle).await).then(|| draw_icons(&current));
            let updated = handle
                .update(|tray| {
                    if let Some(icons) = icons {
                        tray.icons = icons;
                        tray.icon_key = key;
                    }
                    tray.status = current;
                })
                .await;
            if updated.is_none() {
                break;
            }
            // A flood changes the count thousands of times a second; the
            // watch channel keeps only the newest, so this caps redraws.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    missing
}

/// Turn what the bus says of tray hosts into "no tray", after a grace
/// period for a desktop that is still starting.
async fn tell_missing_host(mut hosts: watch::Receiver<Option<bool>>, missing: watch::Sender<bool>) {
    tokio::time::sleep(TRAY_HOST_WAIT).await;
    loop {
        let absent = *hosts.borrow_and_update() == Some(false);
        missing.send_if_modified(|shown| std::mem::replace(shown, absent) != absent);
        if hosts.changed().await.is_err() {
            return;
        }
    }
}

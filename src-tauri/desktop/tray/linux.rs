//! The tray icon on Linux: a StatusNotifierItem with its dbusmenu, over
//! D-Bus (ksni), so that no GTK is needed in the tray process.

use ksni::menu::{StandardItem, SubMenu};
use ksni::{MenuItem, ToolTip, Tray, TrayMethods};
use tokio::sync::{mpsc, watch};

use super::{icon_key, menu, send, tooltip, MenuEntry, TRAY_HOST_WAIT};
use crate::desktop::badge;
use crate::ipc::{Connected, Incoming, Request, Status};

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
        send(&self.requests, request);
    }
}

/// The shared menu as ksni's items.
fn items(entries: Vec<MenuEntry>) -> Vec<MenuItem<TrayIcon>> {
    entries
        .into_iter()
        .map(|entry| match entry {
            MenuEntry::Label(label) => StandardItem {
                label,
                enabled: false,
                ..Default::default()
            }
            .into(),
            MenuEntry::Action { label, request } => {
                item(label, move |tray: &mut TrayIcon| tray.send(request.clone()))
            }
            MenuEntry::Submenu { label, entries } => SubMenu {
                label,
                submenu: items(entries),
                ..Default::default()
            }
            .into(),
            MenuEntry::Separator => MenuItem::Separator,
        })
        .collect()
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
        ToolTip {
            title: "SSE Tray".into(),
            description: tooltip(&self.status),
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        self.send(Request::OpenWindow { view: None });
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        items(menu(&self.status))
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

//! The tray icon on Windows: the notification area through tray-icon
//! (Win32, no GTK), on a thread of its own.
//!
//! Why a thread: a Win32 tray icon belongs to the thread that made it, and
//! that thread must run a message loop (clicks, the menu, Explorer's
//! `TaskbarCreated` after a restart, on which tray-icon adds the icon
//! again). The tokio side sends the newest [`Status`] over a channel and
//! wakes the loop with a thread message; clicks go back as [`Request`]s,
//! like any other client of the tray process.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;

use tokio::sync::{mpsc, oneshot, watch};
use tray_icon::menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tray_icon::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use windows_sys::Win32::System::Threading::GetCurrentThreadId;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, GetMessageW, PeekMessageW, PostThreadMessageW, TranslateMessage, MSG,
    PM_NOREMOVE, WM_APP, WM_QUIT, WM_USER,
};

use super::{icon_key, menu, send, tooltip, MenuEntry};
use crate::desktop::badge;
use crate::ipc::{Incoming, Request, Status};

/// The thread message that says "a new status is waiting".
const WM_STATUS: u32 = WM_APP + 1;

/// The icon's size in pixels; Windows scales it for the screen's DPI.
const ICON_SIZE: u32 = 32;

/// Windows shows at most 127 UTF-16 units of a tray tooltip.
const TOOLTIP_UNITS: usize = 127;

thread_local! {
    /// What each menu entry asks for, by its id, for the menu shown now.
    static CHOICES: RefCell<HashMap<String, Request>> = RefCell::new(HashMap::new());
}

/// Show the tray icon and keep it in step with `status`. Windows always has
/// a notification area (Explorer's, restarted or not), so the answer, "no
/// tray on this desktop", stays `false`.
pub fn spawn(
    mut status: watch::Receiver<Status>,
    requests: mpsc::Sender<Incoming>,
) -> watch::Receiver<bool> {
    let (_never, missing) = watch::channel(false);
    let (updates, newest) = std_mpsc::channel::<Status>();
    let (thread_id_tx, thread_id) = oneshot::channel::<u32>();
    let first = status.borrow().clone();
    let started = std::thread::Builder::new()
        .name("tray".into())
        .spawn(move || run(first, newest, requests, thread_id_tx));
    if let Err(error) = started {
        tracing::warn!("no tray icon: {error}. Open the window with `ssetray window`.");
        return missing;
    }
    tokio::spawn(async move {
        let _never = _never;
        let Ok(thread) = thread_id.await else {
            return;
        };
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            if updates.send(current).is_err() {
                return;
            }
            // SAFETY: a plain call; the thread made its queue before
            // telling its id.
            unsafe { PostThreadMessageW(thread, WM_STATUS, 0, 0) };
            // A flood changes the count thousands of times a second; the
            // watch channel keeps only the newest, so this caps redraws.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // SAFETY: as above; the loop ends and the icon is removed.
        unsafe { PostThreadMessageW(thread, WM_QUIT, 0, 0) };
    });
    missing
}

fn icon(status: &Status) -> Option<tray_icon::Icon> {
    let image = badge::render(ICON_SIZE, status.unread, status.connected());
    tray_icon::Icon::from_rgba(image.rgba, ICON_SIZE, ICON_SIZE)
        .map_err(|error| tracing::warn!("cannot draw the tray icon: {error}"))
        .ok()
}

/// The tooltip under its title.
fn tooltip_text(status: &Status) -> String {
    fit_tooltip(&format!("SSE Tray\n{}", tooltip(status)))
}

/// `text` cut to what Windows shows of a tooltip, with an ellipsis when cut.
fn fit_tooltip(text: &str) -> String {
    let mut units = 0;
    let mut cut = String::new();
    for character in text.chars() {
        units += character.len_utf16();
        if units > TOOLTIP_UNITS {
            cut.pop();
            cut.push('…');
            break;
        }
        cut.push(character);
    }
    cut
}

/// A menu label as Win32 shows it: `&` marks a shortcut letter there, so a
/// name with `&` in it is doubled.
fn label(text: &str) -> String {
    text.replace('&', "&&")
}

/// The shared menu as Win32 menu items, noting what each id asks for.
fn append(
    parent: &dyn Fn(&dyn IsMenuItem) -> tray_icon::menu::Result<()>,
    entries: Vec<MenuEntry>,
    choices: &mut HashMap<String, Request>,
) -> tray_icon::menu::Result<()> {
    for entry in entries {
        match entry {
            MenuEntry::Label(text) => parent(&MenuItem::new(label(&text), false, None))?,
            MenuEntry::Action {
                label: text,
                request,
            } => {
                let id = choices.len().to_string();
                parent(&MenuItem::with_id(id.as_str(), label(&text), true, None))?;
                choices.insert(id, request);
            }
            MenuEntry::Submenu {
                label: text,
                entries,
            } => {
                let submenu = Submenu::new(label(&text), true);
                append(&|item| submenu.append(item), entries, choices)?;
                parent(&submenu)?;
            }
            MenuEntry::Separator => parent(&PredefinedMenuItem::separator())?,
        }
    }
    Ok(())
}

fn build_menu(status: &Status) -> Menu {
    let built = Menu::new();
    let mut choices = HashMap::new();
    if let Err(error) = append(&|item| built.append(item), menu(status), &mut choices) {
        tracing::warn!("cannot build the tray menu: {error}");
    }
    CHOICES.with(|current| *current.borrow_mut() = choices);
    built
}

/// The tray thread: make the icon, then run the message loop until the app
/// ends.
fn run(
    first: Status,
    newest: std_mpsc::Receiver<Status>,
    requests: mpsc::Sender<Incoming>,
    thread_id: oneshot::Sender<u32>,
) {
    make_queue(thread_id);
    hand_on_clicks(requests);
    let Some(mut shown) = Shown::build(&first) else {
        return;
    };
    tracing::info!("tray icon shown");
    let mut message: MSG = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `message` is ours; a null window takes the thread's
        // messages too.
        let got = unsafe { GetMessageW(&mut message, std::ptr::null_mut(), 0, 0) };
        if got <= 0 {
            // WM_QUIT (the app ends), or the loop cannot go on.
            break;
        }
        // SAFETY: a message just taken from this thread's queue.
        unsafe {
            TranslateMessage(&message);
            DispatchMessageW(&message);
        }
        // After every message, not only WM_STATUS: a menu held open runs
        // its own loop, which takes thread messages without handing them on.
        if let Some(status) = newest.try_iter().last() {
            shown.update(&status);
        }
    }
}

/// Makes this thread's message queue, so that the status can be posted to
/// it from now on, then tells the thread's id.
fn make_queue(thread_id: oneshot::Sender<u32>) {
    let mut message: MSG = unsafe { std::mem::zeroed() };
    // SAFETY: `message` is ours.
    unsafe {
        PeekMessageW(
            &mut message,
            std::ptr::null_mut(),
            WM_USER,
            WM_USER,
            PM_NOREMOVE,
        )
    };
    // SAFETY: a plain call.
    let _ = thread_id.send(unsafe { GetCurrentThreadId() });
}

/// Menu choices and a left click on the icon, sent on as requests. Both
/// handlers run on this thread, inside DispatchMessageW.
fn hand_on_clicks(requests: mpsc::Sender<Incoming>) {
    let clicks = requests.clone();
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let chosen = CHOICES.with(|choices| choices.borrow().get(&event.id.0).cloned());
        if let Some(request) = chosen {
            send(&clicks, request);
        }
    }));
    TrayIconEvent::set_event_handler(Some(move |event: TrayIconEvent| {
        if let TrayIconEvent::Click {
            button: MouseButton::Left,
            button_state: MouseButtonState::Up,
            ..
        } = event
        {
            send(&requests, Request::OpenWindow { view: None });
        }
    }));
}

/// The icon in the notification area, and which picture it shows (drawn
/// anew only when that changes).
struct Shown {
    tray: TrayIcon,
    key: (Option<String>, crate::ipc::Connected),
}

impl Shown {
    /// The icon for `first`; `None` (said in the log) when Windows makes
    /// none.
    fn build(first: &Status) -> Option<Shown> {
        let mut builder = TrayIconBuilder::new()
            .with_id("ssetray")
            .with_tooltip(tooltip_text(first))
            .with_menu(Box::new(build_menu(first)))
            .with_menu_on_left_click(false);
        if let Some(icon) = icon(first) {
            builder = builder.with_icon(icon);
        }
        match builder.build() {
            Ok(tray) => Some(Shown {
                tray,
                key: icon_key(first),
            }),
            Err(error) => {
                tracing::warn!("no tray icon: {error}. Open the window with `ssetray window`.");
                None
            }
        }
    }

    /// The icon, tooltip and menu for `status`.
    fn update(&mut self, status: &Status) {
        let key = icon_key(status);
        if key != self.key {
            if let Err(error) = self.tray.set_icon(icon(status)) {
                tracing::warn!("cannot update the tray icon: {error}");
            }
            self.key = key;
        }
        if let Err(error) = self.tray.set_tooltip(Some(tooltip_text(status))) {
            tracing::warn!("cannot update the tray tooltip: {error}");
        }
        self.tray.set_menu(Some(Box::new(build_menu(status))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_their_ampersands_and_tooltips_fit() {
        assert_eq!(label("Tom & Jerry"), "Tom && Jerry");
        let long = "é".repeat(200);
        let fitted = fit_tooltip(&long);
        assert_eq!(fitted.encode_utf16().count(), TOOLTIP_UNITS);
        assert!(fitted.ends_with('…'));
        // Above the BMP, a character takes two units: never half of one.
        let fitted = fit_tooltip(&"😀".repeat(100));
        assert!(fitted.encode_utf16().count() <= TOOLTIP_UNITS);
        assert_eq!(fit_tooltip("SSE Tray\nConnected"), "SSE Tray\nConnected");
    }
}

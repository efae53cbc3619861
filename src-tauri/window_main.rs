//! `ssetray-window`: the on-demand window process.
//!
//! This is the only binary that links Tauri, GTK and WebKit. The tray process
//! starts it when the user opens the window and it exits when the window
//! closes, so none of that weight stays resident all day.
//!
//! Thin by design: each command either reads the store through a read-only
//! connection or forwards to the tray process over the local socket (the
//! only writer); the code that decides things lives in the library
//! (`ssetray::desktop::window`), where tests reach it without a display.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::Mutex;

use serde_json::Value;
use ssetray::desktop::appearance::Scheme;
use ssetray::desktop::window::{self, CommandError, HistoryPage, HistoryQueryArgs, LoginView};
use ssetray::ipc::{self, Request, View, WindowEvent};
use tauri::{generate_handler, Emitter, Manager};

include!("window_commands.rs");

struct WindowState {
    reader: Mutex<window::Reader>,
}

type Result<T> = std::result::Result<T, CommandError>;

// Reading commands are async so that Tauri runs them off the main thread,
// which is busy drawing while the window opens.
#[tauri::command]
async fn history(
    state: tauri::State<'_, WindowState>,
    query: HistoryQueryArgs,
) -> Result<HistoryPage> {
    let mut reader = state
        .reader
        .lock()
        .map_err(|_| CommandError::message("the store is busy"))?;
    reader.history(&query)
}

#[tauri::command]
async fn mark_read(id: i64) -> Result<()> {
    window::forward(Request::MarkRead { id }).await
}

#[tauri::command]
async fn mark_all_read() -> Result<()> {
    window::forward(Request::MarkAllRead).await
}

#[tauri::command]
async fn delete_entry(id: i64) -> Result<()> {
    window::forward(Request::DeleteEntry { id }).await
}

#[tauri::command]
async fn clear_history() -> Result<()> {
    window::forward(Request::ClearHistory).await
}

/// Reconnect one subscription (by name), or all.
#[tauri::command]
async fn reconnect(subscription: Option<String>) -> Result<()> {
    window::forward(Request::Reconnect { subscription }).await
}

#[tauri::command]
async fn reset_resume_point(subscription: Option<String>) -> Result<()> {
    window::forward(Request::ResetResumePoint { subscription }).await
}

#[tauri::command]
async fn trust_certificate(fingerprint: String, subscription: Option<String>) -> Result<()> {
    window::trust_certificate(&fingerprint, subscription.as_deref()).await
}

/// Remove a saved subscription at once, with its history if asked.
#[tauri::command(rename_all = "snake_case")]
async fn unsubscribe(name: String, delete_history: bool) -> Result<()> {
    window::forward(Request::RemoveSubscription {
        name,
        delete_history,
    })
    .await
}

#[tauri::command]
async fn pause(minutes: Option<u32>) -> Result<()> {
    window::forward(Request::Pause { minutes }).await
}

#[tauri::command]
async fn resume() -> Result<()> {
    window::forward(Request::Resume).await
}

#[tauri::command]
async fn status() -> Result<Box<ssetray::ipc::Status>> {
    window::status().await
}

/// The login view of one subscription (by name), or the newest of any.
#[tauri::command]
async fn login_state(
    state: tauri::State<'_, WindowState>,
    subscription: Option<String>,
) -> Result<LoginView> {
    let login = {
        let mut reader = state
            .reader
            .lock()
            .map_err(|_| CommandError::message("the store is busy"))?;
        reader.login_state(subscription.as_deref())?
    };
    Ok(LoginView {
        subscription: login.subscription,
        subscriptions_with_login: login.with_login,
        ..window::login_view(login.state, window::qr_expiry())
    })
}

#[tauri::command]
async fn get_settings() -> Result<Value> {
    window::get_settings().await
}

#[tauri::command]
async fn save_settings(settings: Value) -> Result<()> {
    window::save_settings(settings).await
}

/// Tests what the Settings form holds, saved or not.
#[tauri::command]
async fn test_connection(subscription: Value) -> Result<window::ConnectionTest> {
    Ok(window::test_connection(subscription).await)
}

/// Escape or Ctrl+W.
#[tauri::command]
fn close_window(window: tauri::WebviewWindow) -> Result<()> {
    window.close().map_err(CommandError::message)
}

/// "Start SSE Tray" when the tray process is not running.
#[tauri::command]
async fn start_tray() -> Result<()> {
    window::start_tray().await
}

/// The desktop's light or dark style, when the settings portal tells it.
#[tauri::command]
async fn appearance() -> Result<Option<Scheme>> {
    Ok(ssetray::desktop::appearance::current().await)
}

/// Opens an entry's link by the entry's id: the page never names a URL.
#[tauri::command]
async fn open_link(id: i64, state: tauri::State<'_, WindowState>) -> Result<()> {
    let link = {
        let mut reader = state
            .reader
            .lock()
            .map_err(|_| CommandError::message("the store is busy"))?;
        reader.link_of(id)?
    };
    window::open_entry_link(id, link).await
}

/// The live events waiting now: at least one, all that are already here
/// (at most this many).
const MOST_AT_ONCE: usize = 1000;

async fn next_batch(
    client: &mut ipc::Client,
) -> std::result::Result<Vec<WindowEvent>, ipc::IpcError> {
    let mut lines = vec![client.next_line().await?];
    // Cancel-safe: a line half read when the zero timeout ends stays in the
    // client's buffer for the next call.
    while lines.len() < MOST_AT_ONCE {
        match tokio::time::timeout(std::time::Duration::ZERO, client.next_line()).await {
            Ok(line) => lines.push(line?),
            Err(_) => break,
        }
    }
    Ok(lines
        .iter()
        .filter_map(|line| match ipc::decode_window_event(line) {
            Ok(event) => Some(event),
            Err(error) => {
                // Both processes come from one build: a line that is no
                // live event is a bug, said on stderr (this process sets
                // up no log), not passed on.
                eprintln!("ssetray-window: {error}");
                None
            }
        })
        .collect())
}

/// Forward the tray process's live events to the page; while the tray
/// process is missing, say so and retry.
fn follow_tray(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            match ipc::Client::connect(&ipc::socket_path()).await {
                Ok(mut client) => {
                    if client.request(&Request::Subscribe).await.is_ok() {
                        let mut gate = window::FloodGate::default();
                        while let Ok(batch) = next_batch(&mut client).await {
                            for event in gate.pass(batch, std::time::Instant::now()) {
                                if matches!(event, WindowEvent::ShowView(_)) {
                                    if let Some(window) = app.get_webview_window("main") {
                                        let _ = window.unminimize();
                                        let _ = window.show();
                                        let _ = window.set_focus();
                                    }
                                }
                                let _ = app.emit("ssetray://event", event);
                            }
                        }
                    }
                }
                Err(_) => {
                    let _ = app.emit("ssetray://tray-missing", ());
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
    });
}

/// Remember the window's size and place when it closes.
fn keep_geometry(shown: &tauri::WebviewWindow) {
    let handle = shown.clone();
    shown.on_window_event(move |event| {
        if !matches!(event, tauri::WindowEvent::CloseRequested { .. }) {
            return;
        }
        let scale = handle.scale_factor().unwrap_or(1.0);
        if let (Ok(place), Ok(size)) = (handle.outer_position(), handle.inner_size()) {
            let place = place.to_logical::<f64>(scale);
            let size = size.to_logical::<f64>(scale);
            window::save_geometry(window::Geometry {
                x: place.x.round() as i32,
                y: place.y.round() as i32,
                width: size.width.round() as u32,
                height: size.height.round() as u32,
            });
        }
    });
}

/// Tell the page when the desktop's style changes.
fn follow_appearance(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        ssetray::desktop::appearance::follow(|scheme| {
            let _ = app.emit("ssetray://appearance", scheme);
        })
        .await;
    });
}

fn main() {
    // GTK would panic with a backtrace; a user over SSH gets a sentence.
    if !ssetray::tray_process::bootstrap::display_available() {
        eprintln!(
            "ssetray-window: {}",
            ssetray::tray_process::bootstrap::NO_DISPLAY
        );
        std::process::exit(1);
    }
    let view = std::env::args()
        .skip_while(|arg| arg != "--view")
        .nth(1)
        .and_then(|name| serde_json::from_value::<View>(Value::String(name)).ok())
        .unwrap_or(View::History);
    let result = tauri::Builder::default()
        .manage(WindowState {
            reader: Mutex::new(window::Reader::new()),
        })
        .invoke_handler(window_commands!(generate_handler))
        .setup(move |app| {
            let url = format!("index.html#{}", view.as_str());
            let mut builder =
                tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::App(url.into()))
                    .title("SSE Tray")
                    .inner_size(720.0, 560.0)
                    .min_inner_size(f64::from(window::MIN_WIDTH), f64::from(window::MIN_HEIGHT));
            // Where the user left it last time.
            if let Some(last) = window::load_geometry() {
                builder = builder
                    .inner_size(f64::from(last.width), f64::from(last.height))
                    .position(f64::from(last.x), f64::from(last.y));
            }
            let shown = builder
                // Only the app's own pages: a link or a script can never
                // take the webview, with its commands, elsewhere.
                .on_navigation(|url| {
                    let allowed = window::is_own_page(url);
                    if !allowed {
                        tracing::warn!("refused to navigate the window away from the app");
                    }
                    allowed
                })
                .build()?;
            keep_geometry(&shown);
            follow_appearance(app.handle().clone());
            follow_tray(app.handle().clone());
            let handle = app.handle().clone();
            std::thread::spawn(move || {
                let state = handle.state::<WindowState>();
                let Ok(mut reader) = state.reader.lock() else {
                    return;
                };
                reader.warm_up();
            });
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("ssetray-window: cannot start the window: {error}");
        std::process::exit(1);
    }
}

//! Start-up helpers that the tray process and the command line share:
//! exit codes, logging, the runtime, opening the user's files, signals.
//! They sit below both, so that neither imports the other for them.

use std::path::PathBuf;

use crate::core::settings::{Paths, Settings};
use crate::core::store::Store;

/// A failure with its exit code.
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl ToString) -> Failure {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
    pub fn runtime(message: impl ToString) -> Failure {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }
}

/// Logs go to stderr, so stdout stays clean for `--json`.
pub fn init_logging() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("SSETRAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The verifier logs each refusal as an error of its own; the client says
    // it once, in words, with the fingerprint.
    if let Ok(quiet) = "rustls_platform_verifier=off".parse() {
        filter = filter.add_directive(quiet);
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not for a log file or a
        // pipe (where they would be escape sequences in the text).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    // One thread: the app spends its life waiting on one socket.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::runtime(format!("cannot start the runtime: {error}")))
}

pub fn open_store(paths: &Paths) -> Result<Store, Failure> {
    let (store, recovered) = Store::open(&paths.database).map_err(Failure::runtime)?;
    if let Some(recovered) = recovered {
        eprintln!(
            "ssetray: the history database was damaged ({}); it was moved to {} and a new one started.",
            recovered.problem,
            recovered.moved_to.display()
        );
    }
    Ok(store)
}

pub fn load_settings(paths: &Paths) -> Result<Settings, Failure> {
    Settings::load(&paths.config_file).map_err(Failure::usage)
}

/// Ctrl-C or SIGTERM: quit cleanly, with the store flushed.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_close, ctrl_logoff, ctrl_shutdown};
        let (Ok(mut close), Ok(mut logoff), Ok(mut shutdown)) =
            (ctrl_close(), ctrl_logoff(), ctrl_shutdown())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = close.recv() => {}
            _ = logoff.recv() => {}
            _ = shutdown.recv() => {}
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Windows: `ssetray.exe` is a windowed program, so that starting the tray
/// from the Start menu or at login opens no console; typed in a console, it
/// writes to that console all the same.
#[cfg(windows)]
pub fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};
    // SAFETY: a plain call; it fails harmlessly without a parent console
    // (and output already redirected to a file or pipe stays there).
    unsafe { AttachConsole(ATTACH_PARENT_PROCESS) };
}

/// The path of a sibling binary (the window) next to this one.
pub fn sibling_binary(name: &str) -> Option<PathBuf> {
    let current = std::env::current_exe().ok()?;
    // `ssetray-window.exe` on Windows.
    let candidate = current
        .with_file_name(name)
        .with_extension(std::env::consts::EXE_EXTENSION);
    candidate.exists().then_some(candidate)
}

/// Whether there is a display to show a tray icon and a window on: on
/// Linux, an X server (`DISPLAY`) or a Wayland compositor
/// (`WAYLAND_DISPLAY`).
pub fn display_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// What to say when there is none.
pub const NO_DISPLAY: &str = "there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set): start SSE Tray from your desktop session, or run `ssetray run --headless` for notifications without a tray or window";

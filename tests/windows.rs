//! The Windows build (cross-built with mingw-w64) under Wine: the same
//! servers as on Linux, the tray process's files, named pipe, registry and
//! tray icon, and the installer.
//!
//! What Wine cannot show, and so stays untested here (see the README):
//! WinRT toasts and their clicks, the WebView2 window, another user's
//! process refused by the pipe (Wine runs everything as one user and does
//! not enforce a pipe's security descriptor), Explorer restarting (Wine
//! never sends `TaskbarCreated`), sleep and network notifications.

mod common;

use std::io::Write;
use std::process::Command;

use common::wine::Wine;
use common::*;

fn listen_args(url: &str, max_events: usize) -> Vec<String> {
    [
        "listen",
        url,
        "--json",
        "--retry-ms",
        "200",
        "--http-error-retry-ms",
        "300",
        "--max-events",
        &max_events.to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// The events one run of `listen` printed, until it ended.
fn events_of((code, stdout, stderr): (i32, String, String)) -> Vec<serde_json::Value> {
    assert_eq!(code, 0, "listen failed: {stderr}");
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("an event as JSON"))
        .collect()
}

/// Every case of the parser the scripted server can send: line endings of
/// each kind, a byte-order mark, comments, multi-line data, fields without
/// a colon or with one space trimmed, ids with a NUL (ignored), unknown
/// fields, empty events, named events, multi-byte characters cut between
/// writes, invalid UTF-8.
const PARSER_CASES: &[&[u8]] = &[
    b"\xEF\xBB\xBFdata: after a BOM\n\n",
    b": a comment\r\ndata: CRLF\r\n\r\n",
    b"data: CR alone\r\rdata:one\ndata:  two spaces\ndata\n\n",
    b"id: 7\nevent: notification\ndata: {\"count\": 2}\n\n",
    b"id: bad\0id\ndata: the id with a NUL is ignored\n\n",
    b"unknown: field\ndata: kept\nretry: soon\n\n",
    b"event: empty\n\n",
    b"data: caf\xC3",
    b"\xA9 cut between writes\n\n",
    b"data: broken \xFF\xFE bytes\n\n",
    b"event: login\ndata: {\"type\": \"scan_qr_code\", \"uuid\": \"u-1\"}\n\n",
];

const PARSER_EVENTS: usize = 10;

#[test]
fn listen_reads_every_parser_case_as_the_linux_build_does() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        for piece in PARSER_CASES {
            let _ = stream.write_all(piece);
            let _ = stream.flush();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        hold(stream);
    });
    let wine = Wine::new();
    let windows = wine.output(
        wine.ssetray()
            .args(listen_args(&server.url(), PARSER_EVENTS)),
    );
    let home = AppHome::new();
    let linux = home
        .command()
        .args(listen_args(&server.url(), PARSER_EVENTS))
        .output()
        .expect("ssetray");
    let linux = (
        linux.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&linux.stdout).into_owned(),
        String::from_utf8_lossy(&linux.stderr).into_owned(),
    );
    let (windows, linux) = (events_of(windows), events_of(linux));
    assert_eq!(windows.len(), PARSER_EVENTS, "{windows:#?}");
    assert_eq!(windows, linux, "the same events, field for field");
    assert_eq!(windows[0]["data"], "after a BOM");
    assert_eq!(windows[2]["data"], "CR alone");
    assert_eq!(windows[3]["data"], "one\n two spaces\n");
    assert_eq!(windows[4]["type"], "notification");
    assert_eq!(windows[5]["id"], "7", "the id with a NUL is ignored");
    assert_eq!(windows[7]["data"], "café cut between writes");
    assert_eq!(windows[8]["data"], "broken \u{FFFD}\u{FFFD} bytes");
}

#[test]
fn listen_retries_faults_and_resumes_from_the_last_id() {
    let server = FaultServer::start(|index, stream| match index {
        0 => {
            let _ =
                stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        }
        1 => {
            let _ = stream.write_all(STREAM_HEAD.as_bytes());
            let _ = stream.write_all(b"id: 1\ndata: one\n\nid: 2\ndata: tw");
            // Dropped in the middle of event 2.
        }
        _ => {
            let _ = stream.write_all(STREAM_HEAD.as_bytes());
            let _ = stream.write_all(b"id: 2\ndata: two\n\n");
            hold(stream);
        }
    });
    let wine = Wine::new();
    let client = wine.spawn(
        &listen_args(&server.url(), 2)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(client.next_event()["data"], "one");
    assert_eq!(client.next_event()["data"], "two");
    let stderr = client.drain_stderr().join("\n");
    assert!(stderr.contains("HTTP 503 Service Unavailable"), "{stderr}");
    let third = server.request(2).to_ascii_lowercase();
    assert!(third.contains("last-event-id: 1\r\n"), "{third}");
}

#[test]
fn flask_sse_events_arrive_over_loopback() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let wine = Wine::new();
    let client = wine.spawn(&["listen", &flask.stream_url(), "--json", "--max-events", "2"]);
    flask.wait_for_subscribers("sse", 1);
    flask.publish(serde_json::json!({"data": {"count": 3}, "type": "notification", "id": "n-1"}));
    flask.publish(serde_json::json!({"data": "plain text", "type": null}));
    let first = client.next_event();
    assert_eq!(first["type"], "notification");
    assert_eq!(first["data"], r#"{"count": 3}"#);
    let second = client.next_event();
    assert_eq!(second["data"], "plain text");
    assert_eq!(second["id"], "n-1");
}

/// A server that numbers its events and honours `Last-Event-ID`, sending
/// the event it resumes from once more (a dedupe to be done by the app).
fn numbering_server(total: u32) -> FaultServer {
    FaultServer::start_with_head(move |_, head, stream| {
        let from = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("last-event-id")
                    .then(|| value.trim().parse::<u32>().ok())?
            })
            .unwrap_or(0);
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        for id in from.max(1)..=total.min(from + 3) {
            let line = format!("id: {id}\nevent: message\ndata: event {id}\n\n");
            let _ = stream.write_all(line.as_bytes());
        }
        hold(stream);
    })
}

#[test]
fn the_headless_app_stores_dedupes_and_resumes_after_a_kill() {
    let server = numbering_server(5);
    let wine = Wine::new();
    wine.set("server_url", &server.url());
    let mut app = wine.spawn(&["run", "--headless"]);
    wait_until("three events stored", || wine.history().len() == 3);
    // Killed as hard as a power cut; what was stored stays.
    app.proc.kill();
    let app = wine.spawn(&["run", "--headless"]);
    wait_until("five events stored", || wine.history().len() == 5);
    let second = server.request(1).to_ascii_lowercase();
    assert!(second.contains("last-event-id: 3\r\n"), "{second}");
    let data: Vec<_> = wine
        .history()
        .iter()
        .map(|entry| entry["data"].clone())
        .collect();
    assert_eq!(
        data,
        ["event 1", "event 2", "event 3", "event 4", "event 5"].map(serde_json::Value::from),
        "event 3, sent twice, is stored once"
    );
    // Its files are in the Known Folders: settings in the roaming
    // AppData, history in the local one.
    let user = wine.user_folder();
    assert!(user.join("AppData/Roaming/ssetray/settings.toml").exists());
    assert!(user.join("AppData/Local/ssetray/history.db").exists());
    drop(app);
}

#[test]
fn one_instance_answers_on_its_named_pipe_and_a_second_hands_over() {
    let server = numbering_server(1);
    let wine = Wine::new();
    wine.set("server_url", &server.url());
    let app = wine.spawn(&["run", "--headless"]);
    wait_until("the event stored", || wine.history().len() == 1);
    let (code, stdout, stderr) = wine.run(&["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(status["state"]["state"], "open", "{status}");
    // The app named itself for toasts in the user's registry.
    let aumid = r"HKCU\Software\Classes\AppUserModelId\SSETray.SSETray";
    assert_eq!(
        wine.registry_value(aumid, "DisplayName").as_deref(),
        Some("SSE Tray")
    );
    let icon = wine.registry_value(aumid, "IconUri").expect("IconUri");
    assert!(icon.ends_with(r"\ssetray.exe"), "{icon}");
    // A second start finds the first through its instance lock and pipe.
    let (code, _, stderr) = wine.run(&["run", "--headless"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("already running"), "{stderr}");
    assert_eq!(
        server.connections(),
        1,
        "the second start connected nowhere"
    );
    // And `quit` over the pipe ends the first.
    let (code, _, stderr) = wine.run(&["quit"]);
    assert_eq!(code, 0, "{stderr}");
    let mut app = app;
    assert_eq!(app.wait_exit(), 0);
    let (code, _, stderr) = wine.run(&["quit"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("not running"), "{stderr}");
}

const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";

#[test]
fn autostart_is_a_run_value_of_the_users_own() {
    let wine = Wine::new();
    wine.set("autostart", "true");
    let server = numbering_server(1);
    wine.set("server_url", &server.url());
    let mut app = wine.spawn(&["run", "--headless"]);
    wait_until("the event stored", || wine.history().len() == 1);
    let (code, _, _) = wine.run(&["quit"]);
    assert_eq!(code, 0);
    assert_eq!(app.wait_exit(), 0);
    let value = wine
        .registry_value(RUN_KEY, "SSE Tray")
        .expect("the Run value");
    assert!(value.ends_with(r#"\ssetray.exe" --hidden"#), "{value}");
    wine.set("autostart", "false");
    let mut app = wine.spawn(&["run", "--headless"]);
    wait_until("the app answering", || wine.run(&["status"]).0 == 0);
    let _ = wine.run(&["quit"]);
    assert_eq!(app.wait_exit(), 0);
    assert_eq!(wine.registry_value(RUN_KEY, "SSE Tray"), None);
}

/// The X window of Wine's own tray (shown while an icon is in it).
fn wine_tray_window(desktop: &Desktop) -> Option<String> {
    let output = desktop
        .command("xdotool")
        .args(["search", "--onlyvisible", "--name", "Wine System Tray"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().next().map(str::to_string)
}

/// How many pixels of Wine's tray are near `colour`; 0 while it is not
/// shown (it is looked up afresh each time: Wine may map it anew).
fn tray_pixels_near(desktop: &Desktop, colour: [u8; 3]) -> usize {
    let Some(window) = wine_tray_window(desktop) else {
        return 0;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let shot = dir.path().join("tray.png");
    let taken = desktop
        .command("import")
        .args(["-window", &window])
        .arg(&shot)
        .status()
        .is_ok_and(|status| status.success());
    if !taken {
        return 0;
    }
    let output = Command::new("convert")
        .arg(&shot)
        .args(["-depth", "8", "rgb:-"])
        .output()
        .expect("ImageMagick's convert");
    output
        .stdout
        .chunks_exact(3)
        .filter(|pixel| {
            pixel
                .iter()
                .zip(colour)
                .all(|(&have, want)| have.abs_diff(want) < 40)
        })
        .count()
}

const BADGE_RED: [u8; 3] = [220, 38, 38];
const APP_BLUE: [u8; 3] = [37, 99, 235];

/// The window's process started from the tray process, too. Clicks and
/// the menu stay untested here: Wine 8's
/// `Shell_NotifyIconGetRect` answers E_NOTIMPL, and tray-icon drops a click whose icon
/// it cannot place.
#[test]
fn the_tray_icon_shows_in_wines_tray_with_its_badge_and_goes_at_quit() {
    let desktop = Desktop::start();
    let server = numbering_server(2);
    let wine = Wine::with_display(&desktop.display);
    wine.set("server_url", &server.url());
    let mut app = wine.spawn(&["--hidden"]);
    app.wait_stderr("tray icon shown");
    wait_until("two events stored", || wine.history().len() == 2);
    // The drawn icon: the app's blue, and (once the status reaches the
    // tray's thread) the red badge of 2 unread.
    wait_until("the icon in Wine's tray", || {
        tray_pixels_near(&desktop, APP_BLUE) > 10
    });
    wait_until("the badge drawn", || {
        tray_pixels_near(&desktop, BADGE_RED) > 20
    });
    let badge = tray_pixels_near(&desktop, BADGE_RED);
    // Read: the badge goes. (Wine draws the new icon over the old one
    // without clearing it, so a rim of the old badge's edge stays.)
    let (code, _, stderr) = wine.run(&["mark-read"]);
    assert_eq!(code, 0, "{stderr}");
    wait_until("the badge gone", || {
        tray_pixels_near(&desktop, APP_BLUE) > 10
            && tray_pixels_near(&desktop, BADGE_RED) < badge / 3
    });
    // The window is started from the tray process as on Linux (Wine has no
    // WebView2 to show it with).
    let (code, _, stderr) = wine.run(&["window"]);
    assert_eq!(code, 0, "{stderr}");
    app.wait_stderr("window opened");
    let (code, _, stderr) = wine.run(&["quit"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(app.wait_exit(), 0);
    wait_until("the icon gone", || wine_tray_window(&desktop).is_none());
}

/// The installer the build made.
fn installer() -> std::path::PathBuf {
    let build = common::wine::build();
    std::fs::read_dir(&build)
        .expect("the build folder")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().ends_with("-setup.exe"))
        })
        .expect("SSE-Tray-<version>-setup.exe (scripts/package-windows.sh)")
}

const AUMID_KEY: &str = r"HKCU\Software\Classes\AppUserModelId\SSETray.SSETray";
const UNINSTALL_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\SSETray";

#[test]
fn the_installer_installs_for_the_user_and_the_uninstaller_removes_it() {
    let wine = Wine::new();
    // Installed programs run from their own folder: the stand-in DLL goes
    // where Windows has the real one.
    std::fs::copy(
        common::wine::shim(),
        wine.prefix
            .join("drive_c/windows/system32/bcryptprimitives.dll"),
    )
    .expect("the stand-in DLL");
    let (code, _, stderr) = wine.output(wine.command(installer()).arg("/S"));
    assert_eq!(code, 0, "the installer: {stderr}");
    let user = wine.user_folder();
    let folder = user.join("AppData/Local/Programs/SSE Tray");
    for file in [
        "ssetray.exe",
        "ssetray-window.exe",
        "uninstall.exe",
        "icon.ico",
    ] {
        assert!(folder.join(file).exists(), "{file} installed");
    }
    let shortcut = user.join("AppData/Roaming/Microsoft/Windows/Start Menu/Programs/SSE Tray.lnk");
    assert!(shortcut.exists(), "the Start-menu shortcut");
    assert_eq!(
        wine.registry_value(AUMID_KEY, "DisplayName").as_deref(),
        Some("SSE Tray")
    );
    assert_eq!(
        wine.registry_value(UNINSTALL_KEY, "DisplayName").as_deref(),
        Some("SSE Tray")
    );
    // The installed program runs.
    let (code, stdout, stderr) =
        wine.output(wine.command(folder.join("ssetray.exe")).arg("--version"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ssetray "), "{stdout}");
    let (code, _, stderr) = wine.output(wine.command(folder.join("uninstall.exe")).arg("/S"));
    assert_eq!(code, 0, "the uninstaller: {stderr}");
    // The uninstaller goes on from a copy of itself in the temp folder.
    wait_until("the uninstaller done", || {
        wine.registry_value(UNINSTALL_KEY, "DisplayName").is_none()
    });
    assert!(!folder.join("ssetray.exe").exists(), "the program removed");
    assert!(!shortcut.exists(), "the shortcut removed");
    assert_eq!(wine.registry_value(AUMID_KEY, "DisplayName"), None);
}

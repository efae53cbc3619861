//! The desktop parts, under a real X server (Xvfb) and a private D-Bus
//! session bus, both started and stopped here.
#![cfg(feature = "desktop")]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use ssetray::desktop::notifier::{BURST_WINDOW, SHOWN_ON_THEIR_OWN, SUMMARY_DELAY};

/// What the desktop tests ask of the display.
trait DesktopExt {
    fn window_ids(&self, name: &str) -> Vec<String>;
    fn screenshot(&self, name: &str) -> PathBuf;
}

impl DesktopExt for Desktop {
    fn window_ids(&self, name: &str) -> Vec<String> {
        let output = self
            .command("xdotool")
            .args(["search", "--name", name])
            .output()
            .expect("xdotool");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&folder).expect("screenshot folder");
        let path = folder.join(format!("{name}.png"));
        let status = self
            .command("import")
            .args(["-window", "root"])
            .arg(&path)
            .status()
            .expect("import");
        assert!(status.success());
        path
    }
}

/// A desktop with a tray host (our StatusNotifierWatcher), a notification
/// daemon (dunst) and a D-Bus monitor watching `Notify` calls.
struct FullDesktop {
    desktop: Desktop,
    _watcher: Option<Proc>,
    watcher_lines: std::sync::mpsc::Receiver<String>,
    _dunst: Proc,
    monitor: Running,
}

impl FullDesktop {
    fn start() -> FullDesktop {
        FullDesktop::start_with_tray_host(true)
    }

    /// As [`FullDesktop::start`]; without a tray host when `tray_host` is
    /// false (stock GNOME without the AppIndicator extension).
    fn start_with_tray_host(tray_host: bool) -> FullDesktop {
        let desktop = Desktop::start();
        let (watcher, watcher_lines) = if tray_host {
            let (watcher, lines) = desktop.start_tray_host();
            (Some(watcher), lines)
        } else {
            (None, std::sync::mpsc::channel().1)
        };
        let dunst = Proc::spawn(
            "dunst",
            desktop
                .command("dunst")
                .args(["-config", "/dev/null"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let monitor = Running::new(Proc::spawn(
            "dbus-monitor",
            desktop
                .command("dbus-monitor")
                .args([
                    "--session",
                    "interface='org.freedesktop.Notifications',member='Notify'",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        ));
        wait_until("dunst on the bus", || {
            desktop
                .command("dunstctl")
                .arg("count")
                .output()
                .is_ok_and(|output| output.status.success())
        });
        FullDesktop {
            desktop,
            _watcher: watcher,
            watcher_lines,
            _dunst: dunst,
            monitor,
        }
    }

    /// Wait for a `Notify` call whose arguments include `text`.
    fn wait_notify(&self, text: &str) {
        self.monitor.wait_stdout(&format!("string \"{text}\""));
    }

    /// Every `Notify` call the monitor saw so far.
    fn notify_calls(&self) -> Vec<NotifyCall> {
        NotifyCall::all(&self.monitor.drain_stdout())
    }

    /// Click the notification on top (its default action), once dunst
    /// shows one: a `Notify` call seen on the bus may not be on screen yet.
    fn click_notification(&self) {
        wait_until("dunst shows a notification", || {
            self.desktop
                .command("dunstctl")
                .args(["count", "displayed"])
                .output()
                .is_ok_and(|output| {
                    String::from_utf8_lossy(&output.stdout)
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(|shown| shown > 0)
                })
        });
        assert!(self
            .desktop
            .command("dunstctl")
            .args(["action", "0"])
            .status()
            .expect("dunstctl")
            .success());
    }

    fn app(&self, home: &AppHome, args: &[&str]) -> Running {
        let mut command = home.command();
        command
            .env("DISPLAY", &self.desktop.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.desktop.bus_address)
            .env("SSETRAY_OPENER", repo().join("tests/peers/record_url.sh"))
            .env("SSETRAY_OPENED_FILE", home.dir.path().join("opened.txt"))
            .env("NO_AT_BRIDGE", "1")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Running::new(Proc::spawn("ssetray", &mut command))
    }

    fn gdbus(&self, service: &str, path: &str, method: &str, args: &[&str]) -> String {
        self.desktop.gdbus(service, path, method, args)
    }

    fn icon_pixmap(&self, service: &str) -> String {
        self.desktop.icon_pixmap(service)
    }

    fn menu_layout(&self, service: &str) -> String {
        self.gdbus(
            service,
            "/MenuBar",
            "com.canonical.dbusmenu.GetLayout",
            &["0", "-1", "[]"],
        )
    }

    fn click_menu(&self, service: &str, label: &str) {
        let layout = self.menu_layout(service);
        let marker = format!("'label': <'{label}'>");
        let at = layout
            .find(&marker)
            .unwrap_or_else(|| panic!("no {label:?} in {layout}"));
        let before = &layout[..at];
        let open = before.rfind('(').expect("item start");
        let id: String = before[open + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        self.gdbus(
            service,
            "/MenuBar",
            "com.canonical.dbusmenu.Event",
            &[&id, "clicked", "<0>", "0"],
        );
    }
}

/// A `Notify` call as dbus-monitor prints it: the member line, then one
/// line per argument (app name, replaces id, icon, summary, body, ...).
struct NotifyCall {
    /// The notification it updates in place; 0 for a new one.
    replaces: u32,
    summary: String,
}

impl NotifyCall {
    fn all(lines: &[String]) -> Vec<NotifyCall> {
        let argument = |index: usize| lines.get(index).map(|line| line.trim()).unwrap_or("");
        lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.contains("member=Notify"))
            .map(|(index, _)| NotifyCall {
                replaces: argument(index + 2)
                    .strip_prefix("uint32 ")
                    .and_then(|id| id.parse().ok())
                    .unwrap_or(0),
                summary: argument(index + 4)
                    .strip_prefix("string \"")
                    .and_then(|text| text.strip_suffix('"'))
                    .unwrap_or("")
                    .to_string(),
            })
            .collect()
    }

    /// The count of a burst summary ("12 new messages").
    fn summary_count(&self) -> Option<u64> {
        self.summary.strip_suffix(" new messages")?.parse().ok()
    }
}

/// How many events the notifications seen account for: one for each shown
/// on its own, and for each burst the last count of its summary, less the
/// ones it counts that had shown on their own. For tests whose events are
/// messages, none of which reads like a summary.
fn events_shown_or_counted(calls: &[NotifyCall]) -> u64 {
    let mut accounted = 0;
    let mut burst: Option<u64> = None;
    for call in calls {
        match call.summary_count() {
            // Updated in place or shown anew (after the user closed it), a
            // summary counts its whole burst.
            Some(count) => burst = Some(burst.unwrap_or(0).max(count)),
            None => {
                // A notification on its own ends the burst before it.
                accounted += burst
                    .take()
                    .map_or(0, |count| count - SHOWN_ON_THEIR_OWN as u64);
                accounted += 1;
            }
        }
    }
    accounted + burst.map_or(0, |count| count - SHOWN_ON_THEIR_OWN as u64)
}

/// Wait until the notifier's burst is over, given when the test saw the
/// notification of the last event the notifier was offered. The notifier
/// ends a burst after a quiet spell longer than [`BURST_WINDOW`]; it was
/// offered that event before the test saw it, so a window from then is
/// enough. The window is the notifier's own rule, not a condition anything
/// shows: this waits for time, as long as the rule says and no longer.
fn wait_out_the_burst(last_seen: Instant) {
    std::thread::sleep((last_seen + BURST_WINDOW).saturating_duration_since(Instant::now()));
}

fn opened(home: &AppHome) -> Vec<String> {
    std::fs::read_to_string(home.dir.path().join("opened.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn tray_badge_menu_notifications_and_clicks_against_flask_sse() {
    let full = FullDesktop::start();
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    home.set("server_url", &flask.stream_url());
    home.set("web_app_url", "http://127.0.0.1:9/app");
    let app = full.app(&home, &["--hidden"]);

    let registered = full
        .watcher_lines
        .recv_timeout(PATIENCE)
        .expect("the tray icon registers");
    let service = registered.trim_start_matches("REGISTERED ").to_string();
    let menu = full.menu_layout(&service);
    for label in [
        "Open SSE Tray",
        "0 unread",
        "Mark all read",
        "Pause notifications",
        "For 1 hour",
        "Until resumed",
        "Reconnect now",
        "Settings…",
        "Quit",
    ] {
        assert!(
            menu.contains(&format!("'label': <'{label}'>")),
            "menu lacks {label:?}: {menu}"
        );
    }
    flask.wait_for_subscribers("sse", 1);
    // Flask-SSE sends its headers with the first event; after it the menu
    // header says "connected", and reading it clears the badge.
    flask.publish(serde_json::json!({"data": {"title": "Hello"}, "type": "message"}));
    full.wait_notify("Hello");
    wait_until("connected in the menu header", || {
        full.menu_layout(&service)
            .contains("Connected to 127.0.0.1")
    });
    wait_until("1 unread", || {
        full.menu_layout(&service).contains("'label': <'1 unread'>")
    });
    let one_unread = full.icon_pixmap(&service);
    full.click_menu(&service, "Mark all read");
    wait_until("0 unread", || {
        full.menu_layout(&service).contains("'label': <'0 unread'>")
    });
    let clear_icon = full.icon_pixmap(&service);
    assert!(clear_icon.len() > 1000, "{clear_icon}");
    assert_ne!(clear_icon, one_unread);
    full.desktop
        .command("dunstctl")
        .arg("close-all")
        .status()
        .expect("dunstctl");

    // A notification count: an OS notification and a badge.
    flask.publish(serde_json::json!({"data": {"count": 3}, "type": "notification", "id": "n1"}));
    full.wait_notify("3 new messages");
    let last_notification_seen = Instant::now();
    wait_until("the badge", || full.icon_pixmap(&service) != clear_icon);
    assert!(full.menu_layout(&service).contains("'label': <'3 unread'>"));

    // Clicking it opens the web app URL from the settings.
    full.click_notification();
    wait_until("the browser opened", || !opened(&home).is_empty());
    assert_eq!(opened(&home), vec!["http://127.0.0.1:9/app".to_string()]);

    // A message with a hostile link: the click opens the web app, never it.
    full.desktop
        .command("dunstctl")
        .arg("close-all")
        .status()
        .expect("dunstctl");
    // The next three must each show on their own (each click opens its own
    // link), not as a burst with the two before them.
    wait_out_the_burst(last_notification_seen);
    flask.publish(serde_json::json!({"data": {"title": "Hi", "body": "<b>x</b>", "url": "javascript:alert(1)"}, "type": "message"}));
    full.wait_notify("Hi");
    full.click_notification();
    wait_until("the second click", || opened(&home).len() == 2);
    full.desktop
        .command("dunstctl")
        .arg("close-all")
        .status()
        .expect("dunstctl");
    flask.publish(serde_json::json!({"data": {"title": "File", "url": "file:///etc/passwd"}, "type": "message"}));
    full.wait_notify("File");
    full.click_notification();
    wait_until("the third click", || opened(&home).len() == 3);
    for url in opened(&home) {
        assert!(url.starts_with("http://"), "opened {url}");
    }
    full.desktop
        .command("dunstctl")
        .arg("close-all")
        .status()
        .expect("dunstctl");
    flask.publish(serde_json::json!({"data": {"title": "Link", "url": "https://example.com/item/7"}, "type": "message"}));
    full.wait_notify("Link");
    full.click_notification();
    wait_until("the fourth click", || opened(&home).len() == 4);
    assert_eq!(opened(&home)[3], "https://example.com/item/7");

    // "Mark all read" from the menu clears the badge.
    full.click_menu(&service, "Mark all read");
    wait_until("the badge cleared", || {
        full.icon_pixmap(&service) == clear_icon
    });
    assert!(full.menu_layout(&service).contains("'label': <'0 unread'>"));

    // Quit from the menu ends the process cleanly.
    full.click_menu(&service, "Quit");
    let mut app = app;
    assert_eq!(app.wait_exit(), 0);
}

#[test]
fn a_flood_shows_a_few_notifications_and_stores_everything() {
    let full = FullDesktop::start();
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    home.set("server_url", &flask.stream_url());
    let _app = full.app(&home, &["--hidden"]);
    flask.wait_for_subscribers("sse", 1);
    let reply = http_post_json(
        flask.port,
        "/publish_many",
        &serde_json::json!({"count": 10000, "type": "message", "id_prefix": "m"}).to_string(),
    );
    assert!(reply.contains("ok"));
    wait_until("10,000 stored", || {
        let (_, out, _) = home.run(&["history", "--json", "--limit", "20000"]);
        out.lines().count() == 10_000
    });
    // New bubbles are `Notify` calls that replace none; the summary updates
    // itself in place.
    let new_bubbles = |calls: &[NotifyCall]| calls.iter().filter(|call| call.replaces == 0).count();
    wait_until("the flood's summary", || {
        full.notify_calls()
            .iter()
            .any(|call| call.summary_count().is_some())
    });
    // What the notifier has counted by now shows within its summary delay:
    // watch that long for bubbles that should not come, stopping at the
    // first one too many.
    let watched_until = Instant::now() + SUMMARY_DELAY;
    while Instant::now() < watched_until && new_bubbles(&full.notify_calls()) <= 5 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let calls = full.notify_calls();
    let bubbles = new_bubbles(&calls);
    let updates = calls.len() - bubbles;
    assert!(
        (1..=5).contains(&bubbles),
        "{bubbles} notifications (and {updates} updates) for a flood"
    );
}

fn binary(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ssetray")).with_file_name(name)
}

#[test]
fn the_tray_process_links_neither_gtk_nor_webkit() {
    let output = Command::new("ldd")
        .arg(binary("ssetray"))
        .output()
        .expect("ldd");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(libraries.contains("libc.so"), "ldd works: {libraries}");
    for heavy in [
        "webkit",
        "gtk",
        "gdk",
        "soup",
        "javascriptcore",
        "appindicator",
    ] {
        assert!(
            !libraries.contains(heavy),
            "ssetray links {heavy}:\n{libraries}"
        );
    }
    let output = Command::new("ldd")
        .arg(binary("ssetray-window"))
        .output()
        .expect("ldd");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(
        libraries.contains("webkit2gtk"),
        "the window does: {libraries}"
    );
}

#[test]
fn the_window_opens_shows_the_ui_and_exits_when_closed() {
    let desktop = Desktop::start();
    let home = AppHome::new();
    let mut command = desktop.command(binary("ssetray-window").to_str().expect("path"));
    command
        .env("XDG_CONFIG_HOME", home.dir.path().join("config"))
        .env("XDG_DATA_HOME", home.dir.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut window = Running::new(Proc::spawn("ssetray-window", &mut command));
    wait_until("the SSE Tray window", || {
        if let Ok(Some(status)) = window.proc.child.try_wait() {
            panic!(
                "the window process ended ({status}) without a window: {:?}",
                window.drain_stderr()
            );
        }
        !desktop.window_ids("^SSE Tray$").is_empty()
    });
    // The page renders: the screenshot is not a blank window but text and
    // controls in many colours (antialiased text alone gives dozens).
    wait_until("the page rendered", || {
        let shot = desktop.screenshot("window");
        let colours = Command::new("convert")
            .arg(&shot)
            .args(["-format", "%k", "info:"])
            .output()
            .expect("convert");
        let distinct: u64 = String::from_utf8_lossy(&colours.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        distinct > 16
    });
    let id = desktop.window_ids("^SSE Tray$")[0].clone();
    desktop
        .command("xdotool")
        .args(["windowclose", &id])
        .status()
        .expect("xdotool");
    wait_until("the window process to exit", || {
        matches!(window.proc.child.try_wait(), Ok(Some(_)))
    });
}

/// Ask the running app for its status over the local socket.
fn app_status(home: &AppHome) -> Option<serde_json::Value> {
    let socket = home.dir.path().join("ssetray/ssetray.sock");
    let mut stream = std::os::unix::net::UnixStream::connect(socket).ok()?;
    std::io::Write::write_all(&mut stream, b"{\"request\": \"status\"}\n").ok()?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stream), &mut line).ok()?;
    serde_json::from_str(&line).ok()
}

#[test]
fn single_instance_window_process_and_socket_permissions() {
    let full = FullDesktop::start();
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    home.set("server_url", &flask.stream_url());
    let app = full.app(&home, &["--hidden"]);
    flask.wait_for_subscribers("sse", 1);
    wait_until("the socket answers", || app_status(&home).is_some());
    assert!(
        full.desktop.window_ids("^SSE Tray$").is_empty(),
        "--hidden opens no window"
    );

    // The socket is the user's alone.
    use std::os::unix::fs::PermissionsExt;
    let socket = home.dir.path().join("ssetray/ssetray.sock");
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(socket.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let stranger = Command::new("runuser")
        .args(["-u", "nobody", "--", "python3", "-c"])
        .arg(format!(
            "import socket; s = socket.socket(socket.AF_UNIX); s.connect({:?})",
            socket.display().to_string()
        ))
        .output()
        .expect("runuser");
    assert!(!stranger.status.success(), "another user connected");
    assert!(
        String::from_utf8_lossy(&stranger.stderr).contains("PermissionError"),
        "{:?}",
        stranger
    );

    // A second start opens the window of the running one and exits; the
    // server still sees one subscriber.
    let mut second = full.app(&home, &[]);
    assert_eq!(second.wait_exit(), 0);
    // Its last line may still be on its way from the pipe's reader: wait
    // for it rather than take what has come so far.
    second.wait_stderr("already running");
    wait_until("the window", || {
        !full.desktop.window_ids("^SSE Tray$").is_empty()
    });
    let subscribers = http_get(flask.port, "/subscribers?channel=sse");
    assert_eq!(subscribers.trim(), "1");

    // Closing the window ends the window process; the tray process goes on.
    let app_pid = app.proc.child.id().to_string();
    let window_pid = || -> Option<String> {
        let output = Command::new("pgrep")
            .args(["-P", &app_pid, "-x", "ssetray-window"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .map(str::to_string)
    };
    assert!(window_pid().is_some());
    let mut id = String::new();
    wait_until("the window's id", || {
        id = full
            .desktop
            .window_ids("^SSE Tray$")
            .first()
            .cloned()
            .unwrap_or_default();
        !id.is_empty()
    });
    full.desktop
        .command("xdotool")
        .args(["windowclose", &id])
        .status()
        .expect("xdotool");
    wait_until("the window process gone", || window_pid().is_none());
    assert!(app_status(&home).is_some(), "the tray process goes on");

    // Killing the window process: the same.
    let (code, _, stderr) = {
        let output = home
            .command()
            .env("DISPLAY", &full.desktop.display)
            .args(["window", "--view", "status"])
            .output()
            .expect("window");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{stderr}");
    wait_until("the window again", || window_pid().is_some());
    let pid = window_pid().unwrap();
    Command::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill");
    wait_until("the window process gone", || window_pid().is_none());
    flask.publish(serde_json::json!({"data": "still listening", "type": "message"}));
    wait_until("the event stored", || {
        home.history()
            .iter()
            .any(|e| e["data"] == "still listening")
    });
    drop(app);
}

#[test]
fn window_without_a_tray_process_says_so() {
    let home = AppHome::new();
    let output = home
        .command()
        .args(["window"])
        .stdin(Stdio::null())
        .output()
        .expect("window");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SSE Tray is not running"), "{stderr}");
    assert!(stderr.contains("start it with `ssetray`"), "{stderr}");
}

#[test]
fn kill_9_mid_burst_then_restart_loses_nothing_and_shows_nothing_twice() {
    let full = FullDesktop::start();
    // A server that replays every event from the start on each connection
    // (ignoring Last-Event-ID), slowly, with a title each.
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"retry: 200\n\n");
        let count = if index == 0 { 3 } else { 4 };
        for n in 1..=count {
            let event = format!(
                "id: {n}\nevent: message\ndata: {{\"title\": \"Burst {n}\", \"body\": \"b\"}}\n\n"
            );
            let _ = stream.write_all(event.as_bytes());
            let _ = stream.flush();
            // Paces what this server sends (the scenario: a burst cut
            // short by the kill); the test waits for the notifications.
            std::thread::sleep(Duration::from_millis(700));
        }
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let mut app = full.app(&home, &["--hidden"]);
    full.wait_notify("Burst 3");
    app.proc.signal("KILL");
    app.wait_exit();
    let _app = full.app(&home, &["--hidden"]);
    full.wait_notify("Burst 4");
    let ids: Vec<String> = home
        .history()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    let lines = full.monitor.drain_stdout();
    for n in 1..=4 {
        let shown = lines
            .iter()
            .filter(|line| line.contains(&format!("string \"Burst {n}\"")))
            .count();
        assert_eq!(shown, 1, "Burst {n} shown {shown} times");
    }
}

#[test]
fn the_tray_says_what_is_wrong_with_the_settings_file_and_the_history() {
    let full = FullDesktop::start();
    let home = AppHome::new();
    let config = home.dir.path().join("config/ssetray/settings.toml");
    std::fs::create_dir_all(config.parent().expect("folder")).expect("folder");
    std::fs::write(&config, "server_url = [\n").expect("write");
    // A folder where the history file should be: it cannot be opened.
    std::fs::create_dir_all(home.database()).expect("folder");
    let _app = full.app(&home, &["--hidden"]);
    let registered = full
        .watcher_lines
        .recv_timeout(PATIENCE)
        .expect("the tray icon registers: the app runs");
    let service = registered.trim_start_matches("REGISTERED ").to_string();
    let tooltip = || {
        full.gdbus(
            &service,
            "/StatusNotifierItem",
            "org.freedesktop.DBus.Properties.Get",
            &["org.kde.StatusNotifierItem", "ToolTip"],
        )
    };
    wait_until("both problems in the tooltip", || {
        let text = tooltip();
        text.contains("Settings not used: the settings file")
            && text.contains("History unavailable")
    });
    let menu = full.menu_layout(&service);
    assert!(menu.contains("⚠ Settings not used"), "{menu}");
    assert!(menu.contains("⚠ History unavailable"), "{menu}");
    // Both put right: the file by hand, then "Reconnect now" reads it; the
    // history opens on the next try by itself.
    std::fs::write(&config, "notifications = true\n").expect("write");
    std::fs::remove_dir(home.database()).expect("remove");
    full.click_menu(&service, "Reconnect now");
    wait_until("no problem left", || {
        let text = tooltip();
        !text.contains("Settings not used") && !text.contains("History unavailable")
    });
    assert!(!full.menu_layout(&service).contains('⚠'));
}

/// The unread count a running app reports (the store's, as it publishes it).
fn app_unread(home: &AppHome) -> u64 {
    let (code, out, err) = home.run(&["status", "--json"]);
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("status JSON");
    status["unread"].as_u64().expect("unread")
}

#[test]
fn the_badge_follows_the_store_whatever_marks_read() {
    let full = FullDesktop::start();
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    home.set("server_url", &flask.stream_url());
    home.set("web_app_url", "http://127.0.0.1:9/app");
    // Messages are counted but not shown, so that each round shows one
    // notification (the one clicked) and no burst summary forms.
    home.set("rules.message", "store_only");
    let _app = full.app(&home, &["--hidden"]);
    let registered = full
        .watcher_lines
        .recv_timeout(PATIENCE)
        .expect("the tray icon registers");
    let service = registered.trim_start_matches("REGISTERED ").to_string();
    flask.wait_for_subscribers("sse", 1);

    let mut unread = 0u64;
    let mut round = 0;
    for way in ["notification click", "tray menu", "command line"] {
        for _ in 0..3 {
            round += 1;
            full.desktop
                .command("dunstctl")
                .arg("close-all")
                .status()
                .expect("dunstctl");
            // The round: a notification of 4 (or more: each round's
            // bubble says its own number, so the click finds this round's)
            // and a message.
            let count = 3 + round as u64;
            flask.publish(serde_json::json!({"data": {"count": count}, "type": "notification", "id": format!("n{round}")}));
            flask.publish(serde_json::json!({"data": {"title": format!("m{round}")}, "type": "message", "id": format!("m{round}")}));
            unread += count + 1;
            wait_until(&format!("round {round}: the badge of {unread}"), || {
                full.desktop.icon_shows(&service, unread)
            });
            match way {
                "notification click" => {
                    full.wait_notify(&format!("{count} new messages"));
                    full.click_notification();
                    // The click marks its own entry read: the message stays.
                    unread -= count;
                }
                "tray menu" => {
                    full.click_menu(&service, "Mark all read");
                    unread = 0;
                }
                _ => {
                    let (code, _, err) = home.run(&["mark-read"]);
                    assert_eq!(code, 0, "{err}");
                    unread = 0;
                }
            }
            wait_until(
                &format!("round {round} ({way}): the badge of {unread}"),
                || full.desktop.icon_shows(&service, unread),
            );
            // And it stays there: after a round trip through the app (which
            // handles requests in order with the engine's counts), the
            // app, the store and the icon agree.
            assert_eq!(app_unread(&home), unread, "round {round} ({way})");
            assert!(
                full.desktop.icon_shows(&service, unread),
                "round {round} ({way}): the icon moved after settling"
            );
        }
    }
    let (_, out, _) = home.run(&["history", "--json", "--limit", "100"]);
    assert_eq!(out.lines().count(), 2 * round);
}

#[test]
fn a_burst_summary_updated_many_times_opens_the_browser_once_per_click() {
    let full = FullDesktop::start();
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    home.set("server_url", &flask.stream_url());
    home.set("web_app_url", "http://127.0.0.1:9/app");
    let _app = full.app(&home, &["--hidden"]);
    flask.wait_for_subscribers("sse", 1);
    // The first three show on their own; the burst after them goes into one
    // summary, updated in place as more arrive.
    let mut published = 0;
    for n in 0..SHOWN_ON_THEIR_OWN {
        flask.publish(
            serde_json::json!({"data": {"title": format!("single {n}")}, "type": "message"}),
        );
        published += 1;
        full.wait_notify(&format!("single {n}"));
    }
    full.desktop
        .command("dunstctl")
        .arg("close-all")
        .status()
        .expect("dunstctl");
    let summaries = || {
        full.monitor
            .drain_stdout()
            .iter()
            .filter(|line| line.contains(" new messages\""))
            .count()
    };
    // Four batches, each waited for: the summary is shown, then updated in
    // place three times.
    for batch in 0..4 {
        for n in 0..10 {
            flask.publish(serde_json::json!({"data": {"title": format!("burst {batch}.{n}")}, "type": "message"}));
            published += 1;
        }
        wait_until(&format!("summary update {batch}"), || summaries() > batch);
    }
    // Every event is on screen or counted in the summary: the notifier has
    // offered the last of them.
    wait_until("the whole burst shown or counted", || {
        events_shown_or_counted(&full.notify_calls()) >= published
    });
    let last_offer_seen = Instant::now();
    let calls = full.notify_calls();
    let updates = calls.iter().filter(|call| call.replaces != 0).count();
    assert!(
        updates >= 3,
        "the summary was not updated in place: {:?}",
        full.monitor.drain_stdout()
    );
    // Only the summary is on screen: one click on it.
    full.click_notification();
    wait_until("the summary's click opened the web app", || {
        !opened(&home).is_empty()
    });
    // A later notification of its own, clicked: its link is opened after
    // whatever else the summary's click would still open.
    full.desktop
        .command("dunstctl")
        .arg("close-all")
        .status()
        .expect("dunstctl");
    // The burst ends after a quiet window: then it shows on its own.
    wait_out_the_burst(last_offer_seen);
    flask.publish(serde_json::json!({"data": {"title": "after", "url": "https://example.com/after"}, "type": "message"}));
    full.wait_notify("after");
    full.click_notification();
    wait_until("the later click", || {
        opened(&home)
            .last()
            .is_some_and(|url| url == "https://example.com/after")
    });
    assert_eq!(
        opened(&home),
        vec![
            "http://127.0.0.1:9/app".to_string(),
            "https://example.com/after".to_string()
        ],
        "one click on a summary updated {updates}+ times opens once"
    );
}

#[test]
fn the_window_without_a_display_says_so_in_one_sentence() {
    let home = AppHome::new();
    let command = home.command();
    let output = Command::new(binary("ssetray-window"))
        .envs(
            command
                .get_envs()
                .filter_map(|(key, value)| Some((key, value?))),
        )
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("ssetray-window");
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("there is no display here"), "{said}");
    assert!(
        !said.contains("panicked") && !said.contains("Gtk"),
        "{said}"
    );
}

#[test]
fn without_a_tray_host_one_notification_says_how_to_open_the_app() {
    let mut full = FullDesktop::start_with_tray_host(false);
    let home = AppHome::new();
    // Started hidden, as at login: without a tray the user would see nothing.
    let _app = full.app(&home, &["--hidden"]);
    full.wait_notify("SSE Tray is running");
    let problem = || {
        app_status(&home)
            .and_then(|reply| reply["status"]["tray_problem"].as_str().map(str::to_string))
    };
    wait_until("the status says there is no tray", || {
        problem().is_some_and(|text| text.contains("No tray on this desktop"))
    });
    let said = full.monitor.drain_stdout();
    assert_eq!(
        said.iter()
            .filter(|line| line.contains("SSE Tray is running"))
            .count(),
        1,
        "said once"
    );
    // A tray host that comes later gets the icon, and the problem goes.
    let (watcher, lines) = full.desktop.start_tray_host();
    full._watcher = Some(watcher);
    let registered = lines
        .recv_timeout(PATIENCE)
        .expect("the icon registers late");
    assert!(registered.starts_with("REGISTERED "), "{registered}");
    wait_until("the problem gone", || problem().is_none());
}

#[test]
fn two_subscriptions_one_down_a_marked_icon_and_notifications_that_name_theirs() {
    let full = FullDesktop::start();
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let down = FaultServer::start(|_, stream| {
        let _ = std::io::Write::write_all(
            stream,
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let home = AppHome::new();
    home.set("server_url", &flask.stream_url());
    home.set("web_app_url", "http://127.0.0.1:9/work");
    let (code, _, stderr) = home.run(&["subscribe", &down.url(), "--name", "staging"]);
    assert_eq!(code, 0, "{stderr}");
    let _app = full.app(&home, &["--hidden"]);
    let service = full
        .watcher_lines
        .recv_timeout(PATIENCE)
        .expect("the tray icon registers")
        .trim_start_matches("REGISTERED ")
        .to_string();
    flask.wait_for_subscribers("sse", 1);
    // Flask-SSE says nothing until its first event: publish one, so that
    // the first subscription is connected while the other is not.
    flask.publish(serde_json::json!({"data": {"title": "Deploy", "body": "v2 is live"}, "type": "message", "id": "m1"}));
    let work = format!("127.0.0.1:{}", flask.port);
    // Its notification names its subscription.
    full.wait_notify(&format!("{work}: Deploy"));
    let partly = ssetray::desktop::badge::render(16, 1, ssetray::ipc::Connected::Some).argb();
    wait_until("the icon marked: some connected, not all", || {
        full.desktop.icon_pixels(&service) == Some(partly.clone())
    });
    let tooltip = full.gdbus(
        &service,
        "/StatusNotifierItem",
        "org.freedesktop.DBus.Properties.Get",
        &["org.kde.StatusNotifierItem", "ToolTip"],
    );
    assert!(tooltip.contains("1 of 2 connected"), "{tooltip}");
    assert!(tooltip.contains("staging: Retrying"), "{tooltip}");
    let menu = full.menu_layout(&service);
    assert!(
        menu.contains(&format!("'label': <'{work}'>")),
        "a Reconnect entry each: {menu}"
    );
    // Its click opens its own subscription's web app.
    full.click_notification();
    wait_until("the browser opened", || !opened(&home).is_empty());
    assert_eq!(opened(&home), vec!["http://127.0.0.1:9/work".to_string()]);
}

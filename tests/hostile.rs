//! Hostile and sloppy servers, and a store or settings file that fails:
//! scripted servers against the real `ssetray listen` and
//! `ssetray run --headless`. Nothing a server sends may make the app
//! hammer it, lose or drop events, lock itself out, or stop starting.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// New connections a server saw over `window`.
fn connections_over(server: &FaultServer, window: Duration) -> usize {
    wait_until("a first connection", || server.connections() >= 1);
    let before = server.connections();
    std::thread::sleep(window);
    server.connections() - before
}

#[test]
fn retry_zero_on_a_stream_that_ends_connects_at_most_twice_a_second() {
    // The stampede case: `retry: 0` and the stream closed at once, with and
    // without an event each time. The client's floor is 500 ms, and a
    // stream that ends without an event backs off further.
    let silent = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"retry: 0\n\n");
    });
    let with_event = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"retry: 0\ndata: hello\n\n");
    });
    let home = AppHome::new();
    let _silent_client = home.spawn(&["listen", &silent.url(), "--json"]);
    let event_client = home.spawn(&["listen", &with_event.url(), "--json"]);
    assert_eq!(event_client.next_event()["data"], "hello");
    let window = Duration::from_secs(6);
    let (silent_count, event_count) = std::thread::scope(|scope| {
        let silent = scope.spawn(|| connections_over(&silent, window));
        let with_event = scope.spawn(|| connections_over(&with_event, window));
        (
            silent.join().expect("count"),
            with_event.join().expect("count"),
        )
    });
    // Two a second, plus the first.
    let most = 2 * window.as_secs() as usize + 1;
    assert!(
        event_count <= most,
        "{event_count} connections in {window:?}"
    );
    assert!(
        event_count >= 3,
        "it does reconnect: {event_count} connections"
    );
    // Without events it backs off: 0.5, 1, 2, 4 s...
    assert!(
        silent_count <= 5,
        "{silent_count} connections in {window:?} without an event"
    );
}

#[test]
fn huge_notification_counts_neither_overflow_nor_stop_the_app_from_starting() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        if index == 0 {
            for (id, count) in [
                ("a", "9223372036854775807"),
                ("b", "18446744073709551615"),
                ("c", "18446744073709551615"),
                ("d", "99999999999999999999999"),
                ("e", "-5"),
            ] {
                let _ = stream.write_all(
                    format!("id: {id}\nevent: notification\ndata: {{\"count\": {count}}}\n\n")
                        .as_bytes(),
                );
            }
        }
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    wait_until("five stored", || home.history().len() == 5);
    let status = app_status(&home);
    // Four counts clamped to a million each; the negative one is a message.
    assert_eq!(status["unread"], 4_000_001, "{status}");
    drop(app);
    // It starts again, and counts the same.
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("the app answering", || app_status_or_none(&home).is_some());
    assert_eq!(app_status(&home)["unread"], 4_000_001);
    let weights: Vec<_> = home
        .history()
        .iter()
        .map(|entry| entry["unread_weight"].as_u64().expect("a weight"))
        .collect();
    assert_eq!(weights, [1_000_000, 1_000_000, 1_000_000, 1_000_000, 1]);
}

#[test]
fn an_empty_id_names_nothing_and_a_server_counting_from_one_again_is_heard() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let body: &[u8] = match index {
            // `id` with no value resets the last event id: these name no
            // event, and none is a replay of another.
            0 => b"retry: 500\nid: 1\ndata: run one, 1\n\nid: 2\ndata: run one, 2\n\nid\ndata: reset a\n\nid:\ndata: reset b\n\nid:\ndata: reset b\n\n",
            // The server restarted and counts from 1 again, with new data;
            // and one true replay of an event already stored.
            _ => b"id: 1\ndata: run two, 1\n\nid: 2\ndata: run one, 2\n\ndata: marker\n\n",
        };
        let _ = stream.write_all(body);
        if index > 0 {
            hold(stream);
        }
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("the marker", || {
        stored_data(&home).contains(&"marker".to_string())
    });
    assert_eq!(
        stored_data(&home),
        [
            "run one, 1",
            "run one, 2",
            "reset a",
            "reset b",
            "reset b",
            "run two, 1",
            "marker"
        ]
    );
}

#[test]
fn an_oversized_id_is_never_sent_back() {
    let huge = "7".repeat(100 * 1024);
    let sent = huge.clone();
    let server = FaultServer::start(move |index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        if index == 0 {
            let _ =
                stream.write_all(format!("retry: 500\nid: {sent}\ndata: big id\n\n").as_bytes());
        } else {
            let _ = stream.write_all(b"data: after\n\n");
            hold(stream);
        }
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    wait_until("the second event", || home.history().len() == 2);
    assert!(
        !server
            .request(1)
            .to_ascii_lowercase()
            .contains("last-event-id"),
        "{}",
        &server.request(1)[..200.min(server.request(1).len())]
    );
    drop(app);
    // Nor after a restart: it was never the resume point.
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("a third connection", || server.connections() >= 3);
    assert!(!server
        .request(2)
        .to_ascii_lowercase()
        .contains("last-event-id"));
    // Nor a dedupe key: the id names nothing.
    assert!(home.history()[0]["event_id"].is_null());
}

#[test]
fn a_server_refusing_the_resume_point_is_asked_again_without_it() {
    // Refused while the request carries the id, as a proxy's header limit
    // or a server that cannot find the id would.
    let refusals = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = refusals.clone();
    let server = FaultServer::start_with_head(move |index, head, stream| {
        if index == 0 {
            let _ = stream.write_all(STREAM_HEAD.as_bytes());
            let _ = stream.write_all(b"id: 41\ndata: first\n\n");
        } else if head.to_ascii_lowercase().contains("last-event-id") {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = stream.write_all(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n",
            );
        } else {
            let _ = stream.write_all(STREAM_HEAD.as_bytes());
            let _ = stream.write_all(b"data: heard again\n\n");
            hold(stream);
        }
    });
    let home = AppHome::new();
    let client = home.spawn(&[
        "listen",
        &server.url(),
        "--json",
        "--retry-ms",
        "200",
        "--http-error-retry-ms",
        "300",
        "--max-events",
        "2",
    ]);
    assert_eq!(client.next_event()["data"], "first");
    assert_eq!(client.next_event()["data"], "heard again");
    assert_eq!(
        refusals.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "two refusals, then without the id"
    );
    client.wait_stderr("the server refused the resume point");
}

#[test]
fn the_user_can_reset_the_resume_point_with_the_app_running_or_not() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(format!("id: {index}\ndata: connection {index}\n\n").as_bytes());
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    wait_until("the first event", || home.history().len() == 1);
    // Running: the app forgets it and reconnects at once without it.
    let (code, _, stderr) = home.run(&["reset-resume"]);
    assert_eq!(code, 0, "{stderr}");
    wait_until("a reconnect", || server.connections() >= 2);
    assert!(!server
        .request(1)
        .to_ascii_lowercase()
        .contains("last-event-id"));
    wait_until("the second event", || home.history().len() == 2);
    drop(app);
    // Not running: the store forgets it, and the next start sends none.
    let (code, _, stderr) = home.run(&["reset-resume"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("starts from now"), "{stderr}");
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("a third connection", || server.connections() >= 3);
    assert!(!server
        .request(2)
        .to_ascii_lowercase()
        .contains("last-event-id"));
}

#[test]
fn redirects_carry_secrets_only_to_the_same_origin() {
    let elsewhere = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"data: from elsewhere\n\n");
        hold(stream);
    });
    let target = elsewhere.url();
    let origin = FaultServer::start_with_head(move |index, head, stream| {
        let reply = if head.starts_with("GET /stream ") {
            match index {
                0 => {
                    let _ = stream.write_all(STREAM_HEAD.as_bytes());
                    let _ = stream.write_all(b"id: 9\ndata: first\n\n");
                    return;
                }
                // Same origin: the token and the id go along.
                _ => "HTTP/1.1 307 Temporary Redirect\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n".to_string(),
            }
        } else {
            // Another origin: they must not.
            format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n")
        };
        let _ = stream.write_all(reply.as_bytes());
    });
    let home = AppHome::new();
    let client = home.spawn(&[
        "listen",
        &origin.url(),
        "--json",
        "--retry-ms",
        "200",
        "-H",
        "X-Token: secret-token",
        "--max-events",
        "2",
    ]);
    assert_eq!(client.next_event()["data"], "first");
    assert_eq!(client.next_event()["data"], "from elsewhere");
    let moved = origin.request(2).to_ascii_lowercase();
    assert!(moved.starts_with("get /moved "), "{moved}");
    assert!(moved.contains("x-token: secret-token"), "{moved}");
    assert!(moved.contains("last-event-id: 9"), "{moved}");
    let other = elsewhere.request(0).to_ascii_lowercase();
    assert!(!other.contains("secret-token"), "{other}");
    assert!(!other.contains("last-event-id"), "{other}");
    assert!(other.contains("accept: text/event-stream"), "{other}");
}

#[test]
fn a_redirect_from_https_down_to_http_is_refused() {
    let plain = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"data: downgraded\n\n");
        hold(stream);
    });
    let certificates = tempfile::tempdir().expect("temp dir");
    let (ca, _, _) = common::tls::ca_and_leaf(certificates.path());
    let port = free_port();
    let _tls = Proc::spawn(
        "https redirect",
        Command::new(python())
            .arg("-c")
            .arg(HTTPS_REDIRECT)
            .arg(port.to_string())
            .arg(certificates.path().join("leaf.pem"))
            .arg(certificates.path().join("leaf.key"))
            .arg(plain.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_port(port);
    let home = AppHome::new();
    // Without its CA, the certificate is refused, in words.
    let untrusted = home.spawn(&[
        "listen",
        &format!("https://127.0.0.1:{port}/stream"),
        "--retry-ms",
        "200",
    ]);
    untrusted.wait_stderr(
        "Certificate not trusted: it is signed by an authority this computer does not know",
    );
    drop(untrusted);
    let client = home.spawn(&[
        "listen",
        &format!("https://127.0.0.1:{port}/stream"),
        "--ca-file",
        ca.to_str().expect("path"),
        "--http-error-retry-ms",
        "300",
    ]);
    client.wait_stderr("it goes from https down to plain http");
    assert_eq!(plain.connections(), 0, "the http server was never asked");
}

/// An https server that redirects every request to plain http.
const HTTPS_REDIRECT: &str = r#"
import http.server, ssl, sys
port, cert, key, target = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()
server = http.server.HTTPServer(("127.0.0.1", port), Redirect)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

#[test]
fn a_greeting_comment_then_timer_pings_keeps_one_connection() {
    // ": hello" at once, the first ping 250 ms later, then one a second.
    // Learnt from the first gap, the watchdog would cut the stream after
    // 0.75 s of silence, before each next ping.
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b": hello\n\n");
        std::thread::sleep(Duration::from_millis(250));
        for _ in 0..5 {
            if stream.write_all(b": ping\n\n").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1000));
        }
        // Still the same connection after five pings: say so.
        let _ = stream.write_all(b"data: still here\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    let client = home.spawn(&["listen", &server.url(), "--json", "--retry-ms", "200"]);
    assert_eq!(client.next_event()["data"], "still here");
    assert_eq!(server.connections(), 1, "{:?}", client.drain_stderr());
}

#[test]
fn events_over_the_size_setting_are_dropped_and_the_stream_goes_on() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(format!("data: {}\n\n", "x".repeat(2000)).as_bytes());
        // Exactly the setting: the field name does not count.
        let _ = stream.write_all(format!("data: {}\n\n", "z".repeat(1024)).as_bytes());
        // The type counts with the data: 1000 and 100 are over.
        let _ = stream.write_all(
            format!("event: {}\ndata: {}\n\n", "t".repeat(1000), "w".repeat(100)).as_bytes(),
        );
        let _ = stream.write_all(format!("data: {}\n\n", "y".repeat(500)).as_bytes());
        let _ = stream.write_all(b"data: marker\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    home.set("max_event_bytes", "1024");
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("the marker", || {
        stored_data(&home).contains(&"marker".to_string())
    });
    let sizes: Vec<_> = stored_data(&home).iter().map(String::len).collect();
    assert_eq!(sizes, [1024, 500, 6]);
}

/// The running app's status, through its socket.
fn app_status(home: &AppHome) -> serde_json::Value {
    app_status_or_none(home).expect("the app answers")
}

fn app_status_or_none(home: &AppHome) -> Option<serde_json::Value> {
    let (code, stdout, _) = home.run(&["status", "--json"]);
    (code == 0)
        .then(|| serde_json::from_str(&stdout).ok())
        .flatten()
}

/// A server that sends one numbered event each time it is told to.
fn numbered_events() -> (FaultServer, std::sync::mpsc::Sender<u32>) {
    let (send, events) = std::sync::mpsc::channel::<u32>();
    let events = std::sync::Mutex::new(Some(events));
    let server = FaultServer::start(move |_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.flush();
        let Some(events) = events.lock().expect("lock").take() else {
            hold(stream);
            return;
        };
        for n in events {
            if stream
                .write_all(format!("id: {n}\ndata: event {n}\n\n").as_bytes())
                .is_err()
            {
                return;
            }
        }
    });
    (server, send)
}

fn stored_data(home: &AppHome) -> Vec<String> {
    home.history()
        .iter()
        .map(|entry| entry["data"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_store_that_cannot_be_opened_at_start_keeps_events_until_it_can() {
    let (server, events) = numbered_events();
    let home = AppHome::new();
    home.set("server_url", &server.url());
    // A folder where the database file should be: it cannot be opened.
    std::fs::create_dir_all(home.database()).expect("folder");
    let app = home.spawn(&["run", "--headless"]);
    wait_until("the app answering", || app_status_or_none(&home).is_some());
    let problem = app_status(&home)["store_problem"].clone();
    assert!(
        problem
            .as_str()
            .is_some_and(|text| text.starts_with("History unavailable")),
        "{problem}"
    );
    wait_until("connected", || server.connections() >= 1);
    for n in 1..=3 {
        events.send(n).expect("send");
    }
    wait_until("three events waiting", || {
        app_status(&home)["store_problem"]
            .as_str()
            .is_some_and(|text| text.contains("3 new event(s) wait"))
    });
    // The folder goes: the store opens, and what waited is written in order.
    std::fs::remove_dir(home.database()).expect("remove");
    wait_until("the problem gone", || {
        app_status(&home)["store_problem"].is_null()
    });
    assert_eq!(stored_data(&home), ["event 1", "event 2", "event 3"]);
    events.send(4).expect("send");
    wait_until("the next event", || stored_data(&home).len() == 4);
    drop(app);
}

#[test]
fn a_store_locked_at_run_time_keeps_events_and_writes_them_when_free() {
    let (server, events) = numbered_events();
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    wait_until("connected", || server.connections() >= 1);
    events.send(1).expect("send");
    wait_until("the first event", || stored_data(&home).len() == 1);
    // Another writer holds the database's write lock (longer than the
    // app's busy timeout), as a stuck tool would.
    let mut lock = Command::new(python())
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             conn.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             sys.stdin.readline()\n\
             conn.execute('ROLLBACK')\n",
        )
        .arg(home.database())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(lock.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("locked");
    assert_eq!(line.trim(), "locked");
    events.send(2).expect("send");
    events.send(3).expect("send");
    wait_until("the problem reported", || {
        app_status(&home)["store_problem"]
            .as_str()
            .is_some_and(|text| text.contains("wait in memory"))
    });
    // Still running, still answering, nothing written yet.
    assert_eq!(stored_data(&home), ["event 1"]);
    drop(lock.stdin.take());
    lock.wait().expect("unlocked");
    wait_until("the problem gone", || {
        app_status(&home)["store_problem"].is_null()
    });
    assert_eq!(stored_data(&home), ["event 1", "event 2", "event 3"]);
    drop(app);
}

#[test]
fn a_broken_settings_file_leaves_a_running_app_that_says_what_is_wrong() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"data: connected after the fix\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    let config = home.dir.path().join("config/ssetray/settings.toml");
    std::fs::create_dir_all(config.parent().expect("folder")).expect("folder");
    let broken = "server_url = \"http://127.0.0.1:1/stream\"\nnotifications = maybe\n";
    std::fs::write(&config, broken).expect("write");
    let app = home.spawn(&["run", "--headless"]);
    wait_until("the app answering", || app_status_or_none(&home).is_some());
    let problem = app_status(&home)["settings_problem"].clone();
    assert!(
        problem
            .as_str()
            .is_some_and(|text| text.contains("not valid TOML") && text.contains("line 2")),
        "{problem}"
    );
    // The user's file is left as it was: nothing saved over it.
    assert_eq!(std::fs::read_to_string(&config).expect("read"), broken);
    // Fixed by hand: `config set` reads it and the running app applies it.
    std::fs::write(&config, "notifications = true\n").expect("write");
    home.set("server_url", &server.url());
    wait_until("the event after the fix", || {
        stored_data(&home) == ["connected after the fix"]
    });
    assert!(app_status(&home)["settings_problem"].is_null());
    drop(app);
}

/// The image a login step names: the stored one for the server at `url`.
fn stored_login_image(home: &AppHome, url: &str) -> Option<Vec<u8>> {
    let db = rusqlite::Connection::open_with_flags(
        home.database(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .ok()?;
    db.query_row(
        "SELECT image_png FROM login_state WHERE server = ?1",
        [url],
        |row| row.get::<_, Option<Vec<u8>>>(0),
    )
    .ok()
    .flatten()
}

#[test]
fn images_named_by_the_server_come_once_from_its_own_origin_and_nowhere_else() {
    // A service elsewhere on this computer, which a server must never make
    // the app call (another loopback port is another origin).
    let canary = FaultServer::start(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    let canary_url = format!("http://127.0.0.1:{}/secret.png", canary.port);
    let mut jpeg = Vec::new();
    image::DynamicImage::new_rgb8(40, 30)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .expect("a JPEG");
    let own_port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let port = own_port.clone();
    let to_canary = canary_url.clone();
    let server = FaultServer::start_with_head(move |_, head, stream| {
        let path = head.split_whitespace().nth(1).unwrap_or_default();
        let own = format!("http://127.0.0.1:{}", port.get().copied().unwrap_or(0));
        match path {
            "/redirect.png" => {
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 302 Found\r\nLocation: {to_canary}\r\nContent-Length: 0\r\n\r\n"
                    )
                    .as_bytes(),
                );
            }
            "/me.jpg" => {
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        jpeg.len()
                    )
                    .as_bytes(),
                );
                let _ = stream.write_all(&jpeg);
            }
            _ => {
                let _ = stream.write_all(STREAM_HEAD.as_bytes());
                let steps = [
                    format!(r#"{{"type": "confirm_login", "uuid": "u", "extra": "{to_canary}"}}"#),
                    format!(
                        r#"{{"type": "logged_in", "uuid": "u", "user": {{"name": "A", "avatar": "{own}/redirect.png"}}}}"#
                    ),
                    format!(
                        r#"{{"type": "logged_in", "uuid": "u", "user": {{"name": "B", "avatar": "{own}/me.jpg"}}}}"#
                    ),
                ];
                for (id, step) in steps.iter().enumerate() {
                    let _ = stream
                        .write_all(format!("id: {id}\nevent: login\ndata: {step}\n\n").as_bytes());
                }
                hold(stream);
            }
        }
    });
    own_port.set(server.port).expect("set once");
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    // Both refusals are said in the log, and the last step's image stored.
    let refusals = || -> Vec<String> {
        app.drain_stderr()
            .into_iter()
            .filter(|line| line.contains("login image not shown"))
            .collect()
    };
    wait_until("both refusals logged", || refusals().len() >= 2);
    for said in refusals() {
        assert!(said.contains("is refused"), "{said}");
    }
    wait_until("the avatar stored", || {
        stored_login_image(&home, &server.url()).is_some()
    });
    let png = stored_login_image(&home, &server.url()).expect("stored");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "written anew as a PNG"
    );
    let decoded = image::load_from_memory(&png).expect("a PNG");
    assert_eq!((decoded.width(), decoded.height()), (40, 30));
    assert_eq!(canary.connections(), 0, "the canary was called");
    let paths: Vec<String> = (0..server.connections())
        .map(|index| server.request(index))
        .filter(|head| !head.starts_with("GET /stream"))
        .collect();
    assert_eq!(paths.len(), 2, "each image asked for once: {paths:?}");
}

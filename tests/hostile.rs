//! Hostile and sloppy servers, and a store or settings file that fails:
//! scripted servers against the real `ssetray listen` and
//! `ssetray run --headless`. Nothing a server sends may make the app
//! hammer it, lose or drop events, lock itself out, or stop starting.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use ssetray::protocol::sse::client::MIN_RETRY;

#[test]
fn retry_zero_on_a_stream_that_ends_connects_at_most_twice_a_second() {
    // The stampede case: `retry: 0` and the stream closed at once, with and
    // without an event each time. The client's floor is `MIN_RETRY`, and a
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
    // Each connection is recorded before the server ends it, and the client
    // waits after the end: every gap between two connections is longer
    // than the client's wait, whatever the machine's load. A client that
    // hammered would show gaps below the floor.
    let with_event_gaps = with_event.gaps_between_connections(4);
    for gap in &with_event_gaps {
        assert!(
            *gap >= MIN_RETRY,
            "reconnected after {gap:?}: {with_event_gaps:?}"
        );
    }
    // Without events it backs off: the floor, then about twice, four times...
    let silent_gaps = silent.gaps_between_connections(4);
    for gap in &silent_gaps {
        assert!(
            *gap >= MIN_RETRY,
            "reconnected after {gap:?}: {silent_gaps:?}"
        );
    }
    assert!(
        silent_gaps[2] >= 2 * MIN_RETRY,
        "no backoff without an event: {silent_gaps:?}"
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
        // The sleeps pace what this server sends (the scenario), they are
        // no wait of the test's: it waits for the event at the end.
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
    // The state says so in its own words, with the count and the limit.
    let said = app_status(&home)["state_text"].clone();
    assert_eq!(
        said.as_str(),
        Some(
            format!(
                "Connected to 127.0.0.1:{}; 2 events over the size limit (1 KiB of data, type and id) dropped; raise max_event_bytes to keep such events",
                server.port
            )
            .as_str()
        ),
        "{said}"
    );
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
    // Each step is sent once the test has seen the one before handled: a
    // newer step supersedes an older one's image.
    let (next_step, steps_asked) = std::sync::mpsc::channel::<()>();
    let steps_asked = std::sync::Mutex::new(steps_asked);
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
                    if steps_asked.lock().expect("lock").recv().is_err() {
                        return;
                    }
                    let _ = stream
                        .write_all(format!("id: {id}\nevent: login\ndata: {step}\n\n").as_bytes());
                    let _ = stream.flush();
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
    for refused in 1..=2 {
        next_step.send(()).expect("the server waits");
        wait_until("the refusal logged", || refusals().len() >= refused);
    }
    next_step.send(()).expect("the server waits");
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

/// Bytes a terminal would act on: ESC, and C1 controls (U+0080 to U+009F)
/// once decoded, DEL, and direction overrides.
fn acts_on_a_terminal(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

#[test]
fn server_text_never_reaches_a_terminal_raw() {
    // A type name, an id and data that retitle the terminal (OSC), clear it
    // (CSI, as ESC [ and as the C1 character), write a hyperlink and turn
    // the text around.
    let hostile = FaultServer::start(|index, stream| {
        if index > 1 {
            // The app's connections: not an event stream, with a content
            // type that carries C1 controls into the state.
            let _ = stream.write_all(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\u{9b}2J\u{9d}0;owned\r\n\r\n"
                    .as_bytes(),
            );
            return;
        }
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(
            "event: bad\u{1b}]0;owned\u{7}type\nid: 7\u{1b}[2J\ndata: a\u{9b}2Jb\u{1b}]8;;http://x\u{1b}\\link\u{7f}\u{202e}gnp.exe\ndata: second line\r\n\n"
                .as_bytes(),
        );
    });
    let home = AppHome::new();
    // `listen`: the event line and the state after it.
    let mut listen = home.spawn(&["listen", &hostile.url(), "--max-events", "1", "--store"]);
    let line = listen.next_line();
    assert_eq!(acts_on_a_terminal(&line), None, "{line:?}");
    assert!(line.contains("bad\\x1b]0;owned\\x07type"), "{line}");
    assert!(line.contains("(id 7\\x1b[2J)"), "{line}");
    assert!(line.contains("a\\u{9b}2Jb"), "{line}");
    assert!(line.contains("\\u{202e}gnp.exe"), "{line}");
    assert_eq!(listen.wait_exit(), 0);
    for line in listen.drain_stderr() {
        assert_eq!(acts_on_a_terminal(&line), None, "{line:?}");
    }
    // `--json` stays exact JSON, every such character escaped.
    let mut json = home.spawn(&["listen", &hostile.url(), "--json", "--max-events", "1"]);
    let raw = json.next_line();
    assert_eq!(acts_on_a_terminal(&raw), None, "{raw:?}");
    let event: serde_json::Value = serde_json::from_str(&raw).expect("JSON");
    assert_eq!(event["type"], "bad\u{1b}]0;owned\u{7}type");
    assert!(event["data"]
        .as_str()
        .is_some_and(|data| data.contains("a\u{9b}2Jb")));
    assert_eq!(json.wait_exit(), 0);
    // `history`, as rows and as JSON.
    let (code, rows, _) = home.run(&["history"]);
    assert_eq!(code, 0);
    assert_eq!(acts_on_a_terminal(&rows), None, "{rows:?}");
    assert!(rows.contains("bad\\x1b]0;owned\\x07type"), "{rows}");
    let (_, rows, _) = home.run(&["history", "--json"]);
    assert_eq!(acts_on_a_terminal(&rows), None, "{rows:?}");
    // `status` and `subscriptions` with the app on the server whose
    // content type carries controls.
    home.set("server_url", &hostile.url());
    let _app = home.spawn(&["run", "--headless"]);
    wait_until("the content type in the state", || {
        app_status_or_none(&home).is_some_and(|status| {
            status["state_text"]
                .as_str()
                .is_some_and(|text| text.contains("not an event stream"))
        })
    });
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["subscriptions"],
        &["subscriptions", "--json"],
    ] {
        let (code, out, err) = home.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(acts_on_a_terminal(&out), None, "{args:?}: {out:?}");
        assert!(out.contains("text/html"), "{args:?}: {out}");
    }
}

#[test]
fn a_settings_path_that_is_not_a_file_is_refused_in_words_and_the_app_starts() {
    let home = AppHome::new();
    let config = home.dir.path().join("config/ssetray/settings.toml");
    std::fs::create_dir_all(config.parent().expect("folder")).expect("folder");
    let made = Command::new("mkfifo")
        .arg(&config)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // Nothing hangs: the command line and the app both say what it is.
    let (code, _, err) = home.run(&["config", "get", "notifications"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("named pipe") && err.contains("settings.toml"),
        "{err}"
    );
    let app = home.spawn(&["run", "--headless"]);
    wait_until("the app answering", || app_status_or_none(&home).is_some());
    let problem = app_status(&home)["settings_problem"].clone();
    assert!(
        problem
            .as_str()
            .is_some_and(|text| text.contains("named pipe")
                && text.contains("Move")
                && text.contains("settings.toml")),
        "{problem}"
    );
    drop(app);

    // A symbolic link out of the folder, to another user's file.
    std::fs::remove_file(&config).expect("remove");
    std::os::unix::fs::symlink("/etc/hostname", &config).expect("symlink");
    let (code, _, err) = home.run(&["config", "get", "notifications"]);
    assert_ne!(code, 0);
    assert!(err.contains("symbolic link out of its folder"), "{err}");
    // Inside the folder, a link is followed.
    std::fs::remove_file(&config).expect("remove");
    let real = config.with_file_name("real.toml");
    std::fs::write(&real, "notifications = false\n").expect("write");
    std::os::unix::fs::symlink(&real, &config).expect("symlink");
    let (code, out, err) = home.run(&["config", "get", "notifications"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "false");

    // The history as a FIFO: the app runs, keeps events in memory, says so.
    let database = home.database();
    let _ = std::fs::remove_dir_all(database.parent().expect("folder"));
    std::fs::create_dir_all(database.parent().expect("folder")).expect("folder");
    let made = Command::new("mkfifo")
        .arg(&database)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let (code, _, err) = home.run(&["history"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("named pipe") && err.contains("history.db"),
        "{err}"
    );
    let app = home.spawn(&["run", "--headless"]);
    wait_until("the store's problem said", || {
        app_status_or_none(&home).is_some_and(|status| status.to_string().contains("named pipe"))
    });
    drop(app);
}

#[test]
fn the_command_line_never_waits_forever_on_an_app_that_does_not_answer() {
    let home = AppHome::new();
    // Something holds the app's socket and lock but never answers: an app
    // stuck on its one thread, as it was on a settings FIFO.
    let folder = home.dir.path().join("ssetray");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::set_permissions(&folder, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("mode");
    let _listener =
        std::os::unix::net::UnixListener::bind(folder.join("ssetray.sock")).expect("bind");
    let mut status = home.spawn(&["status"]);
    let said = status.wait_stderr("does not answer");
    assert!(
        said.iter().any(|line| line.contains("start it again")),
        "{said:?}"
    );
    assert_ne!(status.wait_exit(), 0);
}

#[test]
fn an_oversized_response_head_and_a_redirect_loop_are_said_in_their_own_words() {
    let huge_head = FaultServer::start(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n");
        let header = format!("X-Padding: {}\r\n", "a".repeat(8000));
        for _ in 0..100 {
            if stream.write_all(header.as_bytes()).is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"\r\n");
        hold(stream);
    });
    let home = AppHome::new();
    let head = home.spawn(&["listen", &huge_head.url(), "--json"]);
    head.wait_stderr("the server's response head (status line and headers) is over the size limit");

    let looping = FaultServer::start_with_head(|_, head, stream| {
        let to = if head.starts_with("GET /stream ") {
            "/a"
        } else if head.starts_with("GET /a ") {
            "/b"
        } else {
            "/stream"
        };
        let reply = format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
        let _ = stream.write_all(reply.as_bytes());
    });
    let redirect = home.spawn(&["listen", &looping.url(), "--json"]);
    let said = redirect.wait_stderr("redirects in a loop");
    let port = looping.port;
    assert!(
        said.iter().any(|line| line.contains(&format!(
            "http://127.0.0.1:{port}/stream → http://127.0.0.1:{port}/a → http://127.0.0.1:{port}/b → http://127.0.0.1:{port}/stream"
        ))),
        "{said:?}"
    );
}

#[test]
fn a_server_on_the_internet_cannot_redirect_the_stream_into_this_computer() {
    // Another service on this computer, which must never be asked.
    let canary = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"data: from the inside\n\n");
    });
    let inside = canary.url();
    // The server plays one on the internet: debug builds count the
    // loopback address 127.0.0.2 as public when told to.
    let public = FaultServer::start_at("127.0.0.2", move |_, _, stream| {
        let reply =
            format!("HTTP/1.1 302 Found\r\nLocation: {inside}\r\nContent-Length: 0\r\n\r\n");
        let _ = stream.write_all(reply.as_bytes());
    });
    let home = AppHome::new();
    let mut command = home.command();
    command
        .args(["listen", &public.url(), "--json"])
        .env("SSETRAY_TEST_PUBLIC_ADDRESSES", "127.0.0.2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let refused = Running::new(Proc::spawn("ssetray", &mut command));
    refused.wait_stderr("leads from a server on the internet to this computer or its network");
    drop(refused);
    assert_eq!(canary.connections(), 0);
    // The same redirect from a server at home is followed, as before.
    let home_client = home.spawn(&["listen", &public.url(), "--json", "--max-events", "1"]);
    assert_eq!(home_client.next_event()["data"], "from the inside");
}

/// A PNG of `width` × `height` pixels, all clear: a small file that
/// decodes to `width` × `height` × 4 bytes.
fn png_of_nothing(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::new_rgba8(width, height)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG");
    png
}

/// A line of /proc/PID/status, as a number (`Threads`, or `VmHWM` in kB).
fn process_status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The stored login image's size, once there is one.
fn stored_image_size(home: &AppHome, url: &str) -> Option<(u32, u32)> {
    let png = stored_login_image(home, url)?;
    let picture = image::load_from_memory(&png).ok()?;
    Some((picture.width(), picture.height()))
}

#[test]
fn a_flood_of_login_images_is_fetched_one_at_a_time_and_the_newest_kept() {
    // 150 login steps, each naming its own image at the server's origin,
    // n + 1 pixels wide. The server counts the image requests it serves at
    // once: each answer takes a moment, and a request stops counting just
    // before its last byte goes, so that the next one the app could send
    // only after this one's end is never counted beside it.
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    const STEPS: u32 = 150;
    let serving = std::sync::Arc::new(AtomicUsize::new(0));
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    let own_port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let (port, counting, seen, requests) = (
        own_port.clone(),
        serving.clone(),
        most.clone(),
        asked.clone(),
    );
    let server = FaultServer::start_with_head(move |_, head, stream| {
        let path = head.split_whitespace().nth(1).unwrap_or_default();
        if let Some(n) = path
            .strip_prefix("/image/")
            .and_then(|rest| rest.strip_suffix(".png"))
            .and_then(|n| n.parse::<u32>().ok())
        {
            requests.fetch_add(1, SeqCst);
            let now = counting.fetch_add(1, SeqCst) + 1;
            seen.fetch_max(now, SeqCst);
            let body = png_of_nothing(n + 1, 1);
            let mut answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            answer.extend_from_slice(&body);
            // Long enough that answers overlap when the app asks for many.
            std::thread::sleep(Duration::from_millis(20));
            let (most_of_it, last) = answer.split_at(answer.len() - 1);
            let _ = stream.write_all(most_of_it);
            let _ = stream.flush();
            counting.fetch_sub(1, SeqCst);
            let _ = stream.write_all(last);
            return;
        }
        let own = format!("http://127.0.0.1:{}", port.get().copied().unwrap_or(0));
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let mut steps = String::new();
        for n in 0..STEPS {
            steps.push_str(&format!(
                "id: {n}\nevent: login\ndata: {{\"type\": \"confirm_login\", \"uuid\": \"u\", \"extra\": \"{own}/image/{n}.png\"}}\n\n"
            ));
        }
        let _ = stream.write_all(steps.as_bytes());
        hold(stream);
    });
    own_port.set(server.port).expect("set once");
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let _app = home.spawn(&["run", "--headless"]);
    wait_until(
        "the newest step's image stored, or requests at once",
        || most.load(SeqCst) > 1 || stored_image_size(&home, &server.url()) == Some((STEPS, 1)),
    );
    let (most, asked) = (most.load(SeqCst), asked.load(SeqCst));
    assert_eq!(most, 1, "{most} image requests at once ({asked} in all)");
    assert_eq!(home.history().len(), STEPS as usize);
}

#[test]
fn inline_images_that_decode_to_16_mib_each_take_one_thread_at_a_time() {
    // 24 QR steps in a row, each a PNG of under 200 kB that decodes to
    // 2048 × 2048 pixels (16 MiB, the most a decode may take); the last is
    // 2048 × 2000, to tell it apart once shrunk to 1024 × 1000.
    use base64::Engine as _;
    let encode = |png: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(png);
    let bomb = encode(png_of_nothing(2048, 2048));
    let last = encode(png_of_nothing(2048, 2000));
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    // Sent once the test has counted the app's threads at rest.
    let (go, gone) = std::sync::mpsc::channel::<()>();
    let gone = std::sync::Mutex::new(gone);
    let server = FaultServer::start(move |_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.flush();
        if gone.lock().expect("lock").recv().is_err() {
            return;
        }
        for n in 0..24 {
            let qr = if n == 23 { &last } else { &bomb };
            let _ = stream.write_all(
                format!("id: {n}\nevent: login\ndata: {{\"type\": \"scan_qr_code\", \"uuid\": \"u{n}\", \"extra\": \"{qr}\"}}\n\n")
                    .as_bytes(),
            );
        }
        hold(stream);
    });
    let home = AppHome::new();
    home.set("server_url", &server.url());
    let app = home.spawn(&["run", "--headless"]);
    let pid = app.proc.child.id();
    wait_until("connected", || {
        app.drain_stderr()
            .iter()
            .any(|line| line.contains("Connected to"))
    });
    let idle_threads = process_status(pid, "Threads");
    go.send(()).expect("the server waits");
    let mut most_threads = idle_threads;
    wait_until("the newest step's image stored, or more threads", || {
        most_threads = most_threads.max(process_status(pid, "Threads"));
        most_threads > idle_threads + 1
            || stored_image_size(&home, &server.url()) == Some((1024, 1000))
    });
    // The app's own threads, and one to decode on.
    assert!(
        most_threads <= idle_threads + 1,
        "{most_threads} threads while decoding, {idle_threads} before"
    );
    let peak_kb = process_status(pid, "VmHWM");
    assert!(
        peak_kb < 150_000,
        "the app's peak resident memory: {peak_kb} kB"
    );
    eprintln!("threads: {idle_threads} idle, at most {most_threads}; peak RSS {peak_kb} kB");
}

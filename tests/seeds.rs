//! Against the other seed server shapes: sse-starlette under uvicorn (seed
//! 002's FastAPI variant), a plain Flask generator with ids (its Flask
//! variant), and the Redis chat room (seed 003).

mod common;

use common::*;

#[test]
fn sse_starlette_crlf_events_and_ping_comments() {
    let port = free_port();
    // Pings between the events: several before each event.
    let _server = start_starlette(port, &[("EVENT_INTERVAL", "0.5"), ("PING_INTERVAL", "0.2")]);
    let home = AppHome::new();
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = home.spawn(&["listen", &url, "--json", "--max-events", "5"]);
    for n in 1..=5 {
        let event = client.next_event();
        assert_eq!(event["type"], "message");
        // CRLF line endings leave no stray CR in the data, and the ping
        // comments between the events are no events.
        assert_eq!(event["data"], n.to_string());
    }
    // The pings were read as heartbeats: their interval was learnt.
    client.wait_stderr("the server sends a heartbeat every 0.2 s");
}

#[test]
fn sse_starlette_gone_silent_is_detected_by_its_missing_pings() {
    let port = free_port();
    let server = start_starlette(
        port,
        &[
            ("EVENT_INTERVAL", "0.1"),
            ("EVENT_COUNT", "2"),
            ("PING_INTERVAL", "0.4"),
        ],
    );
    let home = AppHome::new();
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = home.spawn(&["listen", &url, "--json", "--retry-ms", "200"]);
    assert_eq!(client.next_event()["data"], "1");
    assert_eq!(client.next_event()["data"], "2");
    // Only pings now. Once the client has learnt their interval from a few
    // (it says so), freeze the server: the socket stays open, but nothing
    // comes any more, as with a dead peer.
    client.wait_stderr("the server sends a heartbeat every");
    server.signal("STOP");
    client.wait_stderr("Connection lost (no answer for");
    server.signal("CONT");
    // The reconnect gets a fresh stream.
    assert_eq!(client.next_event()["data"], "1");
}

#[test]
fn flask_generator_ids_resume_with_last_event_id() {
    let port = free_port();
    let _server = start_script(
        "flask_generator.py",
        port,
        &[("EVENT_INTERVAL", "0.02"), ("DROP_AFTER", "5")],
    );
    let home = AppHome::new();
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = home.spawn(&[
        "listen",
        &url,
        "--json",
        "--retry-ms",
        "100",
        "--max-events",
        "12",
    ]);
    for n in 1..=12 {
        let event = client.next_event();
        assert_eq!(event["id"], n.to_string());
        assert_eq!(event["data"], n.to_string());
    }
    let seen: Vec<Option<String>> = serde_json::from_str(&http_get(port, "/ids-seen")).unwrap();
    assert_eq!(seen[0], None);
    assert_eq!(seen[1].as_deref(), Some("5"));
    assert_eq!(seen[2].as_deref(), Some("10"));
}

#[test]
fn listen_resumes_from_a_given_last_event_id() {
    let port = free_port();
    let _server = start_script("flask_generator.py", port, &[("EVENT_INTERVAL", "0.02")]);
    let home = AppHome::new();
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = home.spawn(&[
        "listen",
        &url,
        "--json",
        "--last-event-id",
        "41",
        "--max-events",
        "1",
    ]);
    assert_eq!(client.next_event()["id"], "42");
}

#[test]
fn chat_room_lines_arrive_as_plain_text() {
    let redis = Redis::start();
    let port = free_port();
    let _chat = start_script("chat_app.py", port, &[("REDIS_URL", &redis.url())]);
    let home = AppHome::new();
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = home.spawn(&["listen", &url, "--json", "--max-events", "2"]);
    wait_until("a chat subscriber", || {
        http_get(port, "/subscribers").trim() == "1"
    });
    http_post_form(port, "/post", "user=ada&message=hello");
    http_post_form(
        port,
        "/post",
        "user=eve&message=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
    );
    let first = client.next_event();
    assert_eq!(first["type"], "message");
    assert!(
        first["data"].as_str().unwrap().ends_with("] ada: hello"),
        "{first}"
    );
    let second = client.next_event();
    assert!(
        second["data"]
            .as_str()
            .unwrap()
            .ends_with("] eve: <img src=x onerror=alert(1)>"),
        "{second}"
    );
}

//! Faults no real server produces on demand, from a scripted HTTP server,
//! against the real `ssetray listen` binary.

mod common;

use std::io::Write;

use common::*;

fn listen(home: &AppHome, url: &str, extra: &[&str]) -> Running {
    let mut args = vec![
        "listen",
        url,
        "--json",
        "--retry-ms",
        "200",
        "--http-error-retry-ms",
        "300",
    ];
    args.extend_from_slice(extra);
    home.spawn(&args)
}

#[test]
fn status_204_stops_for_good_and_exits_zero() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    });
    let home = AppHome::new();
    let mut client = listen(&home, &server.url(), &[]);
    assert_eq!(client.wait_exit(), 0);
    let stderr = client.drain_stderr().join("\n");
    assert!(
        stderr.contains("Stopped: the server asked to stop"),
        "{stderr}"
    );
    assert_eq!(server.connections(), 1, "no reconnect after 204");
}

#[test]
fn errors_5xx_and_wrong_content_type_are_retried_until_a_stream_opens() {
    let server = FaultServer::start(|index, stream| {
        let reply: &[u8] = match index {
            0 => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
            1 => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
            2 => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<h1>maintenance</h1>",
            3 => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            _ => {
                let _ = stream.write_all(STREAM_HEAD.as_bytes());
                let _ = stream.write_all(b"data: finally\n\n");
                hold(stream);
                return;
            }
        };
        let _ = stream.write_all(reply);
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "1"]);
    let event = client.next_event();
    assert_eq!(event["data"], "finally");
    let stderr = client.drain_stderr().join("\n");
    for reason in [
        "HTTP 500 Internal Server Error",
        "HTTP 503 Service Unavailable",
        "not an event stream: text/html",
        "HTTP 404 Not Found",
    ] {
        assert!(stderr.contains(reason), "missing {reason:?} in {stderr}");
    }
    assert!(
        !stderr.contains("maintenance"),
        "the HTML page is not dispatched"
    );
}

#[test]
fn a_connection_dropped_mid_event_discards_it_and_resumes_from_the_last_id() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        if index == 0 {
            let _ = stream.write_all(b"id: 1\ndata: one\n\nid: 2\ndata: tw");
            let _ = stream.flush();
            // Dropped here, in the middle of event 2.
        } else {
            let _ = stream.write_all(b"id: 2\ndata: two\n\ndata: three\n\n");
            hold(stream);
        }
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "3"]);
    let events: Vec<_> = (0..3).map(|_| client.next_event()).collect();
    assert_eq!(events[0]["data"], "one");
    assert_eq!(events[1]["data"], "two");
    assert_eq!(events[2]["data"], "three");
    // The last event id is kept across the reconnect, as in Chromium.
    assert_eq!(events[2]["id"], "2");
    let second = server.request(1).to_ascii_lowercase();
    assert!(second.contains("last-event-id: 1\r\n"), "{second}");
    let first = server.request(0).to_ascii_lowercase();
    assert!(!first.contains("last-event-id"), "{first}");
    assert!(first.contains("accept: text/event-stream"), "{first}");
    assert!(first.contains("cache-control: no-cache"), "{first}");
}

#[test]
fn the_server_retry_field_sets_the_reconnection_time() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        if index == 0 {
            let _ = stream.write_all(b"retry: 1000\ndata: first\n\n");
        } else {
            let _ = stream.write_all(b"data: second\n\n");
            hold(stream);
        }
    });
    let home = AppHome::new();
    // The default reconnection time here is 3 s; the server asks for 1 s.
    let client = home.spawn(&["listen", &server.url(), "--json", "--max-events", "2"]);
    assert_eq!(client.next_event()["data"], "first");
    assert_eq!(client.next_event()["data"], "second");
    let stderr = client.drain_stderr().join("\n");
    assert!(
        stderr.contains("Retrying in 1 s: the server closed the stream"),
        "{stderr}"
    );
}

#[test]
fn a_stalled_socket_after_heartbeats_is_found_and_reconnected() {
    let server = FaultServer::start(|index, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        if index == 0 {
            // Heartbeats every 300 ms, then silence with the socket open.
            // The sleep paces what this server sends (the scenario); the
            // test waits for the events.
            for _ in 0..4 {
                let _ = stream.write_all(b": ping\n\n");
                let _ = stream.flush();
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
            let _ = stream.write_all(b"data: before the stall\n\n");
            hold(stream);
        } else {
            let _ = stream.write_all(b"data: after the stall\n\n");
            hold(stream);
        }
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "2"]);
    assert_eq!(client.next_event()["data"], "before the stall");
    assert_eq!(client.next_event()["data"], "after the stall");
    let stderr = client.drain_stderr().join("\n");
    assert!(
        stderr.contains("Connection lost (no answer for"),
        "{stderr}"
    );
}

#[test]
fn a_quiet_stream_without_heartbeats_is_not_cut() {
    // Flask-SSE sends nothing between events; no read timeout may cut it.
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"data: hello\n\n");
        let _ = stream.flush();
        // The silence is the scenario, paced by this server; the test
        // waits for the event after it.
        std::thread::sleep(std::time::Duration::from_secs(4));
        let _ = stream.write_all(b"data: still here\n\n");
        hold(stream);
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "2"]);
    assert_eq!(client.next_event()["data"], "hello");
    assert_eq!(client.next_event()["data"], "still here");
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_flood_of_ten_thousand_events_arrives_whole_and_in_order() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let mut body = String::new();
        for n in 0..10_000 {
            body.push_str(&format!(
                "id: {n}\nevent: notification\ndata: {{\"count\": {n}}}\n\n"
            ));
        }
        let _ = stream.write_all(body.as_bytes());
        hold(stream);
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "10000"]);
    for n in 0..10_000 {
        let event = client.next_event();
        assert_eq!(event["id"], n.to_string());
        assert_eq!(event["data"], format!("{{\"count\": {n}}}"));
    }
}

#[test]
fn invalid_utf8_bom_and_unknown_fields_do_not_drop_the_connection() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ =
            stream.write_all(b"\xEF\xBB\xBFfoo: bar\n\ndata: a\xFFb\r\n\r\nevent: x\ndata: ok\r\r");
        hold(stream);
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "2"]);
    assert_eq!(client.next_event()["data"], "a\u{FFFD}b");
    let second = client.next_event();
    assert_eq!(second["type"], "x");
    assert_eq!(second["data"], "ok");
    assert_eq!(server.connections(), 1);
}

#[test]
fn an_oversized_event_is_skipped_and_the_stream_goes_on() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let big = "x".repeat(2 * 1024 * 1024);
        let _ = stream.write_all(format!("data: {big}\n\ndata: small\n\n").as_bytes());
        hold(stream);
    });
    let home = AppHome::new();
    let client = listen(&home, &server.url(), &["--max-events", "1"]);
    assert_eq!(client.next_event()["data"], "small");
    assert_eq!(server.connections(), 1);
}

#[test]
fn bad_urls_and_headers_are_usage_errors() {
    let home = AppHome::new();
    let (code, _, stderr) = home.run(&["listen", "ftp://example.com/x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("http(s)"), "{stderr}");
    let (code, _, stderr) = home.run(&["listen", "http://127.0.0.1:1/", "-H", "no colon"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Name: value"), "{stderr}");
}

#[test]
fn extra_headers_and_redirects() {
    let server = FaultServer::start(|index, stream| {
        if index == 0 {
            let _ = stream
                .write_all(b"HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n");
        } else {
            let _ = stream.write_all(STREAM_HEAD.as_bytes());
            let _ = stream.write_all(b"data: moved here\n\n");
            hold(stream);
        }
    });
    let home = AppHome::new();
    let client = listen(
        &home,
        &server.url(),
        &["--max-events", "1", "-H", "Authorization: Bearer t0ken"],
    );
    assert_eq!(client.next_event()["data"], "moved here");
    let second = server.request(1);
    assert!(second.starts_with("GET /moved "), "{second}");
    assert!(
        second.contains("Bearer t0ken"),
        "same-origin redirect keeps the header: {second}"
    );
}

#[test]
fn network_failures_are_said_in_a_users_words() {
    // Nothing listens on this port: refused.
    let port = free_port();
    let home = AppHome::new();
    let url = format!("http://127.0.0.1:{port}/stream");
    let client = listen(&home, &url, &[]);
    let seen = client.wait_stderr("ssetray: Retrying in");
    // The state says it in words; the error chain goes to the log only.
    let state = seen
        .iter()
        .find(|line| line.starts_with("ssetray: Retrying"))
        .expect("a state line");
    assert!(
        state.contains("Server unreachable: it refused the connection"),
        "{state}"
    );
    assert!(!state.contains("tcp connect error"), "{state}");
    assert!(
        seen.iter().any(|line| line.contains("tcp connect error")),
        "{seen:?}"
    );
    // A name that does not resolve.
    let client = listen(&home, "http://nonexistent.invalid/stream", &[]);
    client.wait_stderr("Server not found: its name does not resolve");
}

//! The local connection's behaviour, the same over each platform's
//! transport (a Unix socket, a named pipe).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use super::connection::MAX_CONNECTIONS;
use super::*;

async fn start(dir: &Path) -> (PathBuf, mpsc::Receiver<Incoming>, broadcast::Sender<String>) {
    let path = transport::address_in(dir);
    let Bound::Listener(listener) = bind(&path).await.unwrap() else {
        panic!("nothing else runs")
    };
    let (requests_tx, requests) = mpsc::channel(8);
    let (events, _) = broadcast::channel(8);
    tokio::spawn(serve(listener, requests_tx, events.clone()));
    (path, requests, events)
}

/// Answers `MarkAllRead` with Ok, anything else with an error naming it.
fn answer(mut requests: mpsc::Receiver<Incoming>) {
    tokio::spawn(async move {
        while let Some(incoming) = requests.recv().await {
            let reply = match incoming.request {
                Request::MarkAllRead => Reply::Ok,
                other => Reply::Error {
                    message: format!("{other:?}"),
                },
            };
            let _ = incoming.reply.send(reply);
        }
    });
}

#[tokio::test]
async fn requests_replies_events_and_single_instance() {
    let dir = tempfile::tempdir().unwrap();
    let (path, requests, events) = start(dir.path()).await;
    assert!(matches!(bind(&path).await.unwrap(), Bound::AlreadyRunning));
    answer(requests);
    let mut client = Client::connect(&path).await.unwrap();
    assert_eq!(
        client.request(&Request::MarkAllRead).await.unwrap(),
        Reply::Ok
    );
    assert_eq!(
        client.request(&Request::Subscribe).await.unwrap(),
        Reply::Ok
    );
    events.send("\"hello\"".to_string()).unwrap();
    assert_eq!(
        client.next_line().await.unwrap().trim(),
        "\"\\\"hello\\\"\""
    );
}

#[tokio::test]
async fn a_request_split_around_live_events_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (path, requests, events) = start(dir.path()).await;
    answer(requests);
    let mut client = Client::connect(&path).await.unwrap();
    assert_eq!(
        client.request(&Request::Subscribe).await.unwrap(),
        Reply::Ok
    );
    // Half a request, then events sent meanwhile, then the rest: the
    // half already read must not be lost when the event is written.
    client.send_raw(b"{\"request\":\"mark_").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    events.send("one".into()).unwrap();
    assert!(client.next_line().await.unwrap().contains("one"));
    client.send_raw(b"all_read\"}\n").await.unwrap();
    let reply: Reply = serde_json::from_str(&client.next_line().await.unwrap()).unwrap();
    assert_eq!(reply, Reply::Ok);
}

#[tokio::test]
async fn a_subscriber_that_lags_is_told_to_catch_up_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _requests, events) = start(dir.path()).await;
    let mut client = Client::connect(&path).await.unwrap();
    assert_eq!(
        client.request(&Request::Subscribe).await.unwrap(),
        Reply::Ok
    );
    // Twice the channel's room, before the subscriber reads a line.
    for n in 0..16 {
        events.send(format!("event {n}")).unwrap();
    }
    let mut lines = Vec::new();
    while !lines.iter().any(|line: &String| line.contains("event 15")) {
        lines.push(client.next_line().await.unwrap());
    }
    assert!(
        lines.iter().any(|line| line.contains("\"lagged\"")),
        "{lines:?}"
    );
    // And it still gets what comes next.
    events.send("after".into()).unwrap();
    assert!(client.next_line().await.unwrap().contains("after"));
}

#[tokio::test]
async fn clients_over_the_limit_are_told_so_and_others_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let (path, requests, _events) = start(dir.path()).await;
    answer(requests);
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        let mut client = Client::connect(&path).await.unwrap();
        // A round trip, so the server has taken this one's slot.
        assert_eq!(
            client.request(&Request::MarkAllRead).await.unwrap(),
            Reply::Ok
        );
        held.push(client);
    }
    let mut over = Client::connect(&path).await.unwrap();
    let refused = over.next_line().await.unwrap();
    assert!(refused.contains("busy"), "{refused}");
    held.pop();
    // A slot is free again once a client leaves.
    let mut again = None;
    for _ in 0..100 {
        let mut client = Client::connect(&path).await.unwrap();
        if let Ok(Reply::Ok) = client.request(&Request::MarkAllRead).await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(again.is_some(), "served once a slot was free");
}

#[tokio::test]
async fn malformed_and_oversized_requests_are_refused_without_harm() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _requests, _events) = start(dir.path()).await;
    let mut client = Client::connect(&path).await.unwrap();
    client.send_raw(b"{not json\n").await.unwrap();
    let reply: Reply = serde_json::from_str(&client.next_line().await.unwrap()).unwrap();
    assert!(matches!(reply, Reply::Error { ref message } if message.starts_with("not a request")));
    let huge = vec![b'x'; MAX_LINE + 10];
    client.send_raw(&huge).await.unwrap();
    let reply: Reply = serde_json::from_str(&client.next_line().await.unwrap()).unwrap();
    assert!(matches!(reply, Reply::Error { ref message } if message.contains("bytes")));
    // The server goes on serving others.
    let mut other = Client::connect(&path).await.unwrap();
    other.send_raw(b"[]\n").await.unwrap();
    assert!(other.next_line().await.unwrap().contains("error"));
}

/// Which variant a live event is. A variant added to [`WindowEvent`] fails
/// to compile here until it has its number, and then the test below until
/// it has its example, the fixture its tag, and the page its handler.
fn variant_number(event: &WindowEvent) -> usize {
    match event {
        WindowEvent::Stored(_) => 0,
        WindowEvent::State { .. } => 1,
        WindowEvent::LoginChanged(_) => 2,
        WindowEvent::Status(_) => 3,
        WindowEvent::ShowView(_) => 4,
        WindowEvent::Lagged(_) => 5,
    }
}
const VARIANTS: usize = 6;

fn one_live_event_of_each_kind() -> Vec<WindowEvent> {
    let entry = serde_json::from_value(serde_json::json!({
        "id": 7, "subscription": "work", "event_type": "message", "kind": "message",
        "received_at_ms": 1_700_000_000_000_i64, "read": false, "unread_weight": 1,
        "title": "Build", "text": "passed", "link": "https://example.com/b/7",
        "link_host": "example.com"
    }))
    .unwrap();
    let status = serde_json::from_value(serde_json::json!({
        "state": {"state": "open", "host": "example.com"},
        "state_text": "Connected to example.com", "summary": "Connected", "unread": 3,
        "paused_until_ms": 1_700_000_000_000_i64, "pause_text": "until 14:30",
        "server": "https://example.com/stream", "demo": false, "since_ms": 1,
        "last_event_ms": null, "events_received": 2, "bytes_received": 9, "reconnects": 0,
        "settings_problem": null, "store_problem": null, "tray_problem": null,
        "subscriptions": [{"name": "work", "server": "https://example.com/stream",
            "state": {"state": "open", "host": "example.com"},
            "state_text": "Connected to example.com", "since_ms": 1, "last_event_ms": null,
            "events_received": 2, "reconnects": 0}]
    }))
    .unwrap();
    vec![
        WindowEvent::Stored(Box::new(entry)),
        WindowEvent::State {
            subscription: "work".into(),
            state: crate::protocol::sse::ConnectionState::Offline { detail: None },
        },
        WindowEvent::LoginChanged(Some("work".into())),
        WindowEvent::LoginChanged(None),
        WindowEvent::Status(Box::new(status)),
        WindowEvent::ShowView(View::Settings),
        WindowEvent::Lagged(12),
    ]
}

#[test]
fn every_live_event_reads_back_as_itself_and_the_page_knows_each_tag() {
    let events = one_live_event_of_each_kind();
    let mut seen: Vec<usize> = events.iter().map(variant_number).collect();
    seen.dedup();
    assert_eq!(
        seen,
        (0..VARIANTS).collect::<Vec<_>>(),
        "an example of each"
    );
    let mut tags = Vec::new();
    for event in events {
        let line = serde_json::to_string(&event).unwrap();
        assert_eq!(decode_window_event(&line), Ok(event), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let tag = value["type"].as_str().unwrap().to_string();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    // The page's table is checked against the same list by its own test
    // (tests/js/live.test.mjs).
    assert_eq!(
        tags,
        names_the_page_knows("WindowEvent"),
        "tests/js/rust-names.json must list WindowEvent's tags, in its order"
    );
}

/// What tests/js/rust-names.json lists under `key`: names Rust gives on
/// the wire that the page must know, each checked by a node test too.
fn names_the_page_knows(key: &str) -> Vec<String> {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/rust-names.json");
    let names: std::collections::HashMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    names[key].clone()
}

#[test]
fn the_page_knows_each_connection_state_by_its_name() {
    use crate::protocol::sse::ConnectionState;
    // A state added fails to compile here until it has an example.
    let number = |state: &ConnectionState| match state {
        ConnectionState::Connecting => 0,
        ConnectionState::Open { .. } => 1,
        ConnectionState::Retrying { .. } => 2,
        ConnectionState::Stopped { .. } => 3,
        ConnectionState::Offline { .. } => 4,
    };
    let states = [
        ConnectionState::Connecting,
        ConnectionState::Open {
            host: "a".into(),
            dropped: None,
        },
        ConnectionState::Retrying {
            delay_ms: 1,
            reason: "r".into(),
            detail: None,
            certificate: None,
        },
        ConnectionState::Stopped { reason: "r".into() },
        ConnectionState::Offline { detail: None },
    ];
    assert_eq!(
        states.iter().map(number).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    let tags: Vec<String> = states
        .iter()
        .map(|state| {
            serde_json::to_value(state).unwrap()["state"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(tags, names_the_page_knows("ConnectionState"));
}

#[test]
fn a_line_that_is_no_live_event_is_an_error() {
    for line in [
        r#"{"type":"exploded","value":1}"#,
        r#"{"type":"lagged"}"#,
        r#"{"type":"show_view","value":"elsewhere"}"#,
        r#"{"value":3}"#,
        "not json",
        "",
    ] {
        let decoded = decode_window_event(line);
        assert!(
            decoded
                .as_ref()
                .is_err_and(|error| error.starts_with("not a live event")),
            "{line}: {decoded:?}"
        );
    }
}

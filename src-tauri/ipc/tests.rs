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

//! Several subscriptions at once, against real servers: two Flask-SSE
//! channels on one server (Redis behind it) and an sse-starlette server,
//! beside a scripted one that answers 503. Through the command line that
//! scripts use (`subscribe`, `subscriptions`, `unsubscribe`, `history
//! --subscription`), with the app running and without.

mod common;

use std::io::Write;

use common::*;
use serde_json::{json, Value};

fn subscriptions(home: &AppHome) -> Vec<Value> {
    let (code, stdout, stderr) = home.run(&["subscriptions", "--json"]);
    assert_eq!(code, 0, "subscriptions: {stderr}");
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect()
}

fn state_of(home: &AppHome, name: &str) -> String {
    subscriptions(home)
        .into_iter()
        .find(|line| line["name"] == name)
        .and_then(|line| line["state_text"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The history rows of one subscription (`--subscription`), or all.
fn rows(home: &AppHome, subscription: Option<&str>) -> Vec<Value> {
    let mut args = vec!["history", "--json", "--limit", "1000"];
    if let Some(name) = subscription {
        args.extend(["--subscription", name]);
    }
    let (code, stdout, stderr) = home.run(&args);
    assert_eq!(code, 0, "history: {stderr}");
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect()
}

fn subscribe(home: &AppHome, args: &[&str]) {
    let mut all = vec!["subscribe"];
    all.extend_from_slice(args);
    let (code, _, stderr) = home.run(&all);
    assert_eq!(code, 0, "subscribe {args:?}: {stderr}");
}

#[test]
fn channels_and_servers_side_by_side_one_failing_and_one_added_and_removed() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let starlette_port = free_port();
    let _starlette = start_starlette(
        starlette_port,
        &[("EVENT_INTERVAL", "0.3"), ("EVENT_COUNT", "3")],
    );
    let failing = FaultServer::start(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    });
    let home = AppHome::new();
    // A settings file of one server, as before subscriptions, read as one.
    home.set("server_url", &flask.stream_url());
    assert_eq!(subscriptions(&home).len(), 1);
    let broadcast = format!("127.0.0.1:{}", flask.port);
    subscribe(&home, &[&flask.stream_url(), "--channel", "user.42"]);
    let user = format!("{broadcast}/user.42");
    subscribe(
        &home,
        &[
            &format!("http://127.0.0.1:{starlette_port}/stream"),
            "--name",
            "starlette",
        ],
    );
    subscribe(&home, &[&failing.url(), "--name", "down"]);
    let names: Vec<Value> = subscriptions(&home)
        .iter()
        .map(|line| line["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!(broadcast),
            json!(user),
            json!("starlette"),
            json!("down")
        ]
    );
    let text = std::fs::read_to_string(home.dir.path().join("config/ssetray/settings.toml"))
        .expect("settings");
    assert!(
        text.contains("[[subscriptions]]"),
        "written in the new form: {text}"
    );

    let _app = home.spawn(&["run", "--headless"]);
    flask.wait_for_subscribers("sse", 1);
    flask.wait_for_subscribers("user.42", 1);
    flask.publish(json!({"data": {"body": "to everyone"}, "type": "message", "id": "b1"}));
    flask.publish(json!({"data": {"body": "to user 42"}, "type": "message", "id": "u1", "channel": "user.42"}));
    // The 503 one retries on its own; the others deliver meanwhile.
    wait_until("every working subscription delivered", || {
        let all = rows(&home, None);
        let from = |name: &str| all.iter().filter(|row| row["subscription"] == name).count();
        from(&broadcast) == 1 && from(&user) == 1 && from("starlette") == 3
    });
    wait_until("the failing one says why", || {
        state_of(&home, "down").contains("HTTP 503")
    });
    assert!(state_of(&home, &broadcast).starts_with("Connected"));
    // Each channel's event is tagged with its own subscription, and only
    // there.
    let user_rows = rows(&home, Some(&user));
    assert_eq!(user_rows.len(), 1);
    assert!(user_rows[0]["data"]
        .as_str()
        .unwrap_or_default()
        .contains("to user 42"));
    assert_eq!(rows(&home, Some("starlette")).len(), 3);
    let (code, _, stderr) = home.run(&["history", "--subscription", "nobody"]);
    assert_eq!(
        code, 2,
        "an unknown subscription is a usage error: {stderr}"
    );

    // Added while running: connected at once, the others untouched.
    let added = FaultServer::start(|_, stream| {
        let _ = stream.write_all(STREAM_HEAD.as_bytes());
        let _ = stream.write_all(b"id: a1\ndata: from the added one\n\n");
        hold(stream);
    });
    subscribe(&home, &[&added.url(), "--name", "added"]);
    wait_until("the added one delivered", || {
        rows(&home, Some("added")).len() == 1
    });
    assert_eq!(added.connections(), 1);
    flask.publish(json!({"data": {"body": "still here"}, "type": "message", "id": "b2"}));
    wait_until("the broadcast channel still delivers", || {
        rows(&home, Some(&broadcast)).len() == 2
    });
    // Its connection was not replaced: still one listener on each channel.
    assert_eq!(
        http_get(flask.port, "/subscribers?channel=sse").trim(),
        "1",
        "the broadcast channel was not reconnected"
    );

    // Edited while running: new rules or a new name touch no connection;
    // a new channel reconnects that subscription alone.
    let (code, _, stderr) =
        home.run(&["config", "set", "subscriptions.added.rules.chat", "ignore"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = home.run(&["config", "set", "subscriptions.down.name", "staging"]);
    assert_eq!(code, 0, "{stderr}");
    wait_until("renamed", || {
        state_of(&home, "staging").contains("HTTP 503")
    });
    assert_eq!(
        added.connections(),
        1,
        "rules and a rename reconnect nothing"
    );
    let (code, _, stderr) = home.run(&["config", "set", "subscriptions.added.channel", "other"]);
    assert_eq!(code, 0, "{stderr}");
    wait_until("the edited one reconnected", || added.connections() == 2);
    assert!(
        added.request(1).starts_with("GET /stream?channel=other "),
        "{}",
        added.request(1)
    );
    assert_eq!(
        http_get(flask.port, "/subscribers?channel=sse").trim(),
        "1",
        "the others untouched"
    );

    // Removed while running: its connection goes, its history stays
    // unless asked; with --delete-history it goes too.
    let (code, _, stderr) = home.run(&["unsubscribe", "starlette"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(subscriptions(&home)
        .iter()
        .all(|line| line["name"] != "starlette"));
    let kept = rows(&home, None)
        .into_iter()
        .filter(|row| {
            row["server"]
                .as_str()
                .is_some_and(|server| server.contains(&starlette_port.to_string()))
        })
        .count();
    assert_eq!(kept, 3, "its history stays, no longer tagged");
    // Its current stream (channel "other") delivered the event again:
    // another stream, stored anew; the row of its first stream stays, as
    // that of a stream no longer subscribed to.
    let of_stream = |channel: bool| {
        rows(&home, None)
            .iter()
            .filter(|row| {
                let server = row["server"].as_str().unwrap_or_default();
                server.contains(&added.port.to_string())
                    && server.contains("channel=other") == channel
            })
            .count()
    };
    wait_until("the edited stream delivered", || of_stream(true) == 1);
    let (code, _, stderr) = home.run(&["unsubscribe", "added", "--delete-history"]);
    assert_eq!(code, 0, "{stderr}");
    wait_until("its history deleted", || of_stream(true) == 0);
    assert_eq!(of_stream(false), 1, "another stream's history is not its");
    let (code, _, stderr) = home.run(&["unsubscribe", "nobody"]);
    assert_ne!(code, 0, "unknown: {stderr}");
    assert!(stderr.contains("no subscription"), "{stderr}");
}

#[test]
fn subscribing_without_the_app_edits_the_file_and_refuses_doubles() {
    let home = AppHome::new();
    subscribe(&home, &["https://example.com/stream"]);
    subscribe(
        &home,
        &[
            "https://example.com/stream",
            "--channel",
            "news",
            "-H",
            "X-Token: s3cret",
        ],
    );
    let lines = subscriptions(&home);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["name"], "example.com");
    assert_eq!(lines[1]["name"], "example.com/news");
    assert_eq!(lines[1]["state_text"], Value::Null, "no app runs");
    let (_, value, _) = home.run(&[
        "config",
        "get",
        "subscriptions.example.com/news.headers.X-Token",
    ]);
    assert_eq!(value.trim(), "s3cret");
    // The same stream twice, or a name taken, is refused and changes nothing.
    let (code, _, stderr) = home.run(&["subscribe", "https://example.com/stream"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("followed by another subscription"),
        "{stderr}"
    );
    let (code, _, stderr) = home.run(&[
        "subscribe",
        "https://other.example/s",
        "--name",
        "example.com",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(subscriptions(&home).len(), 2);
    let (code, _, stderr) = home.run(&["unsubscribe", "example.com"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(subscriptions(&home).len(), 1);
}

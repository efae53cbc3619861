//! Against a real Flask-SSE app (gunicorn, gevent worker) and a real Redis:
//! the server shape of seeds 000 and 001.

mod common;

use common::*;
use serde_json::json;

#[test]
fn events_published_through_redis_arrive() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    let client = home.spawn(&["listen", &flask.stream_url(), "--json", "--max-events", "2"]);
    flask.wait_for_subscribers("sse", 1);
    // Exactly what seed 001 types into redis-cli.
    redis.publish(
        "sse",
        r#"{"data": {"question": "which programming is the best?", "value": "Absolutely, Python", "who": "zml"}, "type": "new_answers"}"#,
    );
    let event = client.next_event();
    assert_eq!(event["type"], "new_answers");
    let data: serde_json::Value = serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["value"], "Absolutely, Python");
    assert_eq!(event["id"], "");
    // And through the app's own route, as the blog post's /notifications.
    http_get(flask.port, "/notifications");
    let event = client.next_event();
    assert_eq!(event["type"], "new_answers");
    assert!(event["data"].as_str().unwrap().contains("Absolutely, PHP"));
}

#[test]
fn sse_publish_with_type_id_and_retry_and_the_seed_000_events() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    let client = home.spawn(&["listen", &flask.stream_url(), "--json", "--max-events", "3"]);
    flask.wait_for_subscribers("sse", 1);
    flask
        .publish(json!({"data": {"count": 3}, "type": "notification", "id": "n-1", "retry": 1500}));
    flask.publish(json!({"data": {"type": "scan_qr_code", "uuid": "abc", "extra": "iVBORw0KGgo="}, "type": "login"}));
    flask.publish(json!({"data": "plain text", "type": null}));
    let first = client.next_event();
    assert_eq!(first["type"], "notification");
    assert_eq!(first["data"], r#"{"count": 3}"#);
    assert_eq!(first["id"], "n-1");
    let second = client.next_event();
    assert_eq!(second["type"], "login");
    // The last event id carries over to events without their own.
    assert_eq!(second["id"], "n-1");
    let third = client.next_event();
    assert_eq!(third["type"], "message");
    assert_eq!(third["data"], "plain text");
}

#[test]
fn the_channel_query_parameter_selects_a_channel() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    let url = format!("{}?channel=news", flask.stream_url());
    let client = home.spawn(&["listen", &url, "--json", "--max-events", "1"]);
    flask.wait_for_subscribers("news", 1);
    flask.publish(json!({"data": "not for us", "type": "message", "channel": "sse"}));
    flask.publish(json!({"data": "news!", "type": "message", "channel": "news"}));
    assert_eq!(client.next_event()["data"], "news!");
}

#[test]
fn restarting_flask_and_redis_the_client_reconnects() {
    let redis_port = free_port();
    let redis = Redis::start_on(redis_port);
    let flask_port = free_port();
    let flask = FlaskSse::start_on(&redis, flask_port);
    let home = AppHome::new();
    let client = home.spawn(&[
        "listen",
        &flask.stream_url(),
        "--json",
        "--retry-ms",
        "200",
        "--max-retry-ms",
        "1000",
    ]);
    flask.wait_for_subscribers("sse", 1);
    flask.publish(json!({"data": "before", "type": "message"}));
    assert_eq!(client.next_event()["data"], "before");

    // Restart Flask on the same port.
    flask.stop();
    client.wait_stderr("Retrying in");
    let flask = FlaskSse::start_on(&redis, flask_port);
    flask.wait_for_subscribers("sse", 1);
    flask.publish(json!({"data": "after flask restart", "type": "message"}));
    assert_eq!(client.next_event()["data"], "after flask restart");

    // Restart Redis: the stream breaks inside Flask; the client comes back.
    redis.stop();
    let redis = Redis::start_on(redis_port);
    // Until the app has resubscribed, publishes go nowhere: keep publishing
    // until one arrives.
    let publisher = std::thread::spawn({
        let port = flask_port;
        move || {
            for n in 0..600 {
                let reply = http_post_json(
                    port,
                    "/publish",
                    &json!({"data": format!("after redis restart {n}"), "type": "message"})
                        .to_string(),
                );
                let _ = reply;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    });
    let event = client.next_event();
    assert!(
        event["data"]
            .as_str()
            .unwrap()
            .starts_with("after redis restart"),
        "{event}"
    );
    drop(redis);
    drop(publisher);
}

#[test]
fn a_flood_through_flask_sse_arrives_whole_and_in_order() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();
    let client = home.spawn(&[
        "listen",
        &flask.stream_url(),
        "--json",
        "--max-events",
        "10000",
    ]);
    flask.wait_for_subscribers("sse", 1);
    let reply = http_post_json(
        flask.port,
        "/publish_many",
        &json!({"count": 10000, "type": "notification", "id_prefix": "f"}).to_string(),
    );
    assert!(reply.contains("ok"), "{reply}");
    for n in 0..10_000 {
        let event = client.next_event();
        assert_eq!(event["id"], format!("f{n}"), "event {n}");
    }
}

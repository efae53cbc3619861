//! "Test connection" in Settings: it connects with what the form holds
//! (URL, channel, headers) and says what it saw, against scripted servers
//! that answer 401 without the form's token, stay silent, or send a page.

mod common;

use std::io::Write;

use common::*;
use serde_json::json;
use ssetray::desktop::window::test_connection;

fn run(form: serde_json::Value) -> ssetray::desktop::window::ConnectionTest {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test_connection(form))
}

#[test]
fn the_forms_headers_and_channel_are_used_and_a_401_is_said() {
    let server = FaultServer::start_with_head(|_, head, stream| {
        let authorised = head.contains("authorization: Bearer s3cret")
            || head.contains("Authorization: Bearer s3cret");
        if authorised {
            let _ = stream.write_all(STREAM_HEAD.as_bytes());
            hold(stream);
        } else {
            let _ = stream.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let without = run(json!({"server_url": server.url()}));
    assert!(!without.ok);
    assert!(without.message.contains("HTTP 401"), "{}", without.message);
    let with = run(json!({
        "server_url": server.url(),
        "channel": "news",
        "headers": {"Authorization": "Bearer s3cret"},
    }));
    assert!(with.ok, "{}", with.message);
    assert_eq!(with.message, "Connected: an event stream.");
    assert!(
        server.request(1).starts_with("GET /stream?channel=news "),
        "{}",
        server.request(1)
    );
}

#[test]
fn a_page_is_not_an_event_stream() {
    let server = FaultServer::start(|_, stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello",
        );
    });
    let test = run(json!({"server_url": server.url()}));
    assert!(!test.ok);
    assert!(
        test.message.contains("not an event stream"),
        "{}",
        test.message
    );
}

#[test]
fn a_silent_stream_on_a_live_server_is_connected_and_a_dead_one_is_not() {
    // Flask-SSE: nothing at all on the stream until the first publish, but
    // the server answers any other request at once.
    let flask_like = FaultServer::start_with_head(|_, head, stream| {
        if head.starts_with("GET /stream") {
            hold(stream);
        } else {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let test = run(json!({"server_url": flask_like.url()}));
    assert!(test.ok, "{}", test.message);
    assert_eq!(
        test.message,
        "Connected: an event stream (no event yet; Flask-SSE sends nothing until the first publish)."
    );
    // A server that takes connections and never answers anything.
    let dead = FaultServer::start(|_, stream| hold(stream));
    let test = run(json!({"server_url": dead.url()}));
    assert!(!test.ok, "{}", test.message);
    assert!(test.message.starts_with("No answer"), "{}", test.message);
}

#[test]
fn an_invalid_form_names_the_problem() {
    let test = run(json!({"server_url": "javascript:alert(1)"}));
    assert!(!test.ok);
    assert!(test.message.contains("server_url"), "{}", test.message);
    let test = run(json!({}));
    assert!(!test.ok);
    assert!(
        test.message.starts_with("No server URL"),
        "{}",
        test.message
    );
}

//! Latency from a Redis `PUBLISH` to the event committed in the store,
//! through a real Flask-SSE app (gunicorn, gevent worker), p50 and p99 over
//! 1,000 events.
//!
//! Beside it, in the same run and for the same events, the floor: the moment
//! the event's bytes reach a bare socket reading the same stream. The
//! difference is what SSE Tray adds (parsing, interpreting, the SQLite
//! commit).
//!
//! Run: `cargo bench --no-default-features --bench publish_to_store`
//! (needs redis-server and the test peers' venv, as the tests do).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{AppHome, FlaskSse, Redis};
use ssetray::core::engine::{Engine, EngineEvent};
use ssetray::core::settings::Settings;
use ssetray::core::store::Store;
use ssetray::protocol::shutdown::Shutdown;
use ssetray::protocol::sse::Backoff;

const EVENTS: usize = 1000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = AppHome::new();

    // The engine, in process, on its own thread: the tray's shape.
    let (stored_tx, stored_rx) = mpsc::channel::<(u64, Instant)>();
    let settings = Settings::default()
        .set("server_url", &flask.stream_url())
        .expect("settings");
    let store = Store::open(&home.dir.path().join("bench.db"))
        .expect("store")
        .0;
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let (engine, handle, commands) = Engine::new(settings, store, Backoff::default());
            let mut events = handle.subscribe();
            tokio::spawn(async move {
                while let Ok(event) = events.recv().await {
                    if let EngineEvent::Stored(stored) = event {
                        let at = Instant::now();
                        let n = serde_json::from_str::<serde_json::Value>(&stored.entry.data)
                            .ok()
                            .and_then(|value| value["n"].as_u64());
                        if let Some(n) = n {
                            let _ = stored_tx.send((n, at));
                        }
                    }
                }
            });
            let _keep = handle;
            engine.run(commands, Shutdown::never()).await;
        });
    });

    // The floor: a bare socket on the same stream.
    let (raw_tx, raw_rx) = mpsc::channel::<(u64, Instant)>();
    let port = flask.port;
    std::thread::spawn(move || {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        socket.set_nodelay(true).ok();
        socket
            .write_all(
                b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
            )
            .expect("request");
        for line in BufReader::new(socket).lines() {
            let Ok(line) = line else { break };
            let at = Instant::now();
            if let Some(rest) = line.split("\"n\": ").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse() {
                    let _ = raw_tx.send((n, at));
                }
            }
        }
    });
    flask.wait_for_subscribers("sse", 2);

    let mut publisher = TcpStream::connect(("127.0.0.1", redis.port)).expect("redis");
    publisher.set_nodelay(true).ok();
    let mut replies = BufReader::new(publisher.try_clone().expect("clone"));
    let mut ours = Vec::with_capacity(EVENTS);
    let mut floor = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS as u64 {
        let message = format!("{{\"data\": {{\"n\": {n}}}, \"type\": \"message\"}}");
        let command = format!(
            "*3\r\n$7\r\nPUBLISH\r\n$3\r\nsse\r\n${}\r\n{message}\r\n",
            message.len()
        );
        let sent = Instant::now();
        publisher.write_all(command.as_bytes()).expect("publish");
        let mut reply = String::new();
        replies.read_line(&mut reply).expect("reply");
        let (raw_n, raw_at) = raw_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("raw event");
        let (stored_n, stored_at) = stored_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("stored event");
        assert_eq!((raw_n, stored_n), (n, n));
        floor.push(raw_at - sent);
        ours.push(stored_at - sent);
        std::thread::sleep(Duration::from_millis(2));
    }
    ours.sort();
    floor.sort();
    println!("PUBLISH to event, over {EVENTS} events, Flask-SSE 1.0 under gunicorn + gevent:");
    println!("| path | p50 | p99 |");
    println!("| --- | --- | --- |");
    println!(
        "| bare socket reads the bytes (floor) | {:.2} ms | {:.2} ms |",
        percentile(&floor, 0.5).as_secs_f64() * 1e3,
        percentile(&floor, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "| ssetray: parsed, interpreted, committed to SQLite | {:.2} ms | {:.2} ms |",
        percentile(&ours, 0.5).as_secs_f64() * 1e3,
        percentile(&ours, 0.99).as_secs_f64() * 1e3
    );
}

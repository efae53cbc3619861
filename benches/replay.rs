//! Nothing lost, measured: plain Flask-SSE and the server companion
//! (`companions/sse-replay`) side by side in one run, each against a real
//! Redis.
//!
//! - Publish latency: the app's `sse.publish` (a `POST /publish` to the
//!   app, which publishes in its request handler as app code does) until the
//!   event is committed in the tray's SQLite store; one event at a time, the
//!   next 2 ms after the previous one was stored. Through Flask-SSE 1.0 and
//!   the companion's Flask blueprint (each under gunicorn with one gevent
//!   worker) and the companion under sse-starlette (uvicorn). The tray's
//!   engine runs in this process on a thread of its own, as in the tray
//!   (as in `publish_to_store`), and reports each commit.
//! - Replay rate: the real `ssetray run --headless` stopped (SIGTERM),
//!   10,000 events published, the tray started again; from its start until
//!   the last of them is in its store (read-only reads of the store every
//!   5 ms): the companion's XRANGE pages, HTTP, the tray's parser, its
//!   SQLite commits. Plain Flask-SSE cannot replay: what is published while
//!   the tray is stopped never reaches it (`tests/replay.rs` shows it).
//!
//! Run: `cargo bench --no-default-features --bench replay` (a release build),
//! or add `--profile dev` for a debug build. Needs redis-server and the test
//! peers' venv, as the tests do. Prints Markdown tables.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::replay::{Framework, ReplayServer};
use common::{http_post_json, AppHome, FlaskSse, Redis, Running};
use ssetray::core::engine::{Engine, EngineEvent};
use ssetray::core::settings::Settings;
use ssetray::core::store::{HistoryQuery, Store};
use ssetray::protocol::shutdown::ShutdownSignal;
use ssetray::protocol::sse::Backoff;

const SAMPLES: usize = 1000;
const REPLAYED: usize = 10_000;
/// Each replayed event's data is `{"n": N, "pad": "xxx…"}` with this many x:
/// about 90 bytes, a typical notification's size.
const PAD: usize = 64;
const ROUNDS: usize = 3;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// The tray's engine in this process, on a thread of its own, following one
/// stream; each committed event's data and when its commit was heard.
struct InProcessTray {
    shutdown: ShutdownSignal,
    stored: mpsc::Receiver<(String, Instant)>,
    thread: std::thread::JoinHandle<()>,
}

impl InProcessTray {
    fn start(stream_url: &str, database: PathBuf) -> InProcessTray {
        let settings = Settings::default()
            .set("server_url", stream_url)
            .expect("settings");
        let (stored_tx, stored) = mpsc::channel();
        let (started_tx, started) = mpsc::channel();
        let shutdown = ShutdownSignal::new();
        let engine_shutdown = shutdown.listener("the engine");
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let store = Store::open(&database).expect("store").0;
                let (engine, handle, commands) = Engine::new(settings, store, Backoff::default());
                let _ = started_tx.send(());
                let mut events = handle.subscribe();
                tokio::spawn(async move {
                    loop {
                        match events.recv().await {
                            Ok(EngineEvent::Stored(stored)) => {
                                let at = Instant::now();
                                let _ = stored_tx.send((stored.entry.data.clone(), at));
                            }
                            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                        }
                    }
                });
                let _keep = handle;
                engine.run(commands, engine_shutdown).await;
            });
        });
        started
            .recv_timeout(Duration::from_secs(10))
            .expect("the engine started");
        InProcessTray {
            shutdown,
            stored,
            thread,
        }
    }

    fn quit(self) {
        self.shutdown.begin();
        let _ = self.thread.join();
    }
}

fn publish(port: u16, data: &str) -> String {
    let body = serde_json::json!({ "data": data, "type": "message" }).to_string();
    let reply = http_post_json(port, "/publish", &body);
    assert!(reply.contains("ok"), "publish failed: {reply}");
    reply
}

struct Latency {
    stored: Vec<Duration>,
    replied: Vec<Duration>,
}

fn publish_latency(stream_url: &str, port: u16) -> Latency {
    let home = AppHome::new();
    let tray = InProcessTray::start(stream_url, home.dir.path().join("bench.db"));
    // A stream opened without Last-Event-ID gets only what is published
    // after it opened (and Flask-SSE sends nothing before): publish until
    // the tray has one, then "ready", after which nothing else is on its way.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tray
        .stored
        .recv_timeout(Duration::from_millis(100))
        .is_err()
    {
        assert!(Instant::now() < deadline, "the tray never got an event");
        publish(port, "warm-up");
    }
    publish(port, "ready");
    while tray
        .stored
        .recv_timeout(Duration::from_secs(10))
        .expect("ready stored")
        .0
        != "ready"
    {}
    let mut stored = Vec::with_capacity(SAMPLES);
    let mut replied = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES {
        let data = format!("latency {n}");
        let sent = Instant::now();
        publish(port, &data);
        replied.push(sent.elapsed());
        let (got, at) = tray
            .stored
            .recv_timeout(Duration::from_secs(10))
            .expect("stored");
        assert_eq!(got, data);
        stored.push(at - sent);
        std::thread::sleep(Duration::from_millis(2));
    }
    tray.quit();
    stored.sort();
    replied.sort();
    Latency { stored, replied }
}

/// The newest stored event's SSE id, read as the window reads the store.
fn newest_id(store: &Store) -> Option<String> {
    let newest = store
        .history(&HistoryQuery {
            limit: 1,
            ..Default::default()
        })
        .ok()?;
    newest.into_iter().next()?.event_id
}

struct Replay {
    first: Vec<Duration>,
    all: Vec<Duration>,
}

fn replay_rate(server: &ReplayServer) -> Replay {
    let home = AppHome::new();
    home.set("server_url", &server.stream_url());
    home.set("history.keep_count", "100000");
    let mut tray: Running = home.spawn(&["run", "--headless"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let store = loop {
        if let Ok(Some(store)) = Store::open_read_only(&home.database()) {
            break store;
        }
        assert!(Instant::now() < deadline, "the tray made no store");
        std::thread::sleep(Duration::from_millis(50));
    };
    while newest_id(&store).is_none() {
        assert!(Instant::now() < deadline, "the tray never got an event");
        server.publish("warm-up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut last = server.publish("ready");
    while newest_id(&store).as_deref() != Some(last.as_str()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = home.history().len();
    let mut replay = Replay {
        first: Vec::new(),
        all: Vec::new(),
    };
    for _ in 0..ROUNDS {
        tray.proc.signal("TERM");
        assert_eq!(tray.wait_exit(), 0);
        let published = server.publish_many(REPLAYED, PAD);
        let started = Instant::now();
        tray = home.spawn(&["run", "--headless"]);
        let mut first = None;
        let goal = published.last().expect("published").clone();
        loop {
            let newest = newest_id(&store);
            if first.is_none() && newest.as_deref() != Some(last.as_str()) {
                first = Some(started.elapsed());
            }
            if newest.as_deref() == Some(goal.as_str()) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(300), "stuck");
            std::thread::sleep(Duration::from_millis(5));
        }
        replay.all.push(started.elapsed());
        replay.first.extend(first);
        last = goal;
    }
    drop(tray);
    assert_eq!(
        home.history().len(),
        before + ROUNDS * REPLAYED,
        "all stored"
    );
    replay.first.sort();
    replay.all.sort();
    replay
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let redis = Redis::start();
    let flask_sse = FlaskSse::start(&redis);
    let flask_replay = ReplayServer::start(&redis, Framework::Flask { workers: 1 }, &[]);
    let starlette_replay = ReplayServer::start(&redis, Framework::Starlette, &[]);
    let paths = [
        (
            "Flask-SSE 1.0 (gunicorn + gevent)",
            flask_sse.stream_url(),
            flask_sse.port,
        ),
        (
            "sse-replay, Flask (gunicorn + gevent)",
            flask_replay.stream_url(),
            flask_replay.port,
        ),
        (
            "sse-replay, sse-starlette (uvicorn)",
            starlette_replay.stream_url(),
            starlette_replay.port,
        ),
    ];
    let latencies: Vec<Latency> = paths
        .iter()
        .map(|(_, url, port)| publish_latency(url, *port))
        .collect();
    let replays = [replay_rate(&flask_replay), replay_rate(&starlette_replay)];

    println!(
        "Publish → committed in the tray's store, {SAMPLES} events one at a time; \
         the tray's replay of {REPLAYED} events (median of {ROUNDS}); {build} build, {}:",
        date()
    );
    println!();
    println!("| server | publish → stored p50 | p90 | p99 | publish request answered, p50 | replay of {REPLAYED}: first event stored | all stored | events/s |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (index, ((name, _, _), latency)) in paths.iter().zip(&latencies).enumerate() {
        let replay = match index {
            0 => "cannot replay | — | —".to_string(),
            _ => {
                let replay = &replays[index - 1];
                let all = percentile(&replay.all, 0.5);
                format!(
                    "{} | {} | {:.0}",
                    ms(percentile(&replay.first, 0.5)),
                    ms(all),
                    REPLAYED as f64 / all.as_secs_f64()
                )
            }
        };
        println!(
            "| {name} | {} | {} | {} | {} | {replay} |",
            ms(percentile(&latency.stored, 0.5)),
            ms(percentile(&latency.stored, 0.9)),
            ms(percentile(&latency.stored, 0.99)),
            ms(percentile(&latency.replied, 0.5)),
        );
    }
    for (name, replay) in ["Flask", "sse-starlette"].iter().zip(&replays) {
        println!(
            "\nreplay rounds, {name}: {:?}",
            replay
                .all
                .iter()
                .map(|all| format!("{:.0} events/s", REPLAYED as f64 / all.as_secs_f64()))
                .collect::<Vec<_>>()
        );
    }
}

/// Today's date (UTC), from the system's `date`.
fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default()
}

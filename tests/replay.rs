//! Nothing lost, end to end: the real `ssetray run --headless` against servers
//! that use the server companion (`companions/sse-replay`), with a real Redis.
//! The tray is stopped (SIGTERM or `kill -9`) while events are published and
//! started again: its `Last-Event-ID` gets it exactly what it missed, once and
//! in order; a stream trimmed past it gives a `resync` first; a flood of
//! 10,000 events while it was away arrives whole with the tray's and the
//! server's memory bounded. Beside them, the same steps against plain
//! Flask-SSE, which loses what was published while the tray was away.

mod common;

use std::time::{Duration, Instant};

use common::replay::{status_kb, Framework, ReplayServer};
use common::*;
use serde_json::Value;

/// The Flask-SSE blog post app after the switch, under gunicorn with several
/// gevent workers: the stream, each publish and each reconnect may be served
/// by any of them.
const FLASK: Framework = Framework::Flask { workers: 3 };

#[derive(Clone, Copy)]
enum Stop {
    /// SIGTERM: the tray ends cleanly.
    Clean,
    /// `kill -9`: no chance to write anything more.
    Kill9,
}

fn home_following(url: &str) -> AppHome {
    let home = AppHome::new();
    home.set("server_url", url);
    home
}

fn start_tray(home: &AppHome) -> Running {
    home.spawn(&["run", "--headless"])
}

fn stop_tray(mut tray: Running, how: Stop) {
    match how {
        Stop::Clean => {
            tray.proc.signal("TERM");
            assert_eq!(tray.wait_exit(), 0, "the tray ends cleanly on SIGTERM");
        }
        Stop::Kill9 => {
            tray.proc.signal("KILL");
            tray.wait_exit();
        }
    }
}

/// The newest stored entry.
fn newest(home: &AppHome) -> Option<Value> {
    let (code, stdout, stderr) = home.run(&["history", "--json", "--limit", "1"]);
    assert_eq!(code, 0, "history: {stderr}");
    stdout
        .lines()
        .next()
        .map(|line| serde_json::from_str(line).expect("history JSON"))
}

fn newest_id(home: &AppHome) -> Option<String> {
    newest(home).and_then(|entry| entry["event_id"].as_str().map(str::to_string))
}

fn event_id(entry: &Value) -> Option<&str> {
    entry["event_id"].as_str()
}

/// The stored entries after the one with SSE id `id`, oldest first.
fn entries_after(home: &AppHome, id: &str) -> Vec<Value> {
    let mut history = home.history();
    let position = history
        .iter()
        .position(|entry| event_id(entry) == Some(id))
        .unwrap_or_else(|| panic!("no stored entry has the id {id}"));
    history.split_off(position + 1)
}

/// Every SSE id in `history` once at most: nothing stored twice.
fn assert_no_id_twice(history: &[Value]) {
    let mut ids: Vec<&str> = history.iter().filter_map(event_id).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "an event was stored twice");
}

/// Wait until the tray receives `server`'s live events; the stream id of the
/// last event published before, "ready", which is then stored.
///
/// A client that connects without a `Last-Event-ID` (the tray's first start)
/// is sent only what is published after its stream opened, and the outside
/// cannot see when that was (sse-starlette sends its headers before the
/// companion reads Redis). So warm-up events are published until one is
/// stored; "ready" after them, once stored, means everything before it is.
fn until_live(home: &AppHome, server: &ReplayServer) -> String {
    let mut warm_ups = 0;
    wait_until("the tray storing a warm-up event", || {
        if newest(home).is_some() {
            return true;
        }
        server.publish(&format!("warm-up {warm_ups}"));
        warm_ups += 1;
        false
    });
    let ready = server.publish("ready");
    wait_until("the tray storing \"ready\"", || {
        newest_id(home).as_deref() == Some(ready.as_str())
    });
    ready
}

/// Wait until `done` holds for what `progress` reads; fail only when that
/// stays the same for `PATIENCE`: on a busy machine a long replay is slow,
/// not stuck, and is measured by the benchmark, not here.
fn wait_with_progress<T: PartialEq + std::fmt::Debug>(
    what: &str,
    mut progress: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) {
    let mut last = progress();
    let mut since = Instant::now();
    while !done(&last) {
        assert!(
            since.elapsed() < PATIENCE,
            "no progress towards {what} for {PATIENCE:?}; stuck at {last:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
        let now = progress();
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

/// Stop the tray while 5 events are published, start it again: the 5, then
/// a live one, each stored once and in order.
fn nothing_lost_across_a_stop(framework: Framework, how: Stop) {
    let redis = Redis::start();
    let server = ReplayServer::start(&redis, framework, &[]);
    let home = home_following(&server.stream_url());
    let tray = start_tray(&home);
    let ready = until_live(&home, &server);
    stop_tray(tray, how);

    let missed: Vec<String> = (1..=5)
        .map(|n| server.publish(&format!("missed {n}")))
        .collect();
    let tray = start_tray(&home);
    wait_until("the 5 missed events stored", || {
        entries_after(&home, &ready).len() >= 5
    });
    let live = server.publish("live after the restart");
    wait_until("the live event stored", || {
        newest_id(&home).as_deref() == Some(live.as_str())
    });

    let after = entries_after(&home, &ready);
    let ids: Vec<&str> = after.iter().filter_map(event_id).collect();
    let mut expected: Vec<&str> = missed.iter().map(String::as_str).collect();
    expected.push(&live);
    assert_eq!(
        ids, expected,
        "exactly the missed events, in order, then live"
    );
    let data: Vec<&str> = after.iter().filter_map(|e| e["data"].as_str()).collect();
    assert_eq!(
        data,
        [
            "missed 1",
            "missed 2",
            "missed 3",
            "missed 4",
            "missed 5",
            "live after the restart"
        ]
    );
    assert!(after.iter().all(|entry| entry["event_type"] == "message"));

    // Started once more, with nothing missed: the replay is empty, and what
    // comes next is stored once too.
    stop_tray(tray, how);
    let tray = start_tray(&home);
    let third = server.publish("after the third start");
    wait_until("the third start's event stored", || {
        newest_id(&home).as_deref() == Some(third.as_str())
    });
    drop(tray);
    assert_eq!(entries_after(&home, &ready).len(), 7);
    assert_no_id_twice(&home.history());
}

#[test]
fn flask_under_gunicorn_a_clean_stop_loses_nothing() {
    nothing_lost_across_a_stop(FLASK, Stop::Clean);
}

#[test]
fn flask_under_gunicorn_kill_9_loses_nothing() {
    nothing_lost_across_a_stop(FLASK, Stop::Kill9);
}

#[test]
fn starlette_a_clean_stop_loses_nothing() {
    nothing_lost_across_a_stop(Framework::Starlette, Stop::Clean);
}

#[test]
fn starlette_kill_9_loses_nothing() {
    nothing_lost_across_a_stop(Framework::Starlette, Stop::Kill9);
}

/// More published while the tray is stopped than the companion keeps: the
/// tray's last event was trimmed, so the server says `resync` first, then
/// sends what it still holds.
fn a_trimmed_stream_gives_resync_first(framework: Framework) {
    let redis = Redis::start();
    // About 20 events a channel; Redis trims in whole nodes of 100 entries.
    let server = ReplayServer::start(&redis, framework, &[("SSE_REPLAY_MAX_LENGTH", "20")]);
    let home = home_following(&server.stream_url());
    let tray = start_tray(&home);
    let ready = until_live(&home, &server);
    stop_tray(tray, Stop::Clean);

    let published = server.publish_many(300, 0);
    let last = published.last().expect("published").clone();
    let tray = start_tray(&home);
    wait_until("the last published event stored", || {
        newest_id(&home).as_deref() == Some(last.as_str())
    });
    drop(tray);

    let after = entries_after(&home, &ready);
    let resync = &after[0];
    assert_eq!(
        resync["event_type"], "resync",
        "resync comes first: {resync}"
    );
    // What the tray does with it today: a message like any other, unread,
    // without an id of its own (the server sends none, so that a client that
    // drops before the next event is told again).
    assert_eq!(resync["kind"], "message");
    assert_eq!(resync["unread_weight"], 1);
    assert_eq!(resync["event_id"], Value::Null);
    let said: Value = serde_json::from_str(resync["data"].as_str().expect("data"))
        .expect("the resync data is JSON");
    assert_eq!(said["last_event_id"], ready.as_str());
    let kept = &after[1..];
    let first_kept = event_id(&kept[0]).expect("an id");
    assert_eq!(said["oldest_id"], first_kept);
    // What follows is the tail of what was published, whole and in order,
    // without the trimmed head.
    let start = published
        .iter()
        .position(|id| id == first_kept)
        .expect("the first event after resync is one of those published");
    assert!(
        start > 0,
        "some events were trimmed: that is why it resyncs"
    );
    let kept_ids: Vec<&str> = kept.iter().filter_map(event_id).collect();
    let expected: Vec<&str> = published[start..].iter().map(String::as_str).collect();
    assert_eq!(kept_ids, expected);
    let resyncs = home
        .history()
        .iter()
        .filter(|entry| entry["event_type"] == "resync")
        .count();
    assert_eq!(resyncs, 1, "one resync, stored once");
    assert_no_id_twice(&home.history());
}

#[test]
fn flask_under_gunicorn_a_trimmed_stream_gives_resync_first() {
    a_trimmed_stream_gives_resync_first(FLASK);
}

#[test]
fn starlette_a_trimmed_stream_gives_resync_first() {
    a_trimmed_stream_gives_resync_first(Framework::Starlette);
}

/// Each flood event's data: `{"n": N, "pad": "xxx…"}` with this many x.
const FLOOD_PAD: usize = 4000;
const FLOOD: usize = 10_000;

/// A Flask app (with the companion's `settings`) and a tray that keep
/// 20,000 events (both default to about 10,000), the tray live on its
/// stream; the "ready" event's id.
fn flood_setup(
    redis: &Redis,
    settings: &[(&str, &str)],
) -> (ReplayServer, AppHome, Running, String) {
    let mut settings = settings.to_vec();
    settings.push(("SSE_REPLAY_MAX_LENGTH", "20000"));
    let server = ReplayServer::start(redis, FLASK, &settings);
    let home = home_following(&server.stream_url());
    home.set("history.keep_count", "20000");
    let tray = start_tray(&home);
    let ready = until_live(&home, &server);
    (server, home, tray, ready)
}

/// Wait until the tray has stored the last of `published`.
fn wait_for_all(home: &AppHome, published: &[String]) {
    let last = published.last().expect("published");
    wait_with_progress(
        "every published event stored",
        || newest_id(home),
        |newest| newest.as_deref() == Some(last.as_str()),
    );
}

/// The stored entries after the one with id `after` are exactly those of
/// `published` (by `publish_many`), in order, and no id is stored twice.
fn assert_stored_in_order(home: &AppHome, after: &str, published: &[String]) {
    let history = home.history();
    assert_no_id_twice(&history);
    let position = history
        .iter()
        .position(|entry| event_id(entry) == Some(after))
        .expect("the entry before them");
    let stored = &history[position + 1..];
    let ids: Vec<&str> = stored.iter().filter_map(event_id).collect();
    let expected: Vec<&str> = published.iter().map(String::as_str).collect();
    // Not assert_eq!: printing 10,000 ids helps nobody.
    assert!(ids == expected, "stored whole and in order");
    let numbers = stored.iter().filter_map(|entry| {
        let data: Value = serde_json::from_str(entry["data"].as_str()?).ok()?;
        data["n"].as_u64()
    });
    assert!(numbers.eq(0..published.len() as u64));
}

#[test]
fn a_flood_published_while_stopped_arrives_in_order_with_memory_bounded() {
    let redis = Redis::start();
    // Replay pages of 100 events (0.4 MB here) instead of 500, so that the
    // page a worker holds is small beside the bound below.
    let (server, home, tray, ready) = flood_setup(&redis, &[("SSE_REPLAY_PAGE_SIZE", "100")]);
    stop_tray(tray, Stop::Clean);

    // First a smaller replay, 3,000 events: the tray's peak with its queues
    // between connection, engine and sinks (1,024 events each) full.
    const SMALLER: usize = 3_000;
    let smaller = server.publish_many(SMALLER, FLOOD_PAD);
    let tray = start_tray(&home);
    wait_for_all(&home, &smaller);
    let smaller_peak = status_kb(tray.proc.child.id(), "VmHWM");
    stop_tray(tray, Stop::Clean);

    // Then the flood: 10,000 events, 40 MB of data.
    let published = server.publish_many(FLOOD, FLOOD_PAD);
    // The workers' peaks before the flood's replay (their start, the
    // smaller replay, the publishing, one event at a time), so that what
    // grows next is the replay's.
    let workers = server.serving_pids();
    assert_eq!(workers.len(), 3, "gunicorn's three workers");
    let worker_peaks: Vec<u64> = workers.iter().map(|&pid| status_kb(pid, "VmHWM")).collect();
    let tray = start_tray(&home);
    wait_for_all(&home, &published);
    let flood_peak = status_kb(tray.proc.child.id(), "VmHWM");
    let worker_growth: Vec<u64> = workers
        .iter()
        .zip(&worker_peaks)
        .map(|(&pid, &before)| status_kb(pid, "VmHWM").saturating_sub(before))
        .collect();
    drop(tray);
    assert_stored_in_order(&home, smaller.last().expect("published"), &published);
    assert_eq!(entries_after(&home, &ready).len(), SMALLER + FLOOD);

    // The bound: half of the data the flood has more than the smaller
    // replay (7,000 events, 28 MB). A tray whose memory followed the size of
    // the replay (reading it whole, or queueing it ahead of the store) would
    // peak at least 28 MB higher for the flood than for the smaller replay;
    // one that holds a bounded window of it peaks at the same height for
    // both. A worker that read the whole range at once would grow by 40 MB;
    // one that pages holds a page or a few (0.4 MB each). What was measured
    // is printed for the record.
    let bound = ((FLOOD - SMALLER) * FLOOD_PAD / 1024 / 2) as u64;
    eprintln!(
        "tray peak: {smaller_peak} kB replaying {SMALLER} events, {flood_peak} kB replaying \
         {FLOOD}; gunicorn workers' peak growth replaying {FLOOD}: {worker_growth:?} kB; \
         bound {bound} kB"
    );
    assert!(
        flood_peak.saturating_sub(smaller_peak) < bound,
        "the tray's peak grew with the replay: {smaller_peak} kB for {SMALLER} events, \
         {flood_peak} kB for {FLOOD}"
    );
    for growth in worker_growth {
        assert!(
            growth < bound,
            "a gunicorn worker's peak grew by {growth} kB replaying {FLOOD} events"
        );
    }
}

#[test]
fn kill_9_in_the_middle_of_a_replay_loses_nothing_and_stores_nothing_twice() {
    let redis = Redis::start();
    let (server, home, tray, ready) = flood_setup(&redis, &[]);
    stop_tray(tray, Stop::Clean);
    let published = server.publish_many(FLOOD, 0);

    let tray = start_tray(&home);
    wait_until("the replay under way", || {
        newest_id(&home).is_some_and(|id| id != ready)
    });
    stop_tray(tray, Stop::Kill9);
    let stored_at_the_kill = entries_after(&home, &ready).len();
    eprintln!("killed with {stored_at_the_kill} of {FLOOD} stored");
    assert!(
        stored_at_the_kill < FLOOD,
        "the kill came after the replay had ended ({stored_at_the_kill} stored), so this \
         tested no kill in the middle of one"
    );

    let tray = start_tray(&home);
    wait_for_all(&home, &published);
    drop(tray);
    assert_stored_in_order(&home, &ready, &published);
}

/// The same steps against plain Flask-SSE (Redis pub/sub): what is published
/// while the tray is stopped never reaches it. This is what the companion is
/// for, and shows that the steps above can tell.
#[test]
fn plain_flask_sse_loses_what_was_published_while_the_tray_was_stopped() {
    let redis = Redis::start();
    let flask = FlaskSse::start(&redis);
    let home = home_following(&flask.stream_url());
    let tray = start_tray(&home);
    flask.wait_for_subscribers("sse", 1);
    flask.publish(serde_json::json!({"data": "ready", "type": "message"}));
    wait_until("the tray storing \"ready\"", || {
        newest(&home).is_some_and(|entry| entry["data"] == "ready")
    });
    stop_tray(tray, Stop::Clean);

    for n in 1..=5 {
        flask.publish(serde_json::json!({"data": format!("missed {n}"), "type": "message"}));
    }
    let _tray = start_tray(&home);
    // Flask-SSE sends nothing, not even its headers, before the next publish,
    // and the stopped tray's subscription may linger until a write to it
    // fails: so events are published until one reaches the restarted tray.
    // Had the missed ones been kept, they would come first.
    let mut n = 0;
    wait_until("an event after the restart stored", || {
        if newest(&home).is_some_and(|entry| entry["data"] != "ready") {
            return true;
        }
        flask.publish(
            serde_json::json!({"data": format!("after the restart {n}"), "type": "message"}),
        );
        n += 1;
        false
    });
    let data: Vec<String> = home
        .history()
        .iter()
        .filter_map(|entry| entry["data"].as_str().map(str::to_string))
        .collect();
    assert_eq!(data[0], "ready");
    assert!(data[1].starts_with("after the restart"), "{data:?}");
    assert!(
        !data.iter().any(|data| data.starts_with("missed")),
        "{data:?}"
    );
}

//! The window's history queries on 10,000 stored events: the first page
//! (what opening the window runs) beside the naive way of loading every row,
//! and a full-text search, in the same run.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ssetray::core::entry_view::EntryView;
use ssetray::core::store::{HistoryQuery, NewEntry, Store};
use ssetray::protocol::clock::now_ms;
use ssetray::protocol::feed;
use ssetray::protocol::sse::SseEvent;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.db");
    let (mut store, _) = Store::open(&path).expect("store");
    let data: Vec<String> = (0..10_000)
        .map(|n| {
            format!(
                "{{\"title\": \"Build {n}\", \"body\": \"pipeline {} finished in {} s\"}}",
                n % 97,
                n % 300
            )
        })
        .collect();
    let events: Vec<_> = data
        .iter()
        .map(|d| {
            feed::interpret(&SseEvent {
                event_type: "message".into(),
                data: d.clone(),
                last_event_id: "".into(),
                has_own_id: false,
            })
        })
        .collect();
    let entries: Vec<_> = data
        .iter()
        .zip(&events)
        .map(|(d, e)| NewEntry {
            server: "http://bench/stream",
            event_type: "message",
            event_id: None,
            last_event_id: "",
            data: d,
            event: e,
            received_at_ms: now_ms(),
        })
        .collect();
    store.insert_many(&entries).expect("insert");
    let reader = Store::open_read_only(&path)
        .expect("open")
        .expect("a store");

    let mut group = c.benchmark_group("history_of_10000");
    group.bench_function("first page of 100, with display text", |b| {
        b.iter(|| {
            let page = reader
                .history(&HistoryQuery {
                    limit: 100,
                    ..Default::default()
                })
                .expect("page");
            let rows: Vec<_> = page.iter().map(EntryView::of).collect();
            black_box(rows)
        })
    });
    group.bench_function("naive: all 10,000 rows", |b| {
        b.iter(|| {
            black_box(
                reader
                    .history(&HistoryQuery {
                        limit: 100_000,
                        ..Default::default()
                    })
                    .expect("all"),
            )
        })
    });
    group.bench_function("search, FTS5", |b| {
        b.iter(|| {
            black_box(
                reader
                    .history(&HistoryQuery {
                        limit: 100,
                        search: Some("pipeline 42".into()),
                        ..Default::default()
                    })
                    .expect("search"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

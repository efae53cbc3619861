//! Parser throughput: ssetray's parser beside the `sse-stream` crate's, on
//! the same bytes in the same reads, in one run.
//!
//! Inputs: typical small JSON notifications (~60 bytes an event) and events
//! with a 1 KiB data line, cut into 8 KiB reads as a socket delivers them.

use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::Stream;
use ssetray::protocol::sse::{Item, Limits, Parser};

const EVENTS: usize = 10_000;
const READ: usize = 8 * 1024;

fn typical() -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..EVENTS {
        out.extend_from_slice(
            format!(
                "event: notification\nid: {n:06}\ndata: {{\"count\": {}, \"job\": 7}}\n\n",
                n % 100
            )
            .as_bytes(),
        );
    }
    out
}

fn kilobyte_lines() -> Vec<u8> {
    let line = "x".repeat(1024);
    let mut out = Vec::new();
    for _ in 0..EVENTS {
        out.extend_from_slice(format!("data: {line}\n\n").as_bytes());
    }
    out
}

fn ours(reads: &[Bytes]) -> usize {
    let mut parser = Parser::new(Limits::default());
    let mut events = 0;
    for read in reads {
        parser.feed(read, &mut |item| {
            if let Item::Event(event) = item {
                black_box(&event);
                events += 1;
            }
        });
    }
    events
}

fn theirs(reads: &[Bytes]) -> usize {
    let source = futures_util::stream::iter(reads.iter().cloned().map(Ok::<_, std::io::Error>));
    let mut stream = sse_stream::SseByteStream::new(source);
    let mut context = Context::from_waker(Waker::noop());
    let mut events = 0;
    // The source never waits, so polling never returns Pending.
    while let Poll::Ready(Some(item)) = Pin::new(&mut stream).poll_next(&mut context) {
        if let Ok(event) = item {
            if event.data.is_some() {
                black_box(&event);
                events += 1;
            }
        }
    }
    events
}

fn bench(c: &mut Criterion) {
    for (name, input) in [
        ("typical_60_byte_json", typical()),
        ("data_lines_1_kib", kilobyte_lines()),
    ] {
        let reads: Vec<Bytes> = input.chunks(READ).map(Bytes::copy_from_slice).collect();
        assert_eq!(ours(&reads), EVENTS);
        assert_eq!(theirs(&reads), EVENTS);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(EVENTS as u64));
        group.bench_function("ssetray", |b| b.iter(|| ours(black_box(&reads))));
        group.bench_function("sse-stream", |b| b.iter(|| theirs(black_box(&reads))));
        group.finish();
        eprintln!("{name}: {} bytes an event", input.len() / EVENTS);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

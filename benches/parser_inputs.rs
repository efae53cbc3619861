//! The parser bench's inputs and the two parsers run over them, shared by
//! `benches/parser.rs` (times) and `benches/parser_instructions.rs`
//! (instruction counts), so that both measure the same thing.
//!
//! Inputs: typical small JSON notifications (~60 bytes an event) and events
//! with a 1 KiB data line, cut into 8 KiB reads as a socket delivers them.

use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::Stream;
use ssetray::protocol::sse::{Item, Limits, Parser};

pub const EVENTS: usize = 10_000;
const READ: usize = 8 * 1024;

pub fn typical() -> Vec<u8> {
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

pub fn kilobyte_lines() -> Vec<u8> {
    let line = "x".repeat(1024);
    let mut out = Vec::new();
    for _ in 0..EVENTS {
        out.extend_from_slice(format!("data: {line}\n\n").as_bytes());
    }
    out
}

/// The input in the reads a socket would deliver.
pub fn reads(input: &[u8]) -> Vec<Bytes> {
    input.chunks(READ).map(Bytes::copy_from_slice).collect()
}

/// ssetray's parser: the events it delivers.
pub fn ours(reads: &[Bytes]) -> usize {
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

/// The `sse-stream` crate's: the events with data it delivers.
pub fn theirs(reads: &[Bytes]) -> usize {
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

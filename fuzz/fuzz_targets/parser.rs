//! The event stream parser on any bytes, split into reads anywhere: it
//! never panics, stays within its limits, and every split of the same bytes
//! gives the same items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssetray::protocol::sse::{Item, Limits, Parser};

fuzz_target!(|input: &[u8]| {
    // The first byte picks the limit (small, to reach the over-size paths
    // quickly) and where the reads split: every 1 to 7 bytes, or reads that
    // hold whole long lines, which the parser checks value by value.
    let Some((&split_seed, bytes)) = input.split_first() else {
        return;
    };
    let limits = Limits {
        max_event_bytes: if split_seed & 0x80 == 0 { 128 } else { 1024 },
    };
    let whole = Parser::parse_all(limits, bytes);
    let mut parser = Parser::new(limits);
    let mut split = Vec::new();
    let step = match split_seed & 0x7f {
        0x70..=0x77 => 300,
        0x78..=0x7f => 1500,
        seed => usize::from(seed % 7) + 1,
    };
    for read in bytes.chunks(step) {
        parser.feed(read, &mut |item| split.push(item));
    }
    assert_eq!(whole, split, "reads of {step} bytes differ from one read");
    for item in &whole {
        if let Item::Event(event) = item {
            // A type the block did not name counts nothing; a named
            // `message` counts its 7 bytes, so this may undercount it.
            let type_bytes = match &*event.event_type {
                "message" => 0,
                named => named.len(),
            };
            let size = event.data.len() + type_bytes + event.last_event_id.len();
            assert!(size <= limits.max_event_bytes, "an event of {size} bytes");
            assert!(!event.event_type.is_empty());
        }
        if let Item::Dropped { limit } = item {
            assert_eq!(*limit, limits.max_event_bytes);
        }
    }
});

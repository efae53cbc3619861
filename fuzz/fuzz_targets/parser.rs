//! The event stream parser on any bytes, split into reads anywhere: it
//! never panics, stays within its limits, and every split of the same bytes
//! gives the same items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssetray::protocol::sse::{Item, Limits, Parser};

fuzz_target!(|input: &[u8]| {
    // The first byte picks where the reads split; small limits reach the
    // over-size paths quickly.
    let Some((&split_seed, bytes)) = input.split_first() else {
        return;
    };
    let limits = Limits {
        max_line_bytes: 64,
        max_event_bytes: 128,
    };
    let whole = Parser::parse_all(limits, bytes);
    let mut parser = Parser::new(limits);
    let mut split = Vec::new();
    let step = usize::from(split_seed % 7) + 1;
    for read in bytes.chunks(step) {
        parser.feed(read, &mut |item| split.push(item));
    }
    assert_eq!(whole, split, "reads of {step} bytes differ from one read");
    for item in &whole {
        if let Item::Event(event) = item {
            assert!(event.data.len() <= limits.max_event_bytes);
            assert!(!event.event_type.is_empty());
        }
    }
});

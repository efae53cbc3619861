//! Parser throughput: ssetray's parser beside the `sse-stream` crate's, on
//! the same bytes in the same reads, in one run (inputs: `parser_inputs`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod parser_inputs;
use parser_inputs::{kilobyte_lines, ours, reads, theirs, typical, EVENTS};

fn bench(c: &mut Criterion) {
    for (name, input) in [
        ("typical_60_byte_json", typical()),
        ("data_lines_1_kib", kilobyte_lines()),
    ] {
        let reads = reads(&input);
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

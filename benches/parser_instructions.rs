//! The parser bench's inputs parsed a given number of times, for counting
//! instructions under callgrind (`scripts/bench-parser-instructions.sh`):
//! unlike times, the counts do not move with the machine's load.
//!
//!   parser-instructions typical|kib ssetray|sse-stream PASSES

mod parser_inputs;
use parser_inputs::{kilobyte_lines, ours, reads, theirs, typical, EVENTS};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, parser, passes] = args.as_slice() else {
        eprintln!("usage: parser-instructions typical|kib ssetray|sse-stream PASSES");
        std::process::exit(2);
    };
    let input = match input.as_str() {
        "typical" => typical(),
        "kib" => kilobyte_lines(),
        other => {
            eprintln!("unknown input {other}: typical or kib");
            std::process::exit(2);
        }
    };
    let parse = match parser.as_str() {
        "ssetray" => ours,
        "sse-stream" => theirs,
        other => {
            eprintln!("unknown parser {other}: ssetray or sse-stream");
            std::process::exit(2);
        }
    };
    let Ok(passes) = passes.parse::<usize>() else {
        eprintln!("PASSES is a number");
        std::process::exit(2);
    };
    let reads = reads(&input);
    for _ in 0..passes {
        assert_eq!(parse(&reads), EVENTS);
    }
}

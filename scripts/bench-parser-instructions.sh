#!/usr/bin/env bash
# Instructions ssetray's event stream parser and the sse-stream crate's
# spend on one pass over each input of the parser bench (benches/parser.rs),
# counted by valgrind's callgrind. Times move with the machine's load; these
# counts do not. A pass is a run of two passes less a run of one, so that
# building the input is not counted.
#
#   scripts/bench-parser-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build -q --release --no-default-features --example parser-instructions
binary="${CARGO_TARGET_DIR:-target}/release/examples/parser-instructions"

count() { # input, parser, passes
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$@" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-8s %-11s %s\n' input parser "instructions a pass"
for input in typical kib; do
  for parser in ssetray sse-stream; do
    one="$(count "$input" "$parser" 1)"
    two="$(count "$input" "$parser" 2)"
    printf '%-8s %-11s %s\n' "$input" "$parser" "$((two - one))"
  done
done

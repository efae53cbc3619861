#!/usr/bin/env bash
# Fuzz every decoder of outside bytes (the event stream parser, what an
# event means, local socket requests, settings files) with cargo-fuzz on the
# nightly toolchain: first the committed regression cases, then SECONDS of
# new inputs per target (default 45).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# A crash is saved by libFuzzer under fuzz/artifacts/TARGET/; once fixed,
# copy the input to fuzz/regressions/TARGET/ so that every run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-45}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(parser feed socket_request settings_file)
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: a nightly Rust toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --version 0.13.2 >&2
fi

# Builds apart from the app's, so neither invalidates the other's cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/fuzz"
# Safe Rust needs no AddressSanitizer to fail loudly: panics, overflow checks
# (debug assertions are on) and the targets' own assertions do; without it
# the build takes minutes less.
build=(--fuzz-dir fuzz --sanitizer none)
for target in "${targets[@]}"; do
  corpus="$(mktemp -d)"
  regressions="fuzz/regressions/$target"
  mkdir -p "$regressions"
  echo "== fuzz $target: the regression cases, then ${seconds} s" >&2
  if compgen -G "$regressions/*" >/dev/null; then
    cargo +nightly fuzz run "${build[@]}" "$target" "$regressions" -- -runs=0 >&2
  fi
  log="$corpus.log"
  status=0
  cargo +nightly fuzz run "${build[@]}" "$target" "$corpus" "$regressions" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
  rm -rf "$corpus"
  if [[ "$status" != 0 ]]; then
    tail -n 60 "$log" >&2
    echo "fuzz: $target failed; the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$log" >&2 || true
  rm -f "$log"
done
echo "fuzz: ${#targets[@]} target(s) ran ${seconds} s each without a failure" >&2

#!/usr/bin/env bash
# Set up and run every test: installs what is missing (system packages, the
# Python test servers' venv), checks formatting and lints for both feature
# sets, runs the core tests (no Tauri), then builds the desktop app and runs
# its tests under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
SSETRAY_TEST_PYTHON="$(bash scripts/peers-venv.sh | tail -n 1)"
export SSETRAY_TEST_PYTHON

step() { printf '\n== %s\n' "$*" >&2; }

step "format"
cargo fmt --check
step "lints, core"
cargo clippy --no-default-features --all-targets -- -D warnings
step "tests, core"
cargo test --no-default-features
step "lints, desktop"
cargo clippy --all-targets -- -D warnings
step "tests, desktop"
cargo test --test desktop
step "all tests passed"

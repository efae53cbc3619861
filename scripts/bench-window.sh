#!/usr/bin/env bash
# The window with 10,000 stored entries, in the real webview: time to the
# first history row, and from a typed search word to its row.
# Debug build; prints Markdown table rows.
set -euo pipefail
cd "$(dirname "$0")/.."
SSETRAY_TEST_PYTHON="$(bash scripts/peers-venv.sh | tail -n 1)"
export SSETRAY_TEST_PYTHON
cargo test --test ui measure_opening_and_searching_ten_thousand -- --ignored --nocapture 2>/dev/null | grep '^|'

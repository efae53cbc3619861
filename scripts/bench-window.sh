#!/usr/bin/env bash
# The window with 10,000 stored entries, in the real webview: the page's own
# timeline up to the first history rows drawn, frame times while scrolling
# through older pages, and a search from the store to its row drawn.
# Default: release build (as users run it); `debug` as the first argument for
# a quick run. Prints Markdown table rows.
set -euo pipefail
cd "$(dirname "$0")/.."
SSETRAY_TEST_PYTHON="$(bash scripts/peers-venv.sh | tail -n 1)"
export SSETRAY_TEST_PYTHON
profile=()
if [[ "${1:-release}" == release ]]; then
  profile=(--release)
fi
cargo test "${profile[@]}" --test ui measure_opening_and_searching_ten_thousand \
  -- --ignored --nocapture 2>/dev/null | grep -E '^(\||$)'

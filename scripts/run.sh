#!/usr/bin/env bash
# Set up and start SSE Tray: installs what is missing, builds, and starts the
# app. With no server configured it follows the built-in demo server, so
# something arrives within seconds; set yours with
#   target/debug/ssetray config set server_url https://example.com/stream
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --bins
exec target/debug/ssetray "$@"

#!/usr/bin/env bash
# How often a hostile server can make SSE Tray connect: two servers side by
# side in one run, each answering every request with `retry: 0` and ending
# the stream at once, one with an event each time and one without. Counts
# the connections `ssetray listen` makes to each over SECONDS (default 60).
#
#   scripts/bench-pacing.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-60}"
cargo build -q --no-default-features --bin ssetray
binary="${CARGO_TARGET_DIR:-target}/debug/ssetray"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

server() { # body, count file, port file
  exec python3 - "$1" "$2" "$3" >/dev/null <<'PY'
import socket, sys
body, count_file, port_file = sys.argv[1].encode().decode("unicode_escape").encode(), sys.argv[2], sys.argv[3]
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
open(port_file, "w").write(str(listener.getsockname()[1]))
count = 0
while True:
    connection, _ = listener.accept()
    count += 1
    open(count_file, "w").write(str(count))
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + body)
    connection.close()
PY
}

server 'retry: 0\n\n' "$work/silent.count" "$work/silent.port" &
server 'retry: 0\ndata: hello\n\n' "$work/event.count" "$work/event.port" &
for name in silent event; do
  until [[ -s "$work/$name.port" ]]; do sleep 0.05; done
done
for name in silent event; do
  SSETRAY_LOG=warn "$binary" listen "http://127.0.0.1:$(cat "$work/$name.port")/stream" >/dev/null 2>&1 &
done
sleep "$seconds"
silent="$(cat "$work/silent.count" 2>/dev/null || echo 0)"
event="$(cat "$work/event.count" 2>/dev/null || echo 0)"
printf 'connections in %s s, retry: 0 and the stream ended at once:\n' "$seconds"
printf '  with an event each time:    %s (%s a second)\n' "$event" "$(python3 -c "print(round($event/$seconds, 2))")"
printf '  without an event:           %s (%s a second)\n' "$silent" "$(python3 -c "print(round($silent/$seconds, 2))")"

#!/usr/bin/env bash
# Memory of SSE Tray's processes beside a bare Tauri 2 app, in one run.
#
# Under a private Xvfb and D-Bus session with a tray host, against a real
# Flask-SSE + Redis server, it measures the total RSS and PSS of all the
# app's processes (the tray process, the window process and WebKit's helpers
# while they live):
#   1. SSE Tray in the tray only, after 60 s;
#   2. after its window was opened and closed;
#   3. after 10,000 events;
#   4. the bare Tauri app (benches/bare_tauri.rs), window opened and closed.
# Both are built from this tree with the same profile (default: release;
# `debug` as the first argument for a quick run). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
profile="${1:-release}"
if [[ "$profile" == release ]]; then
  cargo build --release --bins --example bare-tauri >&2
else
  cargo build --bins --example bare-tauri >&2
fi
python="$(bash scripts/peers-venv.sh | tail -n 1)"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

display=":$(( (RANDOM % 300) + 400 ))"
Xvfb "$display" -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
export DISPLAY="$display" NO_AT_BRIDGE=1
sleep 1
eval "$(dbus-launch --sh-syntax)"
pids+=("$DBUS_SESSION_BUS_PID")
"$python" tests/peers/sni_watcher.py > "$work/watcher.log" & pids+=($!)
redis_port=$(( (RANDOM % 1000) + 36000 )); flask_port=$((redis_port + 1))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & pids+=($!)
REDIS_URL="redis://127.0.0.1:$redis_port/0" "$python" -m gunicorn -k gevent -w 1 --no-control-socket \
  -b "127.0.0.1:$flask_port" --chdir tests/peers flask_sse_app:app 2>/dev/null & pids+=($!)
sleep 2

export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work"
"$target/$profile/ssetray" config set server_url "http://127.0.0.1:$flask_port/stream"

# Sum RSS and PSS (kB) over a process and its descendants.
measure() {
  local root=$1 all=($1) queue=($1)
  while ((${#queue[@]})); do
    local next=()
    for pid in "${queue[@]}"; do
      for child in $(pgrep -P "$pid" || true); do all+=("$child"); next+=("$child"); done
    done
    queue=("${next[@]}")
  done
  local rss=0 pss=0
  for pid in "${all[@]}"; do
    local r p
    r="$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
    p="$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
    rss=$((rss + ${r:-0}))
    pss=$((pss + ${p:-0}))
  done
  printf '%s MB | %s MB | %s' "$(awk "BEGIN {printf \"%.1f\", $rss/1024}")" \
    "$(awk "BEGIN {printf \"%.1f\", $pss/1024}")" "${#all[@]}"
}

wait_window() { for _ in $(seq 100); do xdotool search --name "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
close_window() { xdotool search --name "$1" | while read -r id; do xdotool windowclose "$id" 2>/dev/null || true; done; }

"$target/$profile/ssetray" --hidden 2>"$work/app.log" & app=$!; pids+=($app)
sleep 60
tray_only="$(measure $app)"

"$target/$profile/ssetray" window
wait_window '^SSE Tray$'
sleep 3
close_window '^SSE Tray$'
sleep 3
after_window="$(measure $app)"

curl -s -X POST -H 'Content-Type: application/json' \
  -d '{"count": 10000, "type": "message", "id_prefix": "b"}' "http://127.0.0.1:$flask_port/publish_many" >/dev/null
for _ in $(seq 300); do
  [[ "$("$target/$profile/ssetray" history --limit 20000 | wc -l)" -ge 10000 ]] && break
  sleep 0.2
done
sleep 2
after_events="$(measure $app)"

BARE_TAURI_CLOSE_AFTER=4 "$target/$profile/examples/bare-tauri" 2>/dev/null & bare=$!; pids+=($bare)
wait_window '^Bare Tauri$'
sleep 8
bare_after="$(measure $bare)"

echo "| what | RSS | PSS | processes |"
echo "| --- | --- | --- | --- |"
echo "| SSE Tray, tray only, after 60 s | $tray_only |"
echo "| SSE Tray, after the window was opened and closed | $after_window |"
echo "| SSE Tray, after 10,000 events | $after_events |"
echo "| bare Tauri 2 app, window opened and closed | $bare_after |"

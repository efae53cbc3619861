#!/usr/bin/env bash
# The tray process's memory whatever a server sends, beside a quiet one, in
# one run.
#
#   scripts/bench-hostile-memory.sh [release|debug] [SECONDS]
#
# Under a private Xvfb and D-Bus session with a tray host, one tray process
# (`ssetray --hidden`, built as it ships: `--no-default-features --features
# tray`) per scenario, all side by side, against the hostile server
# tests/peers/hostile_stream.py (see there for what each path sends):
#   quiet    one quiet stream: the baseline
#   flood    200,000 tiny events
#   types    a new type name on every event, up to 500,000 characters
#   huge     150 events of 1 MB, each with a new 20,000-character type
#   json     150 events of 1 MB of JSON that weighs the most once parsed
#   images   four streams of login steps naming images that decode to
#            16 MiB each (fetched and inline), and 60000 x 60000 ones
#   down     the huge stream with a history that cannot be opened (a folder
#            where its file should be): everything waits in memory
#   all      all the streams at once (images on four), history down
# After SECONDS (default 180) it prints each process's peak resident
# memory (VmHWM), its resident memory then, its peak thread count seen, and
# what it received and stored by then, as a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-desktop.sh
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
profile="${1:-release}"
seconds="${2:-180}"
flags=(); [[ "$profile" == release ]] && flags=(--release)
cargo build "${flags[@]}" --no-default-features --features tray --bin ssetray >&2
python="$(bash scripts/peers-venv.sh | tail -n 1)"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cp "$target/$profile/ssetray" "$work/ssetray"

start_bench_desktop "$work" "$python"
port=$(( (RANDOM % 1000) + 37000 ))
"$python" tests/peers/hostile_stream.py "$port" > "$work/server.log" & pids+=($!)
for _ in $(seq 100); do grep -q READY "$work/server.log" && break; sleep 0.1; done
server="http://127.0.0.1:$port"

# The environment of one scenario's app, for `env`.
home() { echo "XDG_CONFIG_HOME=$work/$1/config" "XDG_DATA_HOME=$work/$1/data" "XDG_RUNTIME_DIR=$work/$1"; }
as() {
  local scenario=$1; shift
  env $(home "$scenario") "$work/ssetray" "$@"
}
follow() { as "$1" subscribe "$server/$2" --name "$2${3:-}" ${3:+--channel "$3"} >/dev/null; }

scenarios=(quiet flood types huge json images down all)
for scenario in "${scenarios[@]}"; do mkdir -p "$work/$scenario"; done
for scenario in quiet flood types huge json; do follow "$scenario" "$scenario"; done
for channel in 1 2 3 4; do follow images images "$channel"; done
follow down huge
for stream in flood types huge json; do follow all "$stream"; done
for channel in 1 2 3 4; do follow all images "$channel"; done
for scenario in down all; do mkdir -p "$work/$scenario/data/ssetray/history.db"; done

declare -A app threads
for scenario in "${scenarios[@]}"; do
  # Started by `env`, which becomes the app: its process id is the app's.
  env $(home "$scenario") "$work/ssetray" --hidden 2>"$work/$scenario/app.log" & app[$scenario]=$!; pids+=($!)
  threads[$scenario]=0
done
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
  for scenario in "${scenarios[@]}"; do
    n="$(awk '/^Threads:/ {print $2}' "/proc/${app[$scenario]}/status" 2>/dev/null || echo 0)"
    ((n > threads[$scenario])) && threads[$scenario]=$n
  done
  sleep 0.2
done

mb() { awk "BEGIN {printf \"%.1f\", $1/1024}"; }
echo "| scenario | received | events stored | peak RSS (VmHWM) | RSS at the end | threads at most |"
echo "| --- | --- | --- | --- | --- | --- |"
for scenario in "${scenarios[@]}"; do
  pid=${app[$scenario]}
  peak="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")"
  now="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
  read -r received stored < <(as "$scenario" status --json | "$python" -c \
    'import json, sys; s = json.load(sys.stdin); print(round(s["bytes_received"] / 1e6), s["events_received"])')
  echo "| $scenario | $received MB | $stored | $(mb "$peak") MB | $(mb "$now") MB | ${threads[$scenario]} |"
done

#!/usr/bin/env bash
# Memory of SSE Tray's processes beside a bare Tauri 2 app, in one run.
#
#   scripts/bench-memory.sh [release|debug] [--window-profile release|debug]
#                           [--beside REV] [--beside-binary FILE]... [--no-bare-tauri]
#
# Under a private Xvfb and D-Bus session with a tray host, against a real
# Flask-SSE + Redis server, it measures the total RSS and PSS of all the
# app's processes (the tray process, the window process and WebKit's helpers
# while they live):
#   1. SSE Tray in the tray only, after 60 s;
#   2. after its window was opened and closed;
#   3. after 10,000 events;
#   4. the bare Tauri app (benches/bare_tauri.rs), window opened and closed
#      (left out with --no-bare-tauri).
# The tray process is built as it ships (`--no-default-features --features
# tray`), the window and the bare Tauri app with the desktop feature, all
# with the same profile (default: release; `debug` for a quick run), or the
# window with the one --window-profile names (what the tray process holds
# does not depend on how the window was built).
#
# --beside REV builds the tray process of commit REV too (from `git
# archive`, into the same target folder; --beside-binary takes one built
# before, named by its file name) and measures it side by side with this
# tree's in the same run, against the same server: all get the same events,
# and all open this tree's window (the tray process is what is measured; an
# older one may not talk to it, and then shows no window: "no window").
# Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-desktop.sh
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
profile=release window_profile="" beside="" beside_binaries=() bare_tauri=1
usage="usage: $0 [release|debug] [--window-profile release|debug] [--beside REV] [--beside-binary FILE]... [--no-bare-tauri]"
while (($#)); do
  case "$1" in
    release | debug) profile="$1" ;;
    --window-profile) window_profile="$2"; shift ;;
    --beside) beside="$2"; shift ;;
    --beside-binary) beside_binaries+=("$(realpath "$2")"); shift ;;
    --no-bare-tauri) bare_tauri=0 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
window_profile="${window_profile:-$profile}"
flags=(); [[ "$profile" == release ]] && flags=(--release)
window_flags=(); [[ "$window_profile" == release ]] && window_flags=(--release)
python="$(bash scripts/peers-venv.sh | tail -n 1)"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Each build in a folder of its own, as the tray process finds the window
# binary beside itself.
this=this
variants=("$this")
mkdir -p "$work/bin/$this"
cargo build "${flags[@]}" --no-default-features --features tray --bin ssetray >&2
cp "$target/$profile/ssetray" "$work/bin/$this/"
cargo build "${window_flags[@]}" --bin ssetray-window >&2
cp "$target/$window_profile/ssetray-window" "$work/bin/$this/"
((bare_tauri)) && cargo build "${flags[@]}" --example bare-tauri >&2
if [[ -n "$beside" ]]; then
  name="$(git rev-parse --short "$beside")"
  variants+=("$name")
  mkdir -p "$work/src" "$work/bin/$name"
  git archive "$beside" | tar -x -C "$work/src"
  (cd "$work/src" && CARGO_TARGET_DIR="$target" cargo build "${flags[@]}" --no-default-features --features tray --bin ssetray >&2)
  cp "$target/$profile/ssetray" "$work/bin/$this/ssetray-window" "$work/bin/$name/"
  # The next build of this tree must not take the other's binary for its own.
  rm -f "$target/$profile/ssetray"
fi
for binary in "${beside_binaries[@]}"; do
  name="$(basename "$binary")"
  variants+=("$name")
  mkdir -p "$work/bin/$name"
  cp "$binary" "$work/bin/$name/ssetray"
  cp "$work/bin/$this/ssetray-window" "$work/bin/$name/"
done

start_bench_desktop "$work" "$python"
redis_port=$(( (RANDOM % 1000) + 36000 )); flask_port=$((redis_port + 1))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & pids+=($!)
REDIS_URL="redis://127.0.0.1:$redis_port/0" "$python" -m gunicorn -k gevent -w 1 --no-control-socket \
  -b "127.0.0.1:$flask_port" --chdir tests/peers flask_sse_app:app 2>/dev/null & pids+=($!)
sleep 2

# Run one variant's `ssetray` in its own folders.
home() {
  echo "XDG_CONFIG_HOME=$work/home/$1/config" "XDG_DATA_HOME=$work/home/$1/data" "XDG_RUNTIME_DIR=$work/home/$1"
}
as() {
  local variant=$1; shift
  env $(home "$variant") "$work/bin/$variant/ssetray" "$@"
}

# Sum RSS and PSS (kB) over a process and its descendants, and the part of
# the RSS that is the programs' own files (their code and constant data).
measure() {
  local root=$1 all=($1) queue=($1)
  while ((${#queue[@]})); do
    local next=()
    for pid in "${queue[@]}"; do
      for child in $(pgrep -P "$pid" || true); do all+=("$child"); next+=("$child"); done
    done
    queue=("${next[@]}")
  done
  local rss=0 pss=0 code=0
  for pid in "${all[@]}"; do
    local r p c exe
    r="$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
    p="$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    c="$(awk -v exe="$exe" '/^[0-9a-f]+-[0-9a-f]+ / {mine = ($6 == exe)} /^Rss:/ && mine {sum += $2} END {print sum + 0}' \
      "/proc/$pid/smaps" 2>/dev/null || true)"
    rss=$((rss + ${r:-0}))
    pss=$((pss + ${p:-0}))
    code=$((code + ${c:-0}))
  done
  printf '%s MB | %s MB | %s MB | %s' "$(awk "BEGIN {printf \"%.1f\", $rss/1024}")" \
    "$(awk "BEGIN {printf \"%.1f\", $pss/1024}")" "$(awk "BEGIN {printf \"%.1f\", $code/1024}")" "${#all[@]}"
}

wait_window() { for _ in $(seq 100); do xdotool search --name "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
close_window() { xdotool search --name "$1" | while read -r id; do xdotool windowclose "$id" 2>/dev/null || true; done; }
window_gone() { for _ in $(seq 100); do xdotool search --name "$1" >/dev/null 2>&1 || return 0; sleep 0.2; done; return 1; }

declare -A app tray_only after_window after_events
for variant in "${variants[@]}"; do
  mkdir -p "$work/home/$variant"
  as "$variant" config set server_url "http://127.0.0.1:$flask_port/stream" >/dev/null
  # Started by `env`, which becomes the app: its process id is the app's.
  env $(home "$variant") "$work/bin/$variant/ssetray" --hidden 2>"$work/home/$variant/app.log" &
  app[$variant]=$!; pids+=($!)
done
sleep 60
for variant in "${variants[@]}"; do tray_only[$variant]="$(measure "${app[$variant]}")"; done

# One window at a time: each variant's own, opened and closed.
for variant in "${variants[@]}"; do
  as "$variant" window >/dev/null 2>&1 || true
  if wait_window '^SSE Tray$'; then
    sleep 3
    close_window '^SSE Tray$'
    window_gone '^SSE Tray$'
    sleep 3
    after_window[$variant]="$(measure "${app[$variant]}")"
  else
    after_window[$variant]="no window | | | "
  fi
done

curl -s -X POST -H 'Content-Type: application/json' \
  -d '{"count": 10000, "type": "message", "id_prefix": "b"}' "http://127.0.0.1:$flask_port/publish_many" >/dev/null
for variant in "${variants[@]}"; do
  for _ in $(seq 300); do
    [[ "$(as "$variant" history --limit 20000 | wc -l)" -ge 10000 ]] && break
    sleep 0.2
  done
done
sleep 2
for variant in "${variants[@]}"; do after_events[$variant]="$(measure "${app[$variant]}")"; done

if ((bare_tauri)); then
  BARE_TAURI_CLOSE_AFTER=4 "$target/$profile/examples/bare-tauri" 2>/dev/null & bare=$!; pids+=($bare)
  wait_window '^Bare Tauri$'
  sleep 8
  bare_after="$(measure $bare)"
fi

label() { [[ "$1" == "$this" ]] && echo "SSE Tray" || echo "SSE Tray at $1"; }
echo "| what | RSS | PSS | of the RSS, the programs' own files | processes |"
echo "| --- | --- | --- | --- | --- |"
for variant in "${variants[@]}"; do
  echo "| $(label "$variant"), tray only, after 60 s | ${tray_only[$variant]} |"
done
for variant in "${variants[@]}"; do
  echo "| $(label "$variant"), after the window was opened and closed | ${after_window[$variant]} |"
done
for variant in "${variants[@]}"; do
  echo "| $(label "$variant"), after 10,000 events | ${after_events[$variant]} |"
done
((bare_tauri)) && echo "| bare Tauri 2 app, window opened and closed | $bare_after |"
exit 0

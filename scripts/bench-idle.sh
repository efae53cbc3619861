#!/usr/bin/env bash
# What a quiet day costs: how often the tray process wakes up while its
# stream is silent. Two apps side by side in one run, both headless and
# following the same server, which sends one event and then nothing: one
# with a (stand-in) logind on its system bus, which tells of sleep, and one
# without, which falls back to comparing its clocks every 10 s. Counts each
# process's context switches (all its threads) over SECONDS (default 60),
# after a settling minute's first 15 s.
#
#   scripts/bench-idle.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-60}"
cargo build -q --no-default-features --bin ssetray
binary="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/ssetray"
# shellcheck source=scripts/silent-server-and-logind.sh
source scripts/silent-server-and-logind.sh

in_home() { # name, command...
  local home="$work/$1"
  shift
  env XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home" HOME="$home" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$home/no-bus" SSETRAY_LOG=info "$@"
}
declare -A pid
for name in logind clocks; do
  mkdir -p "$work/$name"
  in_home "$name" "$binary" config set server_url "http://127.0.0.1:$port/stream" >/dev/null 2>&1
  if [[ $name == logind ]]; then system="$bus"; else system="unix:path=$work/none"; fi
  # `exec`, so that the job is the app itself and $! its pid.
  (export DBUS_SYSTEM_BUS_ADDRESS="$system"; exec env XDG_CONFIG_HOME="$work/$name/config" \
    XDG_DATA_HOME="$work/$name/data" XDG_RUNTIME_DIR="$work/$name" HOME="$work/$name" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$work/$name/no-bus" SSETRAY_LOG=info \
    "$binary" run --headless) 2>"$work/$name/log" >/dev/null &
  pid[$name]=$!
done
for name in logind clocks; do
  until in_home "$name" "$binary" status 2>/dev/null | grep -q "^Connected"; do sleep 0.1; done
done
sleep 15

switches() { # pid: context switches of all its threads so far
  cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ { sum += $2 } END { print sum }'
}
declare -A before threads
for name in logind clocks; do
  before[$name]="$(switches "${pid[$name]}")"
done
sleep "$seconds"
printf 'context switches per minute on a silent stream, over %s s:\n' "$seconds"
for name in logind clocks; do
  after="$(switches "${pid[$name]}")"
  threads="$(ls /proc/"${pid[$name]}"/task | wc -l)"
  per_minute="$(python3 -c "print(round(($after - ${before[$name]}) * 60 / $seconds, 1))")"
  case $name in
    logind) label="with logind (sleep heard):         " ;;
    clocks) label="without logind (clocks every 10 s):" ;;
  esac
  printf '  %s %s (%s threads)\n' "$label" "$per_minute" "$threads"
  grep -h "hearing" "$work/$name/log" | sed 's/.*INFO[^ ]* /    log: /'
done

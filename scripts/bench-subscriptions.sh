#!/usr/bin/env bash
# What each subscription costs: three headless apps side by side in one run,
# following 1, 10 and 50 subscriptions (channels of one silent server, which
# sends one event per connection and then nothing, as Flask-SSE does between
# publishes), each with a stand-in logind on its system bus so that no clock
# timer runs. Once all are connected and a settling 15 s have passed, it
# reads each process's resident memory and threads, then counts its context
# switches (all threads) over SECONDS (default 60). Prints a Markdown table.
#
#   scripts/bench-subscriptions.sh [SECONDS] [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-60}"
profile="${2:-debug}"
if [[ "$profile" == release ]]; then
  cargo build -q --release --no-default-features --bin ssetray
else
  cargo build -q --no-default-features --bin ssetray
fi
binary="$(pwd)/${CARGO_TARGET_DIR:-target}/$profile/ssetray"
# shellcheck source=scripts/silent-server-and-logind.sh
source scripts/silent-server-and-logind.sh

in_home() { # count, command...
  local home="$work/$1"
  shift
  env XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home" HOME="$home" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$home/no-bus" DBUS_SYSTEM_BUS_ADDRESS="$bus" "$@"
}
counts=(1 10 50)
declare -A pid
for count in "${counts[@]}"; do
  mkdir -p "$work/$count"
  for ((n = 1; n <= count; n++)); do
    in_home "$count" "$binary" subscribe "http://127.0.0.1:$port/stream" --channel "c$n" >/dev/null 2>&1
  done
  # `exec`, so that the job is the app itself and $! its pid.
  (exec env XDG_CONFIG_HOME="$work/$count/config" XDG_DATA_HOME="$work/$count/data" \
    XDG_RUNTIME_DIR="$work/$count" HOME="$work/$count" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$work/$count/no-bus" DBUS_SYSTEM_BUS_ADDRESS="$bus" \
    "$binary" run --headless) 2>"$work/$count/log" >/dev/null &
  pid[$count]=$!
done
for count in "${counts[@]}"; do
  until [[ "$(in_home "$count" "$binary" subscriptions --json 2>/dev/null | grep -c '"Connected to')" == "$count" ]]; do
    sleep 0.2
  done
done
sleep 15

switches() { # pid: context switches of all its threads so far
  cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ { sum += $2 } END { print sum }'
}
declare -A before rss threads
for count in "${counts[@]}"; do
  rss[$count]="$(awk '/^VmRSS:/ {print $2}' /proc/"${pid[$count]}"/status)"
  threads[$count]="$(ls /proc/"${pid[$count]}"/task | wc -l)"
  before[$count]="$(switches "${pid[$count]}")"
done
sleep "$seconds"
printf '| subscriptions | RSS | per subscription beyond the first | threads | context switches a minute (silent streams) |\n'
printf '| --- | --- | --- | --- | --- |\n'
for count in "${counts[@]}"; do
  after="$(switches "${pid[$count]}")"
  per_minute="$(python3 -c "print(round(($after - ${before[$count]}) * 60 / $seconds, 1))")"
  if [[ $count == 1 ]]; then
    extra="—"
  else
    extra="$(python3 -c "print(round((${rss[$count]} - ${rss[1]}) / ($count - 1), 1))") kB"
  fi
  printf '| %s | %s kB | %s | %s | %s |\n' "$count" "${rss[$count]}" "$extra" "${threads[$count]}" "$per_minute"
done
printf '\n(%s build, %s s, %s)\n' "$profile" "$seconds" "$(date -u +%Y-%m-%d)"

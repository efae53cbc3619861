#!/usr/bin/env bash
# How fast SSE Tray finds a dead connection and comes back, with real
# network faults (as root: network namespaces, removed at the end).
#
# Three namespaces in a row: the client's, a router's, the server's. Two
# apps run side by side in the client's namespace, each following a server
# that sends one event and then stays silent: one server sends a comment
# heartbeat every HEARTBEAT seconds (default 5), the other none.
#
# 1. A silent drop: the router starts discarding everything between them
#    (blackhole routes: no ICMP, no RST, as a dead Wi-Fi or a sleeping NAT
#    does). The clients' own link stays up, so nothing on their machine
#    says so: only the heartbeat watchdog or TCP (keepalive,
#    TCP_USER_TIMEOUT) can find it. Measured: from the drop to each app
#    leaving "open".
# 2. The clients' own link goes down for 10 s and comes back. Measured:
#    from the link coming back to each app being "open" again.
# 3. The far end of the clients' link (the router's) goes down for DOWN
#    seconds (default 30) without a word to the server, ROUNDS times
#    (default 5): the clients' link loses its carrier, and their tries
#    meanwhile leave the neighbour (ARP) entry for the router failed, so a
#    try the moment it comes back may get "No route to host". The app
#    following the silent server and `ssetray listen` following it too run
#    side by side. Measured each round: from the drop to each leaving
#    "connected", and from the return to each being connected again.
#
#   sudo scripts/bench-network.sh [HEARTBEAT] [ROUNDS] [DOWN]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
heartbeat="${1:-5}"
rounds="${2:-5}"
down="${3:-30}"
if [[ $(id -u) -ne 0 ]]; then
  echo "bench-network: run as root (it makes network namespaces)" >&2
  exit 2
fi
cargo build -q --no-default-features --bin ssetray
binary="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/ssetray"
python="$(bash scripts/peers-venv.sh | tail -n 1)"
work="$(mktemp -d)"
id="$$"
c="ssb-c-$id" r="ssb-r-$id" s="ssb-s-$id"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  for ns in "$c" "$r" "$s"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

for ns in "$c" "$r" "$s"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
# Made inside the namespaces: the host's own network sees nothing.
ip -n "$c" link add c0 type veth peer name r0 netns "$r"
ip -n "$r" link add r1 type veth peer name s0 netns "$s"
ip -n "$c" addr add 10.78.1.2/24 dev c0
ip -n "$r" addr add 10.78.1.1/24 dev r0
ip -n "$r" addr add 10.78.2.1/24 dev r1
ip -n "$s" addr add 10.78.2.2/24 dev s0
for link in "$c c0" "$r r0" "$r r1" "$s s0"; do
  set -- $link
  ip -n "$1" link set "$2" up
done
ip -n "$c" route add default via 10.78.1.1
ip -n "$s" route add default via 10.78.2.1
ip netns exec "$r" sysctl -q -w net.ipv4.ip_forward=1

ip netns exec "$s" "$python" tests/peers/silent_stream.py 10.78.2.2 8001 "$heartbeat" >"$work/beat.log" &
ip netns exec "$s" "$python" tests/peers/silent_stream.py 10.78.2.2 8000 >"$work/silent.log" &
until grep -q LISTENING "$work/beat.log" 2>/dev/null && grep -q LISTENING "$work/silent.log" 2>/dev/null; do
  sleep 0.05
done

app() { # name, port
  local home="$work/$1"
  mkdir -p "$home"
  env XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home" HOME="$home" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$home/no-bus" SSETRAY_LOG=info \
    "$binary" config set server_url "http://10.78.2.2:$2/stream" >/dev/null 2>&1
  env XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home" HOME="$home" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$home/no-bus" SSETRAY_LOG=info \
    ip netns exec "$c" "$binary" run --headless 2>"$home/log" &
  echo $! >"$home/pid"
}
listen() { # `ssetray listen` on the silent server, its log in $work/listen
  local home="$work/listen"
  mkdir -p "$home"
  env XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home" HOME="$home" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$home/no-bus" SSETRAY_LOG=info \
    ip netns exec "$c" "$binary" listen "http://10.78.2.2:8000/stream" >"$home/out" 2>"$home/log" &
  echo $! >"$home/pid"
}
listen_says() { # how many state lines listen wrote that contain $1
  grep -c "^ssetray: .*$1" "$work/listen/log" || true
}
app_says() { # how many state lines the app following the silent server logged that contain $1
  grep -c "10\.78\.2\.2:8000: .*$1" "$work/silent/log" || true
}
listen_connected() { # whether listen's latest state is connected
  [[ "$(grep "^ssetray: " "$work/listen/log" | tail -n 1)" == *"Connected to"* ]]
}
state() { # name: the app's state name
  local home="$work/$1"
  env XDG_RUNTIME_DIR="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" HOME="$home" \
    "$binary" status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["state"])' 2>/dev/null || echo none
}
now() { date +%s.%N; }
secs() { [[ "$1" =~ ^[0-9.]+$ ]] && echo "$1 s" || echo "$1"; }
since() { python3 -c "print(f'{${2:-$(now)} - $1:.1f}')"; } # start [, until]
wait_state() { # name, state, timeout seconds
  local end=$(( $(date +%s) + $3 ))
  until [[ "$(state "$1")" == "$2" ]]; do
    (( $(date +%s) < end )) || { echo "timeout"; return; }
    sleep 0.1
  done
  echo ok
}

app beat 8001
app silent 8000
listen
[[ $(wait_state beat open 30) == ok && $(wait_state silent open 30) == ok ]] || { echo "the apps did not connect" >&2; exit 1; }
until listen_connected; do sleep 0.1; done
# Let the heartbeat be learnt (three gaps).
sleep $(( heartbeat * 4 ))
grep -q "sends a heartbeat" "$work/beat/log" || { echo "the heartbeat was not learnt" >&2; exit 1; }

echo "1. a silent drop beyond the router (the clients' link stays up):"
start="$(now)"
ip -n "$r" route add blackhole 10.78.2.2/32
ip -n "$r" route add blackhole 10.78.1.2/32
found_beat="" found_silent=""
end=$(( $(date +%s) + 120 ))
while [[ -z "$found_beat" || -z "$found_silent" ]] && (( $(date +%s) < end )); do
  [[ -z "$found_beat" && "$(state beat)" != open ]] && found_beat="$(since "$start")"
  [[ -z "$found_silent" && "$(state silent)" != open ]] && found_silent="$(since "$start")"
  sleep 0.2
done
printf '   found after %s s with a heartbeat every %s s, %s s without one\n' \
  "${found_beat:-over 120}" "$heartbeat" "${found_silent:-over 120}"
ip -n "$r" route del blackhole 10.78.2.2/32
ip -n "$r" route del blackhole 10.78.1.2/32
[[ $(wait_state beat open 120) == ok && $(wait_state silent open 120) == ok ]] || { echo "no reconnection" >&2; exit 1; }

echo "2. the clients' own link down for 10 s, then back:"
ip -n "$c" link set c0 down
sleep 10
beat_state="$(state beat)" silent_state="$(state silent)"
start="$(now)"
ip -n "$c" link set c0 up
ip -n "$c" route replace default via 10.78.1.1
back_beat="" back_silent=""
end=$(( $(date +%s) + 120 ))
while [[ -z "$back_beat" || -z "$back_silent" ]] && (( $(date +%s) < end )); do
  [[ -z "$back_beat" && "$(state beat)" == open ]] && back_beat="$(since "$start")"
  [[ -z "$back_silent" && "$(state silent)" == open ]] && back_silent="$(since "$start")"
  sleep 0.05
done
printf '   while down: %s and %s; connected again %s s and %s s after the link came back\n' \
  "$beat_state" "$silent_state" "${back_beat:-over 120}" "${back_silent:-over 120}"

echo "3. the far end of the clients' link down $down s, $rounds rounds (app | listen):"
[[ $(wait_state silent open 120) == ok ]] || { echo "the app did not connect" >&2; exit 1; }
until listen_connected; do sleep 0.1; done
: >"$work/figures"
: >"$work/no-route"
# Both are watched through the states they write (the app's log, listen's
# stderr), read often and cheaply: asking the app for its status each time
# would add its own delay to the figures.
for round in $(seq 1 "$rounds"); do
  app_lines="$(app_says "")" app_connected_before="$(app_says "Connected to")"
  listen_lines="$(listen_says "")" listen_connected_before="$(listen_says "Connected to")"
  start="$(now)"
  ip -n "$r" link set r0 down
  lost_app="" lost_listen=""
  sleep "$down" &
  timer=$!
  while kill -0 "$timer" 2>/dev/null; do
    # One clock reading for both: neither waits on the other's arithmetic.
    t="$(now)"
    [[ -z "$lost_app" ]] && (( $(app_says "") > app_lines )) && lost_app="$(since "$start" "$t")"
    [[ -z "$lost_listen" ]] && (( $(listen_says "") > listen_lines )) && lost_listen="$(since "$start" "$t")"
    sleep 0.05
  done
  neighbour="$(ip -n "$c" neigh show 10.78.1.1 dev c0 | awk '{ print $NF }')"
  app_no_route="$(grep -c "No route to host" "$work/silent/log" || true)"
  listen_no_route="$(grep -c "No route to host" "$work/listen/log" || true)"
  start="$(now)"
  ip -n "$r" link set r0 up
  back_app="" back_listen=""
  end=$(( $(date +%s) + 150 ))
  while [[ -z "$back_app" || -z "$back_listen" ]] && (( $(date +%s) < end )); do
    t="$(now)"
    [[ -z "$back_app" ]] && (( $(app_says "Connected to") > app_connected_before )) && back_app="$(since "$start" "$t")"
    [[ -z "$back_listen" ]] && (( $(listen_says "Connected to") > listen_connected_before )) && back_listen="$(since "$start" "$t")"
    # A listen that never noticed the drop kept its connection: nothing to come back from.
    [[ -z "$back_listen" && -z "$lost_listen" ]] && back_listen="kept its connection"
    sleep 0.05
  done
  app_no_route=$(( $(grep -c "No route to host" "$work/silent/log" || true) - app_no_route ))
  listen_no_route=$(( $(grep -c "No route to host" "$work/listen/log" || true) - listen_no_route ))
  printf '   round %s: left "connected" after %s | %s; neighbour entry at the return: %s; tries that found no route after it: %s | %s; connected again %s | %s after it\n' \
    "$round" "$(secs "${lost_app:-never}")" "$(secs "${lost_listen:-never}")" "${neighbour:-none}" \
    "$app_no_route" "$listen_no_route" "$(secs "${back_app:-over 150}")" "$(secs "${back_listen:-kept its connection}")"
  echo "$app_no_route $listen_no_route" >>"$work/no-route"
  echo "${back_app:-150} ${back_listen:-150}" | sed 's/kept its connection/kept/' >>"$work/figures"
  # The next round starts from settled connections.
  if [[ $(wait_state silent open 150) != ok ]]; then
    echo "the app did not reconnect; the last of its log, listen's and the server's:" >&2
    tail -n 20 "$work/silent/log" "$work/listen/log" "$work/silent.log" >&2
    for name in silent listen; do
      kill -0 "$(cat "$work/$name/pid")" 2>/dev/null || echo "$name is no longer running" >&2
    done
    exit 1
  fi
  until listen_connected; do sleep 0.1; done
  sleep 2
done
python3 - "$work/figures" "$work/no-route" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
no_route = [line.split() for line in open(sys.argv[2])]
for column, name in ((0, "run --headless"), (1, "listen")):
    values = [float(row[column]) for row in rows if row[column] != "kept"]
    failed = sum(1 for row in no_route if int(row[column]) > 0)
    if values:
        print(f"   {name}: connected again after the return: median {statistics.median(values):.1f} s, max {max(values):.1f} s ({len(values)} rounds; in {failed} a try after the return found no route)")
    else:
        print(f"   {name}: never lost its connection")
PY

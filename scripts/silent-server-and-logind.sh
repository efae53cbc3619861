# Sourced by the idle benchmarks: a silent SSE server (one event per
# connection, then nothing, as Flask-SSE between publishes) and a stand-in
# logind on a private bus used as the system bus, both ended with the
# script. Sets `python`, `work` (a folder removed at exit), `port` (the
# server's) and `bus` (the system bus address).
python="$(bash scripts/peers-venv.sh | tail -n 1)"
work="$(mktemp -d)"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$python" tests/peers/silent_stream.py 127.0.0.1 "$port" >"$work/server.log" &
bus="unix:path=$work/system_bus_socket"
dbus-daemon --session --nofork --address "$bus" >/dev/null 2>&1 &
until [[ -S "$work/system_bus_socket" ]]; do sleep 0.05; done
mkfifo "$work/services.in"
DBUS_SYSTEM_BUS_ADDRESS="$bus" "$python" tests/peers/system_services.py <"$work/services.in" >"$work/services.log" &
exec 3>"$work/services.in"
until grep -q READY "$work/services.log" 2>/dev/null; do sleep 0.05; done
until grep -q LISTENING "$work/server.log" 2>/dev/null; do sleep 0.05; done

# The private desktop the memory benchmarks run in, sourced by them:
# `start_bench_desktop WORK PYTHON` starts an Xvfb on a free display, a
# D-Bus session and a tray host (tests/peers/sni_watcher.py), each ready
# before it returns, and adds their process ids to the caller's `pids`.
# Readiness is waited for, not slept for: Xvfb writes its display number
# once it takes connections (-displayfd), the tray host says READY.
# -noreset: an X server resets when its last client leaves and refuses
# connections meanwhile.

start_bench_desktop() {
  local work=$1 python=$2
  exec {display_fd}<> <(:)
  Xvfb -displayfd "$display_fd" -screen 0 1024x768x24 -nolisten tcp -noreset >/dev/null 2>&1 &
  pids+=($!)
  local number=""
  read -r -t 30 number <&"$display_fd" || { echo "Xvfb did not start" >&2; return 1; }
  exec {display_fd}<&-
  export DISPLAY=":$number" NO_AT_BRIDGE=1
  eval "$(dbus-launch --sh-syntax)"
  pids+=("$DBUS_SESSION_BUS_PID")
  "$python" tests/peers/sni_watcher.py >"$work/watcher.log" &
  pids+=($!)
  for _ in $(seq 300); do grep -q READY "$work/watcher.log" && return 0; sleep 0.1; done
  echo "the tray host did not start" >&2
  return 1
}

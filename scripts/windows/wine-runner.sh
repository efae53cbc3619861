#!/usr/bin/env bash
# cargo's runner for Windows test executables (scripts/test.sh sets it as
# CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER): each runs under Wine in a
# prefix of its own, copied from the template tests/windows.rs keeps, with
# the bcryptprimitives.dll stand-in (Wine 8 lacks it) beside the exe.
#   SSETRAY_WINE_KEPT  the folder holding template/ and bcryptprimitives.dll
set -euo pipefail
exe="$1"
shift
kept="${SSETRAY_WINE_KEPT:?set SSETRAY_WINE_KEPT (scripts/test.sh does)}"
[[ -d "$kept/template" && -f "$kept/bcryptprimitives.dll" ]] || {
  echo "wine-runner: no Wine template in $kept; run tests/windows.rs first" >&2
  exit 1
}
cp -f "$kept/bcryptprimitives.dll" "$(dirname "$exe")/"
run="$(mktemp -d "$kept/run.XXXXXX")"
export WINEPREFIX="$run/prefix" HOME="$run/home" WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY
mkdir -p "$HOME"
cp -al "$kept/template" "$WINEPREFIX"
for registry in system.reg user.reg userdef.reg; do
  cp --remove-destination "$kept/template/$registry" "$WINEPREFIX/$registry"
done
status=0
/usr/lib/wine/wine64 "$exe" "$@" || status=$?
/usr/lib/wine/wineserver64 -k 2>/dev/null || true
rm -rf "$run"
exit "$status"

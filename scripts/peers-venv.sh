#!/usr/bin/env bash
# Create (or refresh) the Python venv used by the integration-test peer servers
# in tests/peers/, and print the venv's python path as the LAST line of stdout.
# All other output goes to stderr. Works from any cwd.
#
# The venv is rebuilt when tests/peers/requirements.txt changes. The server
# companion companions/sse-replay (which the replay peers import) is
# installed into it from its source, and installed again, alone, whenever
# its pyproject.toml or any file under its src/ changes.
#
#   SSETRAY_PEERS_VENV  venv location
#                       (default: ${XDG_CACHE_HOME:-$HOME/.cache}/ssetray/peers-venv)
#   PYTHON              interpreter used to create the venv (default: python3)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$repo/tests/peers/requirements.txt"
companion="$repo/companions/sse-replay"
venv="${SSETRAY_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ssetray/peers-venv}"
stamp="$venv/.requirements.sha256"
companion_stamp="$venv/.companion.sha256"
python="${PYTHON:-python3}"

# One run at a time per venv: a second one (another test binary, another
# checkout) waits rather than rebuilding the venv under the first one's feet.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

want="$(sha256sum "$req" | cut -d' ' -f1)"
# What the installed companion is made of: its build settings and sources.
companion_want="$(
    cd "$companion" &&
        find pyproject.toml README.md src -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
)"

install_companion() {
    # From a copy: a build in the source tree would leave build/ and
    # *.egg-info there. What it needs is pinned in requirements.txt (Flask,
    # redis, sse-starlette); its build backend is pinned here rather than
    # there, so that adding it did not change the requirements and rebuild
    # every checkout's venv (70.1 and later build wheels without the wheel
    # package; nothing is downloaded once it is installed).
    local build
    build="$(mktemp -d)"
    cp -r "$companion/pyproject.toml" "$companion/README.md" "$companion/src" "$build/"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "setuptools==84.2.1"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
        --no-deps --force-reinstall "$build"
    rm -rf "$build"
    echo "$companion_want" > "$companion_stamp"
}

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    if [[ ! -f "$companion_stamp" || "$(cat "$companion_stamp")" != "$companion_want" ]]; then
        echo "peers-venv: installing companions/sse-replay as it is now" >&2
        install_companion >&2
    fi
    echo "$venv/bin/python"
    exit 0
fi

{
    echo "peers-venv: (re)building $venv"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
        rm -rf "$venv"
        if ! "$python" -c 'import ensurepip' 2>/dev/null; then
            echo "peers-venv: '$python -m venv' failed: ensurepip is missing." \
                 "Install the python3-venv package (e.g. 'apt-get install python3-venv')."
        else
            echo "peers-venv: '$python -m venv $venv' failed."
        fi
        exit 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    install_companion
    echo "$want" > "$stamp"
    echo "peers-venv: ready"
} >&2

echo "$venv/bin/python"

#!/usr/bin/env bash
# Create (or refresh) the Python venv used by the integration-test peer servers
# in tests/peers/, and print the venv's python path as the LAST line of stdout.
# All other output goes to stderr. Works from any cwd.
#
#   SSETRAY_PEERS_VENV  venv location
#                       (default: ${XDG_CACHE_HOME:-$HOME/.cache}/ssetray/peers-venv)
#   PYTHON              interpreter used to create the venv (default: python3)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$repo/tests/peers/requirements.txt"
venv="${SSETRAY_PEERS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ssetray/peers-venv}"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv/bin/python"
    exit 0
fi

{
    echo "peers-venv: (re)building $venv"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
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
    echo "$want" > "$stamp"
    echo "peers-venv: ready"
} >&2

echo "$venv/bin/python"

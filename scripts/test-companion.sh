#!/usr/bin/env bash
# Test the server companion package companions/sse-replay/ (pytest), in a
# venv of its own that is re-used while the package's pyproject.toml (its
# dependencies) is unchanged. The package itself is reinstalled on every run,
# from the source as it is, so the tests always see the current code as pip
# installs it. Extra arguments go to pytest. Works from any cwd.
#
#   SSETRAY_COMPANION_VENV  venv location
#                           (default: ${XDG_CACHE_HOME:-$HOME/.cache}/ssetray/companion-venv)
#   PYTHON                  interpreter used to create the venv (default: python3)
#
# The tests start redis-server themselves (Debian's redis-server package).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
package="$repo/companions/sse-replay"
venv="${SSETRAY_COMPANION_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ssetray/companion-venv}"
stamp="$venv/.pyproject.sha256"
python="${PYTHON:-python3}"

command -v redis-server >/dev/null || {
    echo "test-companion: redis-server is missing (scripts/install-deps.sh --test installs it)" >&2
    exit 1
}

# Install from a copy: an in-tree build would leave build/ and *.egg-info in the repo.
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
cp -r "$package/pyproject.toml" "$package/README.md" "$package/src" "$build/"

want="$(sha256sum "$package/pyproject.toml" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "test-companion: (re)building $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv" || {
        rm -rf "$venv"
        echo "test-companion: '$python -m venv' failed (is python3-venv installed?)" >&2
        exit 1
    }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$build[test]"
    # The build backend in the venv itself, so that the reinstall of the
    # package on each later run needs no download (70.1 builds wheels alone).
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "setuptools>=70.1"
    echo "$want" > "$stamp"
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
    --no-deps --force-reinstall "$build"

cd "$package"
"$venv/bin/python" -m pytest -p no:cacheprovider "$@"

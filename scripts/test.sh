#!/usr/bin/env bash
# Set up and run every test: installs what is missing (system packages, the
# Python test servers' venv), checks formatting and lints for both feature
# sets, runs the core tests (no Tauri), then builds the desktop app and runs
# its tests under Xvfb, then fuzzes the decoders of outside bytes for a
# bounded time (SSETRAY_FUZZ_SECONDS per target, default 45), then
# cross-builds the Windows binaries and installer and tests them under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
SSETRAY_TEST_PYTHON="$(bash scripts/peers-venv.sh | tail -n 1)"
export SSETRAY_TEST_PYTHON

step() { printf '\n== %s\n' "$*" >&2; }

step "format"
cargo fmt --check
step "the page's pure JavaScript (node's test runner)"
node --test tests/js/
step "the server companion (pytest)"
bash scripts/test-companion.sh
step "lints, core"
cargo clippy --no-default-features --all-targets -- -D warnings
step "tests, core"
cargo test --no-default-features
step "lints, desktop"
cargo clippy --all-targets -- -D warnings
step "tests, desktop"
cargo test --test desktop
step "tests, window in the real webview"
# One at a time: each drives its own WebKit, heavy on a 2-core machine.
cargo test --test ui -- --test-threads=1
step "fuzz: the decoders of outside bytes, ${SSETRAY_FUZZ_SECONDS:-45} s each"
bash scripts/fuzz.sh "${SSETRAY_FUZZ_SECONDS:-45}"
step "package"
deb="$(bash scripts/package-deb.sh debug | tail -n 1)"
dpkg-deb --info "$deb" >/dev/null
contents="$(dpkg-deb --contents "$deb")"
for file in ./usr/bin/ssetray ./usr/bin/ssetray-window ./usr/share/applications/ssetray.desktop \
  ./usr/share/icons/hicolor/64x64/apps/ssetray.png; do
  grep -qF " $file" <<<"$contents" || { echo "the package lacks $file" >&2; exit 1; }
done
if [[ "${SSETRAY_TEST_INSTALL_DEB:-0}" == 1 ]]; then
  # CI machines are throwaway: install the package for real and run it.
  case "$deb" in
    /*) package="$deb" ;;
    *) package="./$deb" ;;
  esac
  apt-get install -y -qq "$package" >/dev/null
  /usr/bin/ssetray --version
  apt-get remove -y -qq ssetray >/dev/null
fi
step "Windows: lints, both binaries and the installer, cross-built"
cargo clippy --target x86_64-pc-windows-gnu --no-default-features --features tray --lib --bins -- -D warnings
cargo clippy --target x86_64-pc-windows-gnu --bins -- -D warnings
cargo clippy --no-default-features --features wine-tests --test windows -- -D warnings
installer="$(bash scripts/package-windows.sh | tail -n 1)"
step "Windows: tests under Wine"
SSETRAY_WINDOWS_BUILD="$(dirname "$installer")" \
  cargo test --no-default-features --features wine-tests --test windows
step "Windows: the library's unit tests under Wine (the named pipe among them)"
SSETRAY_WINE_KEPT="$(realpath "${CARGO_TARGET_DIR:-target}")/tmp/wine" \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/windows/wine-runner.sh" \
  cargo test --target x86_64-pc-windows-gnu --no-default-features --features tray --lib
step "all tests passed"

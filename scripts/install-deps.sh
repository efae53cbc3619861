#!/usr/bin/env bash
# Installs what building SSE Tray needs on Debian 12 or Ubuntu: the system
# libraries Tauri's window links against, and Rust when it is missing.
# `--test` adds what the tests need: Redis, Python venv support, Xvfb, a
# D-Bus session bus, the dunst notification daemon, GNOME Keyring (a real
# Secret Service) with secret-tool, xdotool, ImageMagick, and for the
# Windows build mingw-w64, NSIS, Wine and rustup's Windows target.
# `--windows` adds only what building for Windows needs (mingw-w64, NSIS,
# the target).
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(build-essential pkg-config curl ca-certificates libssl-dev
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(redis-server python3 python3-venv xvfb xauth dbus dbus-x11 dunst
    libnotify-bin libglib2.0-bin xdotool imagemagick x11-utils webkit2gtk-driver
    gnome-keyring libsecret-tools iproute2)
  # The page's JavaScript unit tests run on node's built-in test runner.
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  packages+=(wine64 wine fonts-wine)
fi
if [[ "${1:-}" == "--test" || "${1:-}" == "--windows" ]]; then
  packages+=(mingw-w64 nsis)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: installing Rust with rustup" >&2
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy -c rustfmt >&2
fi

export PATH="$HOME/.cargo/bin:$PATH"
if [[ "${1:-}" == "--test" || "${1:-}" == "--windows" ]] \
    && ! rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu; then
  echo "install-deps: adding Rust's x86_64-pc-windows-gnu target" >&2
  rustup target add x86_64-pc-windows-gnu >&2
fi
if [[ "${1:-}" == "--test" ]] && ! command -v tauri-driver >/dev/null 2>&1 \
    && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]]; then
  echo "install-deps: installing tauri-driver (WebDriver for the window tests)" >&2
  "${CARGO:-cargo}" install tauri-driver --locked --version 2.1.0 >&2
fi

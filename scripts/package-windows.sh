#!/usr/bin/env bash
# Build SSE Tray for Windows here, on Linux, and package it: both binaries
# cross-built (rustup's x86_64-pc-windows-gnu target, Debian's mingw-w64),
# then the installer (Debian's nsis, offline). Prints the installer's path.
#   bash scripts/package-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
for tool in x86_64-w64-mingw32-gcc makensis; do
  command -v "$tool" >/dev/null || {
    echo "package-windows: $tool is missing; run: bash scripts/install-deps.sh --windows" >&2
    exit 1
  }
done
rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target" >&2
cargo build --release --target "$target" --bins >&2
built="${CARGO_TARGET_DIR:-target}/$target/release"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$built/ssetray.exe" "$built/ssetray-window.exe" icons/icon.ico "$stage/"
# The window's WebView2 loader, when the build left it beside the binaries.
if [ -f "$built/WebView2Loader.dll" ]; then cp "$built/WebView2Loader.dll" "$stage/"; fi
out="$(cd "$built" && pwd)/SSE-Tray-$version-setup.exe"
makensis -V2 -DVERSION="$version" -DBINARIES="$stage" -DOUT="$out" scripts/windows/ssetray.nsi >&2
echo "$out"

#!/usr/bin/env bash
# Builds a .deb of SSE Tray from this tree, with no downloads: cargo builds
# the two binaries, dpkg-deb packs them with the desktop entry and the icons.
#   scripts/package-deb.sh [release|debug]    (default: release)
# Prints the path of the package as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"
target="${CARGO_TARGET_DIR:-target}"
if [[ "$profile" == release ]]; then
  cargo build --release --bins >&2
else
  cargo build --bins >&2
fi
version="$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)"
arch="$(dpkg --print-architecture)"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
install -Dm755 "$target/$profile/ssetray" "$root/usr/bin/ssetray"
install -Dm755 "$target/$profile/ssetray-window" "$root/usr/bin/ssetray-window"
# A debug build carries hundreds of MB of debug info; the package does not.
strip --strip-debug "$root/usr/bin/ssetray" "$root/usr/bin/ssetray-window"
for size in 32 64 128 256; do
  install -Dm644 "icons/${size}x${size}.png" "$root/usr/share/icons/hicolor/${size}x${size}/apps/ssetray.png"
done
install -d "$root/usr/share/applications" "$root/DEBIAN"
cat > "$root/usr/share/applications/ssetray.desktop" <<ENTRY
[Desktop Entry]
Type=Application
Name=SSE Tray
GenericName=Push notifications
Comment=Server-Sent Events in your system tray
Exec=ssetray
Icon=ssetray
Terminal=false
Categories=Network;
StartupNotify=false
ENTRY
cat > "$root/DEBIAN/control" <<CONTROL
Package: ssetray
Version: $version
Architecture: $arch
Maintainer: SSE Tray developers <ssetray@example.invalid>
Depends: libc6, libwebkit2gtk-4.1-0, libgtk-3-0, dbus
Recommends: xdg-utils
Section: net
Priority: optional
Description: Server-Sent Events in your system tray
 SSE Tray keeps one long-lived Server-Sent Events connection to a server you
 configure, stores what arrives, and shows desktop notifications and a badge.
CONTROL
out="$target/ssetray_${version}_${arch}.deb"
dpkg-deb -Zxz -z3 --build --root-owner-group "$root" "$out" >&2
echo "$out"

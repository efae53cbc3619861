"""A stand-in freedesktop settings portal on the test's session bus: what
GNOME and KDE use to say the desktop's light or dark style.

It owns org.freedesktop.portal.Desktop and serves
org.freedesktop.portal.Settings at /org/freedesktop/portal/desktop:
ReadOne and Read of org.freedesktop.appearance color-scheme (Read wraps
the value in one more variant, as the portal's first version did). Told on
stdin, one word a line ("dark", "light", "none"), it changes the scheme
and sends SettingChanged. It prints "READY" once the name is owned, and
"SENT <word>" after each signal.

Run: DBUS_SESSION_BUS_ADDRESS=... python settings_portal.py [dark|light|none]
"""
import asyncio
import sys

from dbus_next import Variant
from dbus_next.aio import MessageBus
from dbus_next.errors import DBusError
from dbus_next.service import ServiceInterface, method, signal

SCHEMES = {"none": 0, "dark": 1, "light": 2}


class Settings(ServiceInterface):
    def __init__(self, scheme):
        super().__init__("org.freedesktop.portal.Settings")
        self.scheme = scheme

    def _value(self, namespace, key):
        if (namespace, key) != ("org.freedesktop.appearance", "color-scheme"):
            raise DBusError("org.freedesktop.portal.Error.NotFound", "no such setting")
        return Variant("u", self.scheme)

    @method()
    def ReadOne(self, namespace: "s", key: "s") -> "v":
        return self._value(namespace, key)

    @method()
    def Read(self, namespace: "s", key: "s") -> "v":
        return Variant("v", self._value(namespace, key))

    @signal()
    def SettingChanged(self) -> "ssv":
        return ["org.freedesktop.appearance", "color-scheme", Variant("u", self.scheme)]


async def main():
    start = sys.argv[1] if len(sys.argv) > 1 else "none"
    settings = Settings(SCHEMES[start])
    bus = await MessageBus().connect()
    bus.export("/org/freedesktop/portal/desktop", settings)
    await bus.request_name("org.freedesktop.portal.Desktop")
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        word = line.strip()
        if word in SCHEMES:
            settings.scheme = SCHEMES[word]
            settings.SettingChanged()
            print(f"SENT {word}", flush=True)


asyncio.run(main())

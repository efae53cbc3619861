"""A stand-in logind and NetworkManager on a private bus used as the system
bus, for the tests of sleep and network changes.

It owns org.freedesktop.login1 and org.freedesktop.NetworkManager and sends
their signals when told on stdin, one word a line:
- "resume": logind's PrepareForSleep(false);
- "sleep": PrepareForSleep(true);
- "connected" / "disconnected": NetworkManager's StateChanged(70 / 20).
It prints "READY" once both names are owned, and "SENT <word>" after each.

Run: DBUS_SYSTEM_BUS_ADDRESS=... python system_services.py
"""
import asyncio
import sys

from dbus_next import BusType, PropertyAccess
from dbus_next.aio import MessageBus
from dbus_next.service import ServiceInterface, dbus_property, signal


class Login(ServiceInterface):
    def __init__(self):
        super().__init__("org.freedesktop.login1.Manager")

    @signal()
    def PrepareForSleep(self, start) -> "b":
        return start


class NetworkManager(ServiceInterface):
    def __init__(self):
        super().__init__("org.freedesktop.NetworkManager")
        self.state = 70

    @signal()
    def StateChanged(self, state) -> "u":
        return state

    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> "u":
        return self.state

    @dbus_property(access=PropertyAccess.READ)
    def PrimaryConnection(self) -> "o":
        return "/org/freedesktop/NetworkManager/ActiveConnection/1"


async def main():
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    login = Login()
    network = NetworkManager()
    bus.export("/org/freedesktop/login1", login)
    bus.export("/org/freedesktop/NetworkManager", network)
    await bus.request_name("org.freedesktop.login1")
    await bus.request_name("org.freedesktop.NetworkManager")
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        word = line.strip()
        if word == "resume":
            login.PrepareForSleep(False)
        elif word == "sleep":
            login.PrepareForSleep(True)
        elif word == "connected":
            network.state = 70
            network.StateChanged(70)
        elif word == "disconnected":
            network.state = 20
            network.StateChanged(20)
        print("SENT", word, flush=True)


asyncio.run(main())

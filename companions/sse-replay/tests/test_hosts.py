"""Nothing is kept in a process: any server of a channel can continue any client.

Two gunicorn "hosts" (three gevent workers and one), and the uvicorn app, on
the same Redis: a client is served by one, publishes go through another, and
it reconnects to a third.
"""
from __future__ import annotations

import json
import urllib.request

import pytest

from harness import SERVER_SETTINGS, StreamServer
from servers import GunicornServer


@pytest.fixture(scope="module")
def second_flask_host(redis_server, tmp_path_factory):
    server = GunicornServer(
        tmp_path_factory.mktemp("second-host"),
        {"REDIS_URL": redis_server.url, **SERVER_SETTINGS},
        "flask_app:app",
        workers=1,
    ).start()
    yield StreamServer("flask", server.port, b"\n")
    server.stop()


def publish_over_http(port: int, data, channel: str) -> str:
    body = json.dumps({"data": data, "channel": channel}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/publish", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["id"]


def test_a_client_moves_between_hosts_and_frameworks_without_loss(flask_server, starlette_server, second_flask_host, channel):
    first_host = StreamServer("flask", flask_server.port, b"\n")
    starlette_host = StreamServer("starlette", starlette_server.port, b"\r\n")

    with first_host.open(channel) as stream:
        stream.wait_open()
        seen = [publish_over_http(starlette_server.port, {"n": n}, channel) for n in range(3)]
        assert [event.id for event in stream.events(3)] == seen

    # Published through the workers of the first host while the client is away.
    missed = [publish_over_http(flask_server.port, {"n": n}, channel) for n in range(3, 9)]
    with second_flask_host.open(channel, last_event_id=seen[-1]) as stream:
        assert [event.id for event in stream.events(6)] == missed
        also_missed = publish_over_http(second_flask_host.port, {"n": 9}, channel)
        assert stream.next_event().id == also_missed

    with starlette_host.open(channel, last_event_id=missed[2]) as stream:
        assert [event.id for event in stream.events(4)] == missed[3:] + [also_missed]


def test_many_clients_of_one_channel_on_a_three_worker_server_get_the_same_events(flask_server, channel):
    # Which worker accepts which connection is the kernel's choice; the
    # publishes go through whichever worker answers too.
    server = StreamServer("flask", flask_server.port, b"\n")
    streams = [server.open(channel) for _ in range(12)]
    try:
        for stream in streams:
            stream.wait_open()
        ids = [publish_over_http(flask_server.port, {"n": n}, channel) for n in range(5)]
        for stream in streams:
            assert [event.id for event in stream.events(5)] == ids
    finally:
        for stream in streams:
            stream.close()

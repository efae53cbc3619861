"""Redis restarts without persistence: the history is gone, and clients are told so.

A Redis and servers of their own, since the test kills that Redis.
"""
from __future__ import annotations

import pytest

from harness import SERVER_SETTINGS, Publisher, StreamServer
from servers import GunicornServer, RedisServer, UvicornServer


@pytest.fixture(scope="module")
def lone_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("lone-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lone_servers(lone_redis, tmp_path_factory):
    environment = {"REDIS_URL": lone_redis.url, **SERVER_SETTINGS}
    flask = GunicornServer(tmp_path_factory.mktemp("lone-gunicorn"), environment, "flask_app:app", workers=1).start()
    starlette = UvicornServer(tmp_path_factory.mktemp("lone-uvicorn"), environment, "starlette_app:app").start()
    yield {"flask": StreamServer("flask", flask.port, b"\n"), "starlette": StreamServer("starlette", starlette.port, b"\r\n")}
    flask.stop()
    starlette.stop()


@pytest.mark.parametrize("kind", ["flask", "starlette"])
def test_after_a_restart_without_persistence_clients_get_resync(lone_redis, lone_servers, kind, channel):
    server = lone_servers[kind]
    publisher = Publisher(lone_redis.url)
    with server.open(channel) as live:
        live.wait_open()
        before = publisher.publish_many(channel, 2)
        assert [event.id for event in live.events(2)] == before

        lone_redis.stop()  # SIGKILL: nothing is saved
        lone_redis.start(port=lone_redis.port)
        after = publisher.publish({"n": 2}, channel=channel)

        # The open stream's blocking read failed: the stream either ended
        # (the client reconnects, below) or, if redis-py's retry reached the
        # restarted server, goes on and must say that history was lost.
        try:
            event = live.next_event()
        except EOFError:
            event = None
        if event is not None:
            assert event.json() == {"last_event_id": before[-1], "oldest_id": after}
            assert live.next_event().id == after

    # A client reconnecting with an id from before the restart.
    with server.open(channel, last_event_id=before[-1]) as again:
        assert again.next_event().json() == {"last_event_id": before[-1], "oldest_id": after}
        assert again.next_event().id == after
        # And then it is live again, exactly.
        newer = publisher.publish({"n": 3}, channel=channel)
        assert again.next_event().id == newer

"""Fixtures: one redis-server, gunicorn and uvicorn for the session; a fresh channel per test.

Every test uses channels of its own, so the tests share the servers without
seeing each other's events.
"""
from __future__ import annotations

import uuid

import pytest
import redis

from harness import FLASK_WORKERS, MAX_LENGTH, SERVER_SETTINGS, Publisher, StreamServer
from servers import GunicornServer, RedisServer, UvicornServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_client(redis_server):
    return redis.Redis.from_url(redis_server.url, decode_responses=True)


@pytest.fixture(scope="session")
def flask_server(redis_server, tmp_path_factory):
    server = GunicornServer(
        tmp_path_factory.mktemp("gunicorn"),
        {"REDIS_URL": redis_server.url, **SERVER_SETTINGS},
        "flask_app:app",
        workers=FLASK_WORKERS,
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def starlette_server(redis_server, tmp_path_factory):
    server = UvicornServer(
        tmp_path_factory.mktemp("uvicorn"),
        {"REDIS_URL": redis_server.url, **SERVER_SETTINGS},
        "starlette_app:app",
    ).start()
    yield server
    server.stop()


@pytest.fixture(params=["flask", "starlette"])
def server(request) -> StreamServer:
    """Each test that takes it runs against the gunicorn Flask app and the uvicorn one."""
    if request.param == "flask":
        return StreamServer("flask", request.getfixturevalue("flask_server").port, b"\n")
    return StreamServer("starlette", request.getfixturevalue("starlette_server").port, b"\r\n")


@pytest.fixture(scope="session")
def publisher(redis_server) -> Publisher:
    return Publisher(redis_server.url, SSE_REPLAY_MAX_LENGTH=MAX_LENGTH)


@pytest.fixture
def channel() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"

"""What the tests share besides fixtures: opening streams, publishing, reading Redis."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Dict, List, Optional

from flask import Flask

from sse_client import SSEStream
from sse_replay.flask import sse

#: Settings of the servers under test: quick heartbeats so that the tests
#: wait little; a retry that is not the default, to see that it is used; room
#: for the 10,000-event replay.
HEARTBEAT_SECONDS = 0.3
RETRY_MS = 2500
MAX_LENGTH = 20_000
SERVER_SETTINGS = {
    "SSE_REPLAY_HEARTBEAT": str(HEARTBEAT_SECONDS),
    "SSE_REPLAY_RETRY": str(RETRY_MS),
    "SSE_REPLAY_MAX_LENGTH": str(MAX_LENGTH),
}
FLASK_WORKERS = 3


@dataclass
class StreamServer:
    """How to open a stream on one of the servers under test."""

    kind: str
    port: int
    sep: bytes

    def open(
        self,
        channel: str,
        last_event_id: Optional[str] = None,
        query: Optional[Dict[str, str]] = None,
        path: str = "/stream",
        deadline_seconds: float = 15.0,
        receive_buffer: Optional[int] = None,
    ) -> SSEStream:
        headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
        query = {"channel": channel, **(query or {})}
        return SSEStream(self.port, path, query, headers, self.sep, deadline_seconds, receive_buffer)


class Publisher:
    """Publishes as application code does: ``sse.publish`` in an app context."""

    def __init__(self, redis_url: str, **config) -> None:
        self.app = Flask(f"publisher-{uuid.uuid4().hex[:8]}")
        self.app.config["REDIS_URL"] = redis_url
        self.app.config.update(config)

    def publish(self, data, channel: str, **options) -> str:
        with self.app.app_context():
            return sse.publish(data, channel=channel, **options)

    def publish_many(self, channel: str, count: int, first: int = 0, padding: str = "") -> List[str]:
        """Publish {"n": first}, {"n": first + 1}, ...; return their ids."""
        with self.app.app_context():
            return [sse.publish({"n": n, "padding": padding} if padding else {"n": n}, channel=channel) for n in range(first, first + count)]


def kept_entries(redis_client, channel: str) -> list:
    """(id, fields) of every entry the channel's stream holds, oldest first."""
    return redis_client.xrange(f"sse-replay:{{{channel}}}")

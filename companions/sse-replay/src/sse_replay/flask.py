"""A drop-in for Flask-SSE's blueprint that replays what a reconnecting client missed.

Change one import::

    from sse_replay.flask import sse          # was: from flask_sse import sse

    app.config["REDIS_URL"] = "redis://localhost"
    app.register_blueprint(sse, url_prefix="/stream")
    sse.publish({"message": "Hello!"}, type="greeting", channel="news")

Settings, in the app's config (all optional but the Redis URL):

``SSE_REDIS_URL`` or ``REDIS_URL``
    Where Redis is, as in Flask-SSE.
``SSE_REPLAY_MAX_LENGTH`` (10000)
    Events kept per channel, approximately (Redis trims whole nodes).
``SSE_REPLAY_MAX_AGE`` (86400)
    Seconds an event is kept; 0 keeps events until the length limit.
``SSE_REPLAY_HEARTBEAT`` (15)
    Seconds of silence after which a ``:heartbeat`` comment is sent.
``SSE_REPLAY_RETRY`` (3000)
    Milliseconds sent as ``retry:`` when a stream opens; 0 sends none.
``SSE_REPLAY_PAGE_SIZE`` (500)
    Entries read from Redis at a time while replaying.
``SSE_REPLAY_KEY_PREFIX`` ("sse-replay:")
    Prefix of the stream keys, ``<prefix>{<channel>}``.
``SSE_REPLAY_MAX_CHANNEL_LENGTH`` (200)
    Longest channel name accepted.
``SSE_REPLAY_REDIS_CLUSTER`` (False)
    Connect with redis-py's RedisCluster client.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import redis
from flask import Blueprint, Response, current_app, json, request

from .delivery import (
    DEFAULT_HEARTBEAT_SECONDS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_RETRY_MS,
    ReadNewest,
    ReadPage,
    Step,
    WaitForNew,
    delivery_steps,
    is_redis_read,
)
from .redis_replies import entries_from_range, entries_from_xread
from .streams import (
    DEFAULT_CHANNEL,
    DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_CHANNEL_LENGTH,
    PUBLISH_SCRIPT,
    InvalidChannel,
    RetentionSettings,
    decode_text,
    event_fields,
    flask_sse_data_text,
    parse_last_event_id,
    publish_args,
    stream_key,
    validate_channel,
)
from .wire import encode_event, encode_output

__all__ = ["Message", "ServerSentEventsBlueprint", "sse"]

log = logging.getLogger(__name__)

#: Headers of every stream: no cache may keep it, and nginx must not buffer it.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Message:
    """An event as Flask-SSE's ``Message``: data, and an optional type, id, retry.

    Kept for code that builds or prints messages itself; ``sse.publish`` does
    not need it.
    """

    def __init__(self, data: Any, type: Any = None, id: Any = None, retry: Any = None) -> None:
        self.data = data
        self.type = type
        self.id = id
        self.retry = retry

    def to_dict(self) -> dict:
        message = {"data": self.data}
        for name in ("type", "id", "retry"):
            if getattr(self, name):
                message[name] = getattr(self, name)
        return message

    def __str__(self) -> str:
        data_text = self.data if isinstance(self.data, str) else json.dumps(self.data)
        return encode_event(data_text, self.type, self.id, self.retry)

    def __repr__(self) -> str:
        options = OrderedDict((name, getattr(self, name)) for name in ("type", "id", "retry") if getattr(self, name))
        shown = "".join(f", {name}={value!r}" for name, value in options.items())
        return f"{type(self).__name__}({self.data!r}{shown})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and (self.data, self.type, self.id, self.retry) == (
            other.data,
            other.type,
            other.id,
            other.retry,
        )


@dataclass(frozen=True)
class _Settings:
    retention: RetentionSettings
    heartbeat_ms: int
    retry_ms: int
    page_size: int
    key_prefix: str
    max_channel_length: int


def _settings(config: Any) -> _Settings:
    return _Settings(
        retention=RetentionSettings(
            max_length=int(config.get("SSE_REPLAY_MAX_LENGTH", RetentionSettings.max_length)),
            max_age_seconds=float(config.get("SSE_REPLAY_MAX_AGE", RetentionSettings.max_age_seconds)),
        ),
        heartbeat_ms=int(float(config.get("SSE_REPLAY_HEARTBEAT", DEFAULT_HEARTBEAT_SECONDS)) * 1000),
        retry_ms=int(config.get("SSE_REPLAY_RETRY", DEFAULT_RETRY_MS) or 0),
        page_size=int(config.get("SSE_REPLAY_PAGE_SIZE", DEFAULT_PAGE_SIZE)),
        key_prefix=str(config.get("SSE_REPLAY_KEY_PREFIX", DEFAULT_KEY_PREFIX)),
        max_channel_length=int(config.get("SSE_REPLAY_MAX_CHANNEL_LENGTH", DEFAULT_MAX_CHANNEL_LENGTH)),
    )


def _claimed_last_event_id() -> Optional[str]:
    # The header first: a browser sends the newest id it saw there on every
    # reconnect, while a query parameter in the URL stays as first written.
    return request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or request.args.get("since")


def _read(client: Any, key: str, step: Step) -> list:
    if isinstance(step, ReadPage):
        return entries_from_range(client.xrange(key, min=step.start, max="+", count=step.count))
    if isinstance(step, ReadNewest):
        return entries_from_range(client.xrevrange(key, max="+", min="-", count=1))
    if isinstance(step, WaitForNew):
        return entries_from_xread(client.xread({key: step.after}, count=step.count, block=step.block_ms))
    raise TypeError(f"not a Redis read: {step!r}")


def _stream_body(client: Any, key: str, steps: Any, retry_ms: int) -> Iterator[str]:
    """Run the delivery steps against Redis; yield text to send.

    What is to be sent is gathered until the next Redis read and then sent as
    one chunk: a replay goes out a page at a time (bounded memory, few
    writes), and nothing waits in the buffer while the stream blocks in XREAD.
    """
    pending: list[str] = []
    try:
        step = next(steps)
        while True:
            if is_redis_read(step):
                if pending:
                    chunk, pending = "".join(pending), []
                    yield chunk
                try:
                    entries = _read(client, key, step)
                except (redis.ConnectionError, redis.TimeoutError) as error:
                    # End the stream: the client reconnects after retry: with
                    # its Last-Event-ID and is answered exactly or told to resync.
                    log.warning("sse-replay: Redis unavailable, closing the stream of %s: %s", key, error)
                    return
                step = steps.send(entries)
            else:
                pending.append(encode_output(step, retry_ms))
                step = next(steps)
    finally:
        steps.close()


class ServerSentEventsBlueprint(Blueprint):
    """Flask-SSE's blueprint, with events kept in a Redis stream per channel."""

    def _connection(self) -> tuple:
        """This app's Redis client and publish script, made once per process."""
        config = current_app.config
        redis_url = config.get("SSE_REDIS_URL") or config.get("REDIS_URL")
        if not redis_url:
            raise KeyError("Must set a redis connection URL in app config.")
        cluster = str(config.get("SSE_REPLAY_REDIS_CLUSTER", "")).lower() in ("1", "true", "yes", "on")
        connections = current_app.extensions.setdefault("sse_replay", {})
        connection = connections.get((redis_url, cluster))
        if connection is None:
            client_class = redis.RedisCluster if cluster else redis.StrictRedis
            client = client_class.from_url(redis_url)
            connection = connections[(redis_url, cluster)] = (client, client.register_script(PUBLISH_SCRIPT))
        return connection

    @property
    def redis(self) -> Any:
        """The app's Redis client (bytes replies), as Flask-SSE's ``sse.redis``."""
        return self._connection()[0]

    def publish(
        self, data: Any, type: Any = None, id: Any = None, retry: Any = None, channel: str = DEFAULT_CHANNEL
    ) -> str:
        """Publish ``data`` as a server-sent event on ``channel``; return its stream id.

        As Flask-SSE: ``data`` that is not a string is sent as JSON with the
        app's JSON provider. ``id`` is kept in the stream entry but the
        ``id:`` sent to clients is the stream id, the one a reconnect can
        resume from.
        """
        settings = _settings(current_app.config)
        validate_channel(channel, settings.max_channel_length)
        fields = event_fields(flask_sse_data_text(data, json.dumps), type=type, id=id, retry=retry)
        _client, publish_script = self._connection()
        stream_id = publish_script(
            keys=[stream_key(channel, settings.key_prefix)], args=publish_args(fields, settings.retention)
        )
        return decode_text(stream_id)

    def stream(self) -> Response:
        """The view: stream ``?channel=`` (default "sse") from the client's last event on.

        The last event is the Last-Event-ID header, else the ``last_event_id``
        or ``since`` query parameter; without one, only live events are sent.
        """
        settings = _settings(current_app.config)
        channel = request.args.get("channel") or DEFAULT_CHANNEL
        try:
            validate_channel(channel, settings.max_channel_length)
        except InvalidChannel as error:
            return current_app.response_class(f"{error}\n", status=400, mimetype="text/plain")
        client, _script = self._connection()
        steps = delivery_steps(parse_last_event_id(_claimed_last_event_id()), settings.page_size, settings.heartbeat_ms)
        body = _stream_body(client, stream_key(channel, settings.key_prefix), steps, settings.retry_ms)
        response = current_app.response_class(body, mimetype="text/event-stream")
        response.headers.update(STREAM_HEADERS)
        return response


sse = ServerSentEventsBlueprint("sse", __name__)
"""The blueprint, its stream view at the blueprint's root: register it as Flask-SSE's."""
sse.add_url_rule(rule="", endpoint="stream", view_func=sse.stream)

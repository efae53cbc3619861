"""Replay for sse-starlette / FastAPI: an event source to hand to EventSourceResponse.

::

    from sse_replay.starlette import REPLAY_HEADERS, last_event_id_from, publish, replay_events

    @app.get("/stream")
    async def stream(request: Request, channel: str = "sse"):
        events = replay_events(REDIS_URL, channel, last_event_id_from(request))
        return EventSourceResponse(events, headers=REPLAY_HEADERS)

    await publish(REDIS_URL, {"message": "Hello!"}, type="greeting", channel="news")

or, the same in one call: ``return replay_response(request, REDIS_URL)``.

Streams and events are the same as the Flask blueprint's (same keys, same
entries), so a Flask app and a Starlette app can publish to and serve the same
channels. The bytes follow sse-starlette's own layout ("\\r\\n", a space after
the colon).
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, AsyncIterator, Optional, Union

import anyio
import redis.asyncio as aioredis
import redis.exceptions
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException
from starlette.requests import Request

from .delivery import (
    DEFAULT_HEARTBEAT_SECONDS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_RETRY_MS,
    Entry,
    Heartbeat,
    Output,
    ReadNewest,
    ReadPage,
    Resync,
    Start,
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
from .wire import RESYNC_EVENT_TYPE, resync_data

__all__ = ["REPLAY_HEADERS", "last_event_id_from", "publish", "replay_events", "replay_response"]

log = logging.getLogger(__name__)

#: Pass as EventSourceResponse(headers=...): sse-starlette's default is
#: "no-store"; "no-cache" is what Flask streams of this package send too.
REPLAY_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

#: A Redis URL, or a redis.asyncio client (e.g. a RedisCluster) to share.
RedisSource = Union[str, Any]

# sse-starlette's own ping, pushed out of the way: ping=0 turns it off only in
# recent versions (older ones spin on it).
_NO_PING_SECONDS = 24 * 3600

# Closing a stream's own connection must finish even when the stream was
# cancelled (client gone), but must not hang the server if Redis is gone too.
_CLOSE_TIMEOUT_SECONDS = 5.0


def last_event_id_from(request: Request) -> Optional[str]:
    """The client's last event id: the Last-Event-ID header, else ``?last_event_id=``, else ``?since=``.

    The header first: a browser sends the newest id it saw there on every
    reconnect, while a query parameter in the URL stays as first written.
    """
    return (
        request.headers.get("last-event-id")
        or request.query_params.get("last_event_id")
        or request.query_params.get("since")
    )


def replay_events(
    redis: RedisSource,
    channel: str = DEFAULT_CHANNEL,
    last_event_id: Optional[str] = None,
    *,
    heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
    retry: int = DEFAULT_RETRY_MS,
    page_size: int = DEFAULT_PAGE_SIZE,
    key_prefix: str = DEFAULT_KEY_PREFIX,
    max_channel_length: int = DEFAULT_MAX_CHANNEL_LENGTH,
) -> AsyncIterator[bytes]:
    """The events of ``channel`` after ``last_event_id``, then live ones, forever.

    Without ``last_event_id``, live events only. An id the stream cannot
    resume from exactly gets a ``resync`` event first, then every event kept.
    A heartbeat comment is sent after ``heartbeat`` seconds of silence, and
    ``retry:`` (milliseconds; 0 for none) when the stream opens.

    The arguments are checked here, before the response starts: a bad
    channel raises HTTPException(400).
    """
    try:
        validate_channel(channel, max_channel_length)
    except InvalidChannel as error:
        raise HTTPException(status_code=400, detail=str(error)) from error
    steps = delivery_steps(parse_last_event_id(last_event_id), page_size, int(heartbeat * 1000))
    return _stream(redis, stream_key(channel, key_prefix), steps, retry)


def replay_response(
    request: Request, redis: RedisSource, channel: Optional[str] = None, **settings: Any
) -> EventSourceResponse:
    """An EventSourceResponse of ``replay_events`` for this request.

    The channel is ``channel``, else ``?channel=``, else "sse"; ``settings``
    are replay_events' keyword arguments. sse-starlette's own pings are off:
    replay_events sends heartbeats.
    """
    channel = channel or request.query_params.get("channel") or DEFAULT_CHANNEL
    events = replay_events(redis, channel, last_event_id_from(request), **settings)
    return EventSourceResponse(events, headers=REPLAY_HEADERS, ping=_NO_PING_SECONDS)


def _encode(output: Output, retry_ms: int) -> bytes:
    if isinstance(output, Entry):
        retry = output.fields.get("retry")
        event = ServerSentEvent(
            output.fields.get("data", ""),
            event=output.fields.get("type"),
            id=output.id,
            retry=int(retry) if retry else None,
        )
    elif isinstance(output, Heartbeat):
        event = ServerSentEvent(comment="heartbeat")
    elif isinstance(output, Resync):
        # No id: a client that drops before the next event keeps its old
        # Last-Event-ID and is told to resync again, which is the safe side.
        event = ServerSentEvent(resync_data(output), event=RESYNC_EVENT_TYPE)
    elif isinstance(output, Start):
        event = ServerSentEvent(retry=retry_ms) if retry_ms else ServerSentEvent(comment="")
    else:
        raise TypeError(f"not an output: {output!r}")
    return event.encode()


async def _read(client: Any, key: str, step: Step) -> list:
    if isinstance(step, ReadPage):
        return entries_from_range(await client.xrange(key, min=step.start, max="+", count=step.count))
    if isinstance(step, ReadNewest):
        return entries_from_range(await client.xrevrange(key, max="+", min="-", count=1))
    if isinstance(step, WaitForNew):
        return entries_from_xread(await client.xread({key: step.after}, count=step.count, block=step.block_ms))
    raise TypeError(f"not a Redis read: {step!r}")


async def _stream(redis_source: RedisSource, key: str, steps: Any, retry_ms: int) -> AsyncIterator[bytes]:
    # A stream from a URL has a connection of its own: its XREAD blocks for a
    # heartbeat interval, and a cancelled read leaves the connection unusable,
    # which must not be handed back to a shared pool.
    own_client = isinstance(redis_source, str)
    client = aioredis.Redis.from_url(redis_source, single_connection_client=True) if own_client else redis_source
    pending: list[bytes] = []
    try:
        step = next(steps)
        while True:
            if is_redis_read(step):
                if pending:
                    chunk, pending = b"".join(pending), []
                    yield chunk
                try:
                    entries = await _read(client, key, step)
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
                    # End the stream: the client reconnects after retry: with
                    # its Last-Event-ID and is answered exactly or told to resync.
                    log.warning("sse-replay: Redis unavailable, closing the stream of %s: %s", key, error)
                    return
                step = steps.send(entries)
            else:
                pending.append(_encode(step, retry_ms))
                step = next(steps)
    finally:
        steps.close()
        if own_client:
            with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_TIMEOUT_SECONDS):
                await client.aclose()


# Publishing clients made from URLs, one per event loop: a redis.asyncio
# client is bound to the loop it first ran on.
_publishers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


def _publish_script(redis_source: RedisSource) -> Any:
    if not isinstance(redis_source, str):
        return redis_source.register_script(PUBLISH_SCRIPT)
    per_url = _publishers.setdefault(asyncio.get_running_loop(), {})
    script = per_url.get(redis_source)
    if script is None:
        script = per_url[redis_source] = aioredis.Redis.from_url(redis_source).register_script(PUBLISH_SCRIPT)
    return script


async def publish(
    redis: RedisSource,
    data: Any,
    type: Any = None,
    channel: str = DEFAULT_CHANNEL,
    *,
    id: Any = None,
    retry: Any = None,
    max_length: int = RetentionSettings.max_length,
    max_age: float = RetentionSettings.max_age_seconds,
    key_prefix: str = DEFAULT_KEY_PREFIX,
    max_channel_length: int = DEFAULT_MAX_CHANNEL_LENGTH,
) -> str:
    """Publish ``data`` on ``channel`` as the Flask blueprint's ``sse.publish`` does; return its stream id.

    ``data`` that is not a string is sent as JSON (sorted keys, ASCII, as
    Flask's JSON). ``id`` is kept in the entry, but the SSE id is the stream
    id. ``max_length`` and ``max_age`` (seconds, 0: none) bound the channel's
    history; give every publisher of a channel the same ones.
    """
    validate_channel(channel, max_channel_length)
    fields = event_fields(flask_sse_data_text(data), type=type, id=id, retry=retry)
    retention = RetentionSettings(max_length=max_length, max_age_seconds=max_age)
    script = _publish_script(redis)
    stream_id = await script(keys=[stream_key(channel, key_prefix)], args=publish_args(fields, retention))
    return decode_text(stream_id)

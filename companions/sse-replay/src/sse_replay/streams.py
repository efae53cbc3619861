"""How events are kept in Redis: one stream per channel, shared by every framework.

Each published event is one entry of the channel's stream, appended by a Lua
script so that three things happen in one atomic step on the Redis server:

* the entry records the id of the entry before it (field ``prev_id``), which
  turns the stream into a chain: a reader that holds id A and reads entry B can
  tell whether B directly follows A, so a gap (events trimmed away, a Redis
  restart without persistence, a fail-over that lost writes) is detected
  exactly instead of guessed from ids;
* the stream is trimmed to the maximum length (``MAXLEN ~``);
* entries older than the maximum age are trimmed (``MINID ~``), measured on the
  Redis server's clock (the new entry's own id), so that app hosts with skewed
  clocks agree.

Entry fields, all strings: ``prev_id``; ``data`` (the text sent after
``data:``, already JSON for non-string data, as Flask-SSE sends it); and when
given, ``type``, ``retry`` and ``id`` (the caller's own id, kept but not sent:
the SSE id is the entry id).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

#: Key prefix of every channel's stream; the channel is wrapped in a Redis
#: Cluster hash tag so a channel always maps to exactly one slot.
DEFAULT_KEY_PREFIX = "sse-replay:"
DEFAULT_CHANNEL = "sse"
#: Longest channel name accepted from a client or a publisher.
DEFAULT_MAX_CHANNEL_LENGTH = 200

#: The id before the first entry of a stream: an empty stream's chain starts here.
STREAM_START_ID = "0-0"

# Both halves of a stream id are unsigned 64-bit integers: at most 20 digits.
_STREAM_ID_PATTERN = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
_UINT64_MAX = 2**64 - 1
# An exclusive range cannot start after the largest id: Redis rejects "(max-max".
_LARGEST_STREAM_ID = f"{_UINT64_MAX}-{_UINT64_MAX}"
# Control characters would let a channel name break a log line or a header;
# nothing legitimate needs them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# A type or retry with a line break would end its line early and let the rest
# of the value pose as another field of the event.
_LINE_BREAK = re.compile(r"[\r\n]")
_DIGITS = re.compile(r"[0-9]+")


class InvalidChannel(ValueError):
    """A channel name that is empty, too long or holds control characters."""


def validate_channel(channel: str, max_length: int = DEFAULT_MAX_CHANNEL_LENGTH) -> str:
    """Return ``channel`` if it can name a stream, else raise InvalidChannel."""
    if not isinstance(channel, str) or not channel:
        raise InvalidChannel("the channel name is empty")
    if len(channel) > max_length:
        raise InvalidChannel(f"the channel name is longer than {max_length} characters")
    if _CONTROL_CHARACTERS.search(channel):
        raise InvalidChannel("the channel name holds a control character")
    return channel


def stream_key(channel: str, key_prefix: str = DEFAULT_KEY_PREFIX) -> str:
    """The Redis key of a channel's stream, e.g. ``sse-replay:{news}``.

    The braces are a Redis Cluster hash tag: all keys of one channel (there is
    one today) land on the same node, whatever the prefix.
    """
    return f"{key_prefix}{{{channel}}}"


@dataclass(frozen=True)
class StreamId:
    """A well-formed Redis stream id given by a client, e.g. ``1700000000000-0``."""

    text: str


@dataclass(frozen=True)
class MalformedId:
    """A Last-Event-ID that is not a stream id this package could have sent.

    It is still a claim that the client saw *something*, so it is answered
    with a resync (see delivery.py) rather than ignored.
    """

    text: str


#: What a client says it has seen: nothing (None), a stream id, or garbage.
ClaimedPosition = Optional[Union[StreamId, MalformedId]]

# A malformed id is echoed back in the resync event; this bounds what a
# client can make the server echo.
_MAX_ECHOED_ID_LENGTH = 64


def parse_last_event_id(raw: Optional[str]) -> ClaimedPosition:
    """Classify a Last-Event-ID from a client (header or query parameter).

    Absent or empty means the client has seen nothing: it gets live events
    only. A value of the form ``<ms>-<seq>`` within Redis' range is a stream
    id. Anything else is malformed, echoed back cut to 64 characters.
    """
    if raw is None or raw == "":
        return None
    match = _STREAM_ID_PATTERN.fullmatch(raw)
    if match and all(int(part) <= _UINT64_MAX for part in match.groups()) and raw != _LARGEST_STREAM_ID:
        # Normalise "0001-02" to "1-2", the form Redis returns, so that an
        # equality test against ids read back from Redis works.
        ms, seq = (int(part) for part in match.groups())
        return StreamId(f"{ms}-{seq}")
    return MalformedId(raw[:_MAX_ECHOED_ID_LENGTH])


def stream_id_key(stream_id: str) -> tuple[int, int]:
    """Sort key of a stream id: (milliseconds, sequence)."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq)


def flask_sse_data_text(data: Any, dumps=None) -> str:
    """The text Flask-SSE 1.0 sends after ``data:`` for ``publish(data)``.

    Flask-SSE sends a string as is; anything else goes through JSON twice (once
    into Redis pub/sub, once out): a value whose JSON is a string (a datetime,
    a UUID, a Decimal under Flask's encoder) therefore arrives unquoted. The
    same happens here so that clients see the same bytes.

    ``dumps`` defaults to JSON with Flask's defaults (sorted keys, ASCII only,
    ", " and ": " separators); the Flask blueprint passes the app's own.
    """
    if isinstance(data, str):
        return data
    if dumps is None:
        dumps = _flask_default_dumps
    text = dumps(data)
    if text.startswith('"'):
        return json.loads(text)
    return text


def _flask_default_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def event_fields(data_text: str, type: Any = None, id: Any = None, retry: Any = None) -> dict[str, str]:
    """The stream entry fields of one event (without ``prev_id``).

    A falsy type, id or retry is left out, as Flask-SSE leaves it out.
    """
    fields = {"data": data_text}
    if type:
        type_text = str(type)
        if _LINE_BREAK.search(type_text):
            raise ValueError("an event type cannot hold a line break")
        fields["type"] = type_text
    if retry:
        retry_text = str(retry)
        if not _DIGITS.fullmatch(retry_text):
            raise ValueError("retry must be a whole number of milliseconds")
        fields["retry"] = retry_text
    if id:
        # Kept for the record only: the SSE id sent is the entry id, so that a
        # reconnect can resume exactly (see README, "The id= argument").
        fields["id"] = str(id)
    return fields


# KEYS[1]: the channel's stream.
# ARGV[1]: maximum length, approximate (Redis trims whole macro nodes).
# ARGV[2]: maximum age in milliseconds, 0 for none.
# ARGV[3...]: field, value, field, value ... of the event.
# Returns the new entry's id.
PUBLISH_SCRIPT = """
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev_id = '0-0'
if #newest > 0 then prev_id = newest[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'prev_id', prev_id, unpack(ARGV, 3))
local max_age_ms = tonumber(ARGV[2])
if max_age_ms > 0 then
  local now_ms = tonumber(string.match(id, '^%d+'))
  if now_ms > max_age_ms then
    redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', now_ms - max_age_ms))
  end
end
return id
"""


@dataclass(frozen=True)
class RetentionSettings:
    """How much of a channel's history is kept, applied when publishing."""

    max_length: int = 10_000
    max_age_seconds: float = 24 * 3600

    def __post_init__(self) -> None:
        if int(self.max_length) < 1:
            raise ValueError("the maximum length must be at least 1")
        if self.max_age_seconds < 0:
            raise ValueError("the maximum age cannot be negative (0: no age limit)")

    def script_args(self) -> list[str]:
        return [str(int(self.max_length)), str(int(self.max_age_seconds * 1000))]


def publish_args(fields: Mapping[str, str], retention: RetentionSettings) -> list[str]:
    """ARGV of PUBLISH_SCRIPT for one event."""
    args = retention.script_args()
    for name, value in fields.items():
        args.append(name)
        args.append(value)
    return args


def decode_text(value: Union[bytes, str]) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value

"""Same bytes as Flask-SSE, but for the added id: plain Flask-SSE 1.0 and the
drop-in serve the same app side by side, and each event is compared.
"""
from __future__ import annotations

import datetime
import decimal
import json
import urllib.request
import uuid

import flask_sse
import pytest
from flask import Flask

from harness import Publisher
from servers import GunicornServer, wait_until
from sse_client import SSEStream
from sse_replay.flask import Message

# (data, options) as an app passes them to sse.publish.
PUBLISHED = [
    (
        {"question": "which programming is the best?", "value": "Absolutely, PHP", "who": "allen"},
        {"type": "new_answers"},
    ),
    ({"b": 1, "a": "\u00fc\u20ac", "nested": {"z": [1, 2.5, None, True], "y": "x"}}, {}),
    ("plain text", {"type": "notification"}),
    ("two\nlines\r\nthree\rfour", {}),
    ("split\u2028by\x1cstr.splitlines", {}),
    (12345, {}),
    ([1, "two", None], {}),
    (None, {}),
    (True, {}),
    # Flask's JSON turns these into strings, which Flask-SSE then sends unquoted.
    (datetime.datetime(2015, 10, 21, 7, 28, tzinfo=datetime.timezone.utc), {}),
    (uuid.UUID("12345678-1234-5678-1234-567812345678"), {}),
    (decimal.Decimal("1.10"), {}),
    ({"n": 1}, {"retry": 5000}),
    ({"n": 2}, {"id": "id-7"}),
    ({"n": 3}, {"type": "t", "id": "id-8", "retry": 1000}),
    ("", {"type": "empty"}),
    ({"n": 4}, {"type": "", "id": 0, "retry": None}),
]


@pytest.fixture(scope="module")
def flask_sse_server(redis_server, tmp_path_factory):
    server = GunicornServer(
        tmp_path_factory.mktemp("flask-sse"),
        {"REDIS_URL": redis_server.url, "SSE_MODULE": "flask_sse"},
        "flask_app:app",
        workers=1,
    ).start()
    yield server
    server.stop()


def with_stream_id(flask_sse_lines, stream_id):
    """Flask-SSE's lines of an event as they would be with id=stream_id."""
    lines = [line for line in flask_sse_lines if not line.startswith(b"id:")]
    retry_lines = [line for line in lines if line.startswith(b"retry:")]
    lines = [line for line in lines if not line.startswith(b"retry:")]
    return lines + [b"id:" + stream_id.encode()] + retry_lines


def test_each_event_has_flask_sse_bytes_plus_the_stream_id(flask_sse_server, flask_server, redis_server, redis_client, channel):
    plain_app = Flask("plain-flask-sse")
    plain_app.config["REDIS_URL"] = redis_server.url
    replay = Publisher(redis_server.url)
    with SSEStream(flask_sse_server.port, "/stream", {"channel": channel}) as plain_stream, SSEStream(
        flask_server.port, "/stream", {"channel": channel}
    ) as replay_stream:
        # Flask-SSE sends nothing until the first event: wait for its subscription.
        wait_until(lambda: redis_client.pubsub_numsub(channel)[0][1] >= 1, 10, "Flask-SSE subscribed")
        replay_stream.wait_open()
        for data, options in PUBLISHED:
            with plain_app.app_context():
                flask_sse.sse.publish(data, channel=channel, **options)
            stream_id = replay.publish(data, channel=channel, **options)
            plain = plain_stream.next_block()
            ours = replay_stream.next_event()
            assert ours.raw.split(b"\n") == with_stream_id(plain.raw.split(b"\n"), stream_id), (data, options)
            assert ours.id == stream_id


@pytest.mark.parametrize("data, options", PUBLISHED)
def test_message_prints_as_flask_sse_message(data, options):
    app = Flask("messages")
    with app.app_context():
        assert str(Message(data, **options)) == str(flask_sse.Message(data, **options))
        assert Message(data, **options).to_dict() == flask_sse.Message(data, **options).to_dict()
        assert repr(Message(data, **options)) == repr(flask_sse.Message(data, **options))


def test_events_published_from_starlette_read_as_flask_published_ones(flask_server, starlette_server, redis_server, channel):
    # One stream format for both: what the async publish stores, a Flask
    # stream sends with the same bytes as for sse.publish.
    replay = Publisher(redis_server.url)
    json_cases = [(data, options) for data, options in PUBLISHED if isinstance(data, (dict, list, str, int, type(None)))]
    with SSEStream(flask_server.port, "/stream", {"channel": channel}) as stream:
        stream.wait_open()
        for data, options in json_cases:
            body = json.dumps({"data": data, "channel": channel, **options}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{starlette_server.port}/publish", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                from_starlette = json.load(response)["id"]
            from_flask = replay.publish(data, channel=channel, **options)
            first, second = stream.next_event(), stream.next_event()
            assert (first.id, second.id) == (from_starlette, from_flask)
            assert first.raw.replace(from_starlette.encode(), b"ID") == second.raw.replace(from_flask.encode(), b"ID"), data


def test_the_callers_id_is_kept_in_the_entry_not_sent(publisher, redis_client, channel):
    stream_id = publisher.publish({"n": 1}, channel=channel, id="order-42")
    ((entry_id, fields),) = redis_client.xrange(f"sse-replay:{{{channel}}}")
    assert entry_id == stream_id
    assert fields == {"prev_id": "0-0", "data": '{"n": 1}', "id": "order-42"}


@pytest.mark.parametrize("options", [{"type": "two\nlines"}, {"type": "cr\r"}, {"retry": "soon"}, {"retry": "5000\n"}])
def test_fields_that_would_break_the_stream_are_refused(publisher, channel, options):
    with pytest.raises(ValueError):
        publisher.publish({"n": 1}, channel=channel, **options)


@pytest.mark.parametrize("name", ["", "x" * 201, "tab\tname"])
def test_publishing_to_an_invalid_channel_is_refused(publisher, name):
    with pytest.raises(ValueError):
        publisher.publish({"n": 1}, channel=name)

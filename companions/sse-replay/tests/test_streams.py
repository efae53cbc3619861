"""Streams over HTTP from the real servers: the Flask app under gunicorn + gevent
(several workers) and the FastAPI app under uvicorn, each test against both.
"""
from __future__ import annotations

import json
import threading
import time
from typing import List

import pytest

from harness import HEARTBEAT_SECONDS, RETRY_MS, Publisher, kept_entries
from servers import wait_until
from sse_client import SSEStream


def numbers(events) -> List[int]:
    return [json.loads(event.data)["n"] for event in events]


def test_reconnect_with_last_event_id_gets_exactly_the_missed_events_once_in_order(server, publisher, channel):
    with server.open(channel) as stream:
        stream.wait_open()
        seen = publisher.publish_many(channel, 3)
        events = stream.events(3)
        assert [event.id for event in events] == seen
    missed = publisher.publish_many(channel, 5, first=3)

    with server.open(channel, last_event_id=events[-1].id) as stream:
        replayed = stream.events(5)
        assert [event.id for event in replayed] == missed
        assert numbers(replayed) == [3, 4, 5, 6, 7]
        assert not any(event.is_resync for event in replayed)
        # The next event is the next one published: nothing doubled, nothing
        # extra between the replay and the live events.
        live = publisher.publish({"n": 8}, channel=channel)
        following = stream.next_event()
        assert (following.id, numbers([following])) == (live, [8])


def test_without_last_event_id_only_live_events_are_sent(server, publisher, channel):
    publisher.publish_many(channel, 3)
    with server.open(channel) as stream:
        stream.wait_open()
        live = publisher.publish({"n": 100}, channel=channel)
        event = stream.next_event()
        assert (event.id, numbers([event])) == (live, [100])


def test_replay_to_live_boundary_has_no_gap_and_no_duplicate(server, publisher, channel):
    # The backlog is large enough (16 MB) that the server cannot have written
    # it all into the socket buffers when the client reads its first event:
    # the concurrent publishing starts while the server still replays, goes
    # on while it reads pages that grow under it, and through its switch to
    # live reads.
    backlog_size = 4000
    backlog = publisher.publish_many(channel, backlog_size, padding="x" * 4000)
    published: List[str] = []
    stop = threading.Event()
    replay_started = threading.Event()

    def publish_concurrently():
        replay_started.wait(30)
        n = backlog_size
        while not stop.is_set() and n < backlog_size + 20_000:
            published.append(publisher.publish({"n": n}, channel=channel))
            n += 1

    publishing = threading.Thread(target=publish_concurrently)
    publishing.start()
    try:
        with server.open(channel, last_event_id=backlog[0], deadline_seconds=60) as stream:
            received = [stream.next_event()]
            replay_started.set()
            # Until the whole backlog and 500 events published meanwhile are in.
            while len(received) < backlog_size - 1 + 500:
                received.append(stream.next_event())
            stop.set()
            publishing.join(30)
            assert not publishing.is_alive()
            while len(received) < backlog_size - 1 + len(published):
                received.append(stream.next_event())
            # Nothing after the last one published: the next event is a new one.
            sentinel = publisher.publish({"n": -1}, channel=channel)
            assert stream.next_event().id == sentinel
    finally:
        stop.set()
        replay_started.set()
        publishing.join(30)
    assert [event.id for event in received] == backlog[1:] + published
    assert numbers(received) == list(range(1, backlog_size + len(published)))
    assert not any(event.is_resync for event in received)


def test_a_trimmed_stream_gives_resync_first_then_what_is_kept(server, redis_client, redis_server, channel):
    short = Publisher(redis_server.url, SSE_REPLAY_MAX_LENGTH=20)
    ids = short.publish_many(channel, 100)
    kept = kept_entries(redis_client, channel)
    assert 20 <= len(kept) < 100  # trimmed, by whole nodes of 10 entries
    kept_ids = [entry_id for entry_id, _fields in kept]

    with server.open(channel, last_event_id=ids[0]) as stream:
        resync = stream.next_event()
        assert resync.is_resync and resync.id is None
        assert resync.json() == {"last_event_id": ids[0], "oldest_id": kept_ids[0]}
        assert [event.id for event in stream.events(len(kept_ids))] == kept_ids
        live = short.publish({"n": 100}, channel=channel)
        assert stream.next_event().id == live


def test_the_last_trimmed_id_resumes_exactly_without_resync(server, redis_client, redis_server, channel):
    # The oldest kept entry records the id before it, the newest trimmed one:
    # a client that saw exactly up to there missed nothing.
    short = Publisher(redis_server.url, SSE_REPLAY_MAX_LENGTH=20)
    short.publish_many(channel, 100)
    kept = kept_entries(redis_client, channel)
    last_trimmed = kept[0][1]["prev_id"]
    with server.open(channel, last_event_id=last_trimmed) as stream:
        events = stream.events(len(kept))
        assert [event.id for event in events] == [entry_id for entry_id, _fields in kept]
        assert not any(event.is_resync for event in events)


def test_events_older_than_the_maximum_age_are_trimmed(server, redis_client, redis_server, channel):
    aging = Publisher(redis_server.url, SSE_REPLAY_MAX_AGE=1)
    old = aging.publish_many(channel, 10)  # one full node of 10 entries
    newest_ms = int(old[-1].split("-")[0])
    # Age is measured on the Redis server's clock: wait for it, not for ours.
    def redis_now_ms():
        seconds, microseconds = redis_client.time()
        return seconds * 1000 + microseconds // 1000

    wait_until(lambda: redis_now_ms() > newest_ms + 1000, 10, "Redis time past the maximum age")
    new = aging.publish({"n": 10}, channel=channel)
    assert [entry_id for entry_id, _fields in kept_entries(redis_client, channel)] == [new]

    with server.open(channel, last_event_id=old[-1]) as stream:
        assert stream.next_event().id == new  # exact: the new entry follows old[-1]
    with server.open(channel, last_event_id=old[0]) as stream:
        resync = stream.next_event()
        assert resync.json() == {"last_event_id": old[0], "oldest_id": new}
        assert stream.next_event().id == new


@pytest.mark.parametrize("claimed", ["garbage", "12", "1-2-3", "99999999999999999999999-0", "x" * 2000])
def test_a_malformed_last_event_id_gets_resync_then_everything_kept(server, publisher, channel, claimed):
    ids = publisher.publish_many(channel, 3)
    with server.open(channel, last_event_id=claimed) as stream:
        resync = stream.next_event()
        assert resync.json() == {"last_event_id": claimed[:64], "oldest_id": ids[0]}
        assert [event.id for event in stream.events(3)] == ids


def test_a_last_event_id_newer_than_the_stream_gets_resync_then_everything_kept(server, publisher, channel):
    # What a client holds after Redis restarted without persistence, or failed
    # over to a replica that missed writes, on a host whose clock is behind.
    ids = publisher.publish_many(channel, 3)
    future = f"{int(ids[-1].split('-')[0]) + 3_600_000}-0"
    with server.open(channel, last_event_id=future) as stream:
        assert stream.next_event().json() == {"last_event_id": future, "oldest_id": ids[0]}
        assert [event.id for event in stream.events(3)] == ids


def test_an_empty_last_event_id_is_no_last_event_id(server, publisher, channel):
    publisher.publish_many(channel, 2)
    with server.open(channel, last_event_id="") as stream:
        stream.wait_open()
        live = publisher.publish({"n": 9}, channel=channel)
        assert stream.next_event().id == live


@pytest.mark.parametrize("parameter", ["last_event_id", "since"])
def test_query_parameter_forms_of_last_event_id(server, publisher, channel, parameter):
    ids = publisher.publish_many(channel, 4)
    with server.open(channel, query={parameter: ids[1]}) as stream:
        assert [event.id for event in stream.events(2)] == ids[2:]


def test_the_header_wins_over_the_query_parameter(server, publisher, channel):
    # A browser reconnecting to ?last_event_id=<old> sends the newest id it saw
    # in the header; the URL still holds the old one.
    ids = publisher.publish_many(channel, 4)
    with server.open(channel, last_event_id=ids[2], query={"last_event_id": ids[0]}) as stream:
        assert stream.next_event().id == ids[3]


def test_headers_and_retry(server, channel):
    with server.open(channel) as stream:
        assert stream.status == 200
        assert stream.header("Content-Type").startswith("text/event-stream")
        assert stream.header("Cache-Control") == "no-cache"
        assert stream.header("X-Accel-Buffering") == "no"
        first = stream.wait_open()
        assert first.retry == str(RETRY_MS)
        assert first.raw == (b"retry:2500" if server.kind == "flask" else b"retry: 2500")


def test_heartbeat_while_idle(server, publisher, channel):
    with server.open(channel) as stream:
        stream.wait_open()
        started = time.monotonic()
        heartbeats = 0
        while heartbeats < 3:
            block = stream.next_block(deadline_seconds=10 * HEARTBEAT_SECONDS)
            assert block is not None and not block.is_event
            heartbeats += block.comments == ["heartbeat"]
        # Three silences of one interval each: not sooner (one per interval, not
        # a flood), with a generous bound above for a loaded machine.
        assert time.monotonic() - started >= 2 * HEARTBEAT_SECONDS
        # Heartbeats do not hold back an event.
        live = publisher.publish({"n": 1}, channel=channel)
        assert stream.next_event(deadline_seconds=5).id == live


@pytest.mark.parametrize("name", ["x" * 201, "bad\x01name", "new\nline"])
def test_an_invalid_channel_is_refused_with_400(server, name):
    stream = server.open(name)
    try:
        assert stream.status == 400
    finally:
        stream.close()


def test_a_long_channel_name_within_the_limit_is_served(server, publisher):
    name = "c" * 200
    with server.open(name) as stream:
        stream.wait_open()
        live = publisher.publish({"n": 1}, channel=name)
        assert stream.next_event().id == live


@pytest.fixture(scope="session")
def ten_thousand_events(publisher):
    """A channel of 10,001 events: the first, then the 10,000 to replay."""
    channel = "ten-thousand"
    return channel, publisher.publish_many(channel, 10_001)


def test_ten_thousand_events_are_replayed_in_order_page_by_page(server, ten_thousand_events, redis_client):
    channel, ids = ten_thousand_events
    xrange_calls_before = redis_client.info("commandstats").get("cmdstat_xrange", {}).get("calls", 0)
    with server.open(channel, last_event_id=ids[0], deadline_seconds=60) as stream:
        events = stream.events(10_000, deadline_seconds=60)
    assert [event.id for event in events] == ids[1:]
    assert numbers(events) == list(range(1, 10_001))
    # Paged: at least 10,000 / 500 reads, never the whole stream in one.
    xrange_calls = redis_client.info("commandstats")["cmdstat_xrange"]["calls"] - xrange_calls_before
    assert xrange_calls >= 20


def test_a_slow_client_overtaken_by_trimming_is_told_with_resync_at_each_gap(server, redis_server, channel):
    # The client reads nothing while 200 events of 256 kB are published to a
    # channel that keeps about 20: the server is stuck writing after the first
    # few (TCP buffers hold some MB), and by the time it reads on, the events
    # after the ones it sent are trimmed. The client must be told where.
    short = Publisher(redis_server.url, SSE_REPLAY_MAX_LENGTH=20)
    padding = "p" * 256_000
    with server.open(channel, receive_buffer=4096, deadline_seconds=60) as stream:
        stream.wait_open()
        published = short.publish_many(channel, 200, padding=padding)
        sentinel = short.publish({"n": 200}, channel=channel)
        received = []
        while not received or received[-1].id != sentinel:
            received.append(stream.next_event(deadline_seconds=30))
    order = {event_id: index for index, event_id in enumerate(published + [sentinel])}
    resync_count = 0
    previous = None  # index in published of the last event received
    for position, block in enumerate(received):
        if block.is_resync:
            resync_count += 1
            told = block.json()
            following = received[position + 1]
            assert told == {"last_event_id": received[position - 1].id if position else None, "oldest_id": following.id}
            # Told only where events really are missing.
            assert previous is not None and order[following.id] > previous + 1
            continue
        index = order[block.id]
        if previous is not None and index != previous + 1:
            assert received[position - 1].is_resync, f"a gap after {previous} without resync"
        previous = index
    assert resync_count >= 1


def test_replay_response_in_one_call(starlette_server, publisher, channel):
    ids = publisher.publish_many(channel, 3)
    stream = SSEStream(
        starlette_server.port, "/stream-response", {"channel": channel}, {"Last-Event-ID": ids[0]}, b"\r\n"
    )
    with stream:
        assert stream.header("Cache-Control") == "no-cache"
        assert stream.header("X-Accel-Buffering") == "no"
        assert stream.wait_open().retry == str(RETRY_MS)
        assert [event.id for event in stream.events(2)] == ids[1:]
        # Its idle comments are replay_events' heartbeats, not sse-starlette's pings.
        block = stream.next_block(deadline_seconds=10 * HEARTBEAT_SECONDS)
        assert block.comments == ["heartbeat"]

"""The delivery rules (sse_replay.delivery), driven against an in-memory stream.

Here the interleavings that a real server makes rare can be forced: an
entry appended between the last replay page and the first live read, a trim
past a slow client, and so on.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import pytest

from sse_replay.delivery import (
    Entry,
    Heartbeat,
    ReadNewest,
    ReadPage,
    Resync,
    Start,
    WaitForNew,
    delivery_steps,
    is_redis_read,
)
from sse_replay.streams import MalformedId, StreamId, parse_last_event_id, stream_id_key


class FakeStream:
    """Entries with ids 1-0, 2-0, ...; each records the newest entry before it, as the publish script does."""

    def __init__(self) -> None:
        self.entries: List[Entry] = []
        self.next_ms = 1
        self.reads: list = []

    def add(self, count: int = 1) -> List[str]:
        ids = []
        for _ in range(count):
            prev_id = self.entries[-1].id if self.entries else "0-0"
            entry = Entry(f"{self.next_ms}-0", {"data": str(self.next_ms), "prev_id": prev_id})
            self.next_ms += 1
            self.entries.append(entry)
            ids.append(entry.id)
        return ids

    def trim_to(self, length: int) -> None:
        self.entries = self.entries[-length:] if length else []

    def ids(self) -> List[str]:
        return [entry.id for entry in self.entries]

    def answer(self, step) -> List[Entry]:
        self.reads.append(step)
        if isinstance(step, ReadNewest):
            return self.entries[-1:]
        if isinstance(step, ReadPage):
            if step.start == "-":
                chosen = self.entries
            elif step.start.startswith("("):
                after = stream_id_key(step.start[1:])
                chosen = [entry for entry in self.entries if stream_id_key(entry.id) > after]
            else:
                start = stream_id_key(step.start)
                chosen = [entry for entry in self.entries if stream_id_key(entry.id) >= start]
            return chosen[: step.count]
        if isinstance(step, WaitForNew):
            after = stream_id_key(step.after)
            return [entry for entry in self.entries if stream_id_key(entry.id) > after][: step.count]
        raise AssertionError(step)


def drive(
    stream: FakeStream,
    claimed: Optional[str],
    heartbeats: int = 1,
    page_size: int = 500,
    before_read: Optional[Callable[[object], None]] = None,
) -> list:
    """Run the steps until ``heartbeats`` heartbeats (the fake never blocks: idle = heartbeat)."""
    steps = delivery_steps(parse_last_event_id(claimed), page_size=page_size, heartbeat_ms=1000)
    outputs: list = []
    step = next(steps)
    while sum(isinstance(output, Heartbeat) for output in outputs) < heartbeats:
        if is_redis_read(step):
            if before_read:
                before_read(step)
            step = steps.send(stream.answer(step))
        else:
            outputs.append(step)
            step = next(steps)
    steps.close()
    return outputs


def sent_ids(outputs) -> List[str]:
    return [output.id for output in outputs if isinstance(output, Entry)]


def resyncs(outputs) -> List[Resync]:
    return [output for output in outputs if isinstance(output, Resync)]


def test_without_last_event_id_only_entries_published_after_opening_are_sent():
    stream = FakeStream()
    stream.add(3)
    later: List[str] = []

    def publish_once_live(step):
        if isinstance(step, WaitForNew) and not later:
            later.extend(stream.add(2))

    outputs = drive(stream, None, before_read=publish_once_live)
    assert isinstance(outputs[0], Start)
    assert sent_ids(outputs) == later
    assert resyncs(outputs) == []
    assert isinstance(stream.reads[0], ReadNewest)


def test_an_empty_channel_without_last_event_id_sends_its_first_entry():
    stream = FakeStream()
    later: List[str] = []

    def publish_once_live(step):
        if isinstance(step, WaitForNew) and not later:
            later.extend(stream.add(1))

    outputs = drive(stream, None, before_read=publish_once_live)
    assert sent_ids(outputs) == later
    assert stream.reads[1] == WaitForNew(after="0-0", count=500, block_ms=1000)


def test_a_kept_last_event_id_gets_exactly_the_entries_after_it():
    stream = FakeStream()
    ids = stream.add(10)
    outputs = drive(stream, ids[3])
    assert sent_ids(outputs) == ids[4:]
    assert resyncs(outputs) == []


def test_the_newest_id_gets_nothing_replayed_then_live_entries():
    stream = FakeStream()
    ids = stream.add(5)
    later: List[str] = []

    def publish_once_live(step):
        if isinstance(step, WaitForNew) and not later:
            later.extend(stream.add(1))

    outputs = drive(stream, ids[-1], before_read=publish_once_live)
    assert sent_ids(outputs) == later
    assert resyncs(outputs) == []


def test_a_trimmed_id_whose_successor_is_the_oldest_kept_is_exact():
    stream = FakeStream()
    ids = stream.add(10)
    stream.trim_to(6)  # ids[4:] kept; ids[3] was the last trimmed
    outputs = drive(stream, ids[3])
    assert resyncs(outputs) == []
    assert sent_ids(outputs) == ids[4:]


def test_an_id_older_than_the_kept_entries_gets_resync_then_everything_kept():
    stream = FakeStream()
    ids = stream.add(10)
    stream.trim_to(6)
    outputs = drive(stream, ids[1])
    assert outputs[1] == Resync(last_event_id=ids[1], oldest_id=ids[4])
    assert sent_ids(outputs) == ids[4:]
    assert len(resyncs(outputs)) == 1


def test_an_id_newer_than_the_newest_entry_gets_resync_then_everything_kept():
    # As after a Redis restart without persistence (or a fail-over that lost
    # writes) on a host whose clock is behind: the stream is younger than the id.
    stream = FakeStream()
    ids = stream.add(3)
    outputs = drive(stream, "999-0")
    assert outputs[1] == Resync(last_event_id="999-0", oldest_id=ids[0])
    assert sent_ids(outputs) == ids


def test_an_id_in_the_range_but_never_sent_gets_resync():
    stream = FakeStream()
    ids = stream.add(3)
    outputs = drive(stream, "2-5")
    assert outputs[1] == Resync(last_event_id="2-5", oldest_id=ids[0])
    assert sent_ids(outputs) == ids


@pytest.mark.parametrize("claimed", ["garbage", "12", "1-2-3", "-1-0", "1-", " 1-0", "1" * 21 + "-0", "18446744073709551616-0"])
def test_a_malformed_id_gets_resync_then_everything_kept(claimed):
    stream = FakeStream()
    ids = stream.add(3)
    outputs = drive(stream, claimed)
    assert outputs[1] == Resync(last_event_id=claimed, oldest_id=ids[0])
    assert sent_ids(outputs) == ids


def test_an_id_on_an_empty_channel_gets_resync_then_live_entries_without_another():
    stream = FakeStream()
    later: List[str] = []

    def publish_once_live(step):
        if isinstance(step, WaitForNew) and not later:
            later.extend(stream.add(2))

    outputs = drive(stream, "5-0", before_read=publish_once_live)
    assert outputs[1] == Resync(last_event_id="5-0", oldest_id=None)
    assert sent_ids(outputs) == later
    assert len(resyncs(outputs)) == 1


def test_zero_id_means_from_the_start_exact_while_nothing_was_trimmed():
    stream = FakeStream()
    ids = stream.add(4)
    assert resyncs(drive(stream, "0-0")) == []
    assert sent_ids(drive(stream, "0-0")) == ids
    stream.trim_to(2)
    assert resyncs(drive(stream, "0-0")) == [Resync(last_event_id="0-0", oldest_id=ids[2])]


def test_replay_is_read_in_pages_of_the_page_size():
    stream = FakeStream()
    ids = stream.add(1234)
    outputs = drive(stream, ids[0], page_size=100)
    assert sent_ids(outputs) == ids[1:]
    pages = [read for read in stream.reads if isinstance(read, ReadPage)]
    assert all(read.count <= 101 for read in pages)
    assert len(pages) == 13  # 1 + 100 on the first read (claimed id included), then 100 a page


def test_entries_published_during_replay_and_before_the_first_live_read_are_sent_once():
    stream = FakeStream()
    ids = stream.add(250)
    published: List[str] = []

    def publish_at_every_read(step):
        # Two more entries before every read, replay pages and live reads alike.
        if len(published) < 40:
            published.extend(stream.add(2))

    outputs = drive(stream, ids[0], page_size=50, before_read=publish_at_every_read)
    assert sent_ids(outputs) == ids[1:] + published
    assert resyncs(outputs) == []


def test_a_trim_past_a_slow_client_is_told_with_resync_before_the_next_entry():
    stream = FakeStream()
    ids = stream.add(3)
    lost: List[str] = []
    after: List[str] = []

    def overtake_once(step):
        if isinstance(step, WaitForNew) and not lost:
            lost.extend(stream.add(4))
            after.extend(stream.add(3))
            stream.trim_to(3)  # the 4 were trimmed before the client read them

    outputs = drive(stream, ids[-1], before_read=overtake_once)
    assert resyncs(outputs) == [Resync(last_event_id=ids[-1], oldest_id=after[0])]
    assert sent_ids(outputs) == after
    assert outputs.index(resyncs(outputs)[0]) == outputs.index(next(o for o in outputs if isinstance(o, Entry))) - 1


def test_a_heartbeat_follows_each_idle_live_read():
    stream = FakeStream()
    stream.add(1)
    outputs = drive(stream, None, heartbeats=3)
    assert [type(output) for output in outputs] == [Start, Heartbeat, Heartbeat, Heartbeat]


def test_parse_last_event_id():
    assert parse_last_event_id(None) is None
    assert parse_last_event_id("") is None
    assert parse_last_event_id("1700000000000-3") == StreamId("1700000000000-3")
    assert parse_last_event_id("0001-02") == StreamId("1-2")
    assert parse_last_event_id("18446744073709551615-0") == StreamId("18446744073709551615-0")
    assert parse_last_event_id("18446744073709551615-18446744073709551615") == MalformedId(
        "18446744073709551615-18446744073709551615"
    )
    assert parse_last_event_id("x" * 1000) == MalformedId("x" * 64)
    assert isinstance(parse_last_event_id("1-0\n"), MalformedId)

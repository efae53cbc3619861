"""What one client's stream sends, decided once for both frameworks.

``delivery_steps`` is a generator that does no I/O. It yields two kinds of
steps:

* a Redis read (ReadPage, ReadNewest, WaitForNew): the driver runs it and
  sends back the entries it returned, as a list of Entry;
* something to send to the client (Entry, Resync, Heartbeat, Start): the
  driver encodes it for its framework and sends nothing back.

The Flask (sync) and Starlette (async) drivers only translate; the rules of
exactness live here, where both share them and the tests can drive them.

The rules:

* No Last-Event-ID: start after the newest entry, i.e. live events only, read
  with blocking XREAD from that id, so nothing published after the stream
  opened is missed.
* A Last-Event-ID A that is still in the stream, or whose successor in the
  stream records A as its ``prev_id``: replay every entry after A, page by
  page, then read live from the last id replayed. One id is followed from
  the first page to the live reads, so there is no gap and no duplicate.
* Anything else (A trimmed away with more after it, A newer than the newest
  entry after a Redis restart or fail-over, A not an id at all): one
  ``resync`` event, then every entry the stream still holds, then live.
* Between any two entries sent, the later one must record the earlier one as
  its ``prev_id``; if not (the stream was trimmed past a slow client while it
  was behind), a ``resync`` is sent before the later entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generator, List, Mapping, Optional, Union

from .streams import ClaimedPosition, MalformedId, StreamId, STREAM_START_ID

DEFAULT_PAGE_SIZE = 500
DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_RETRY_MS = 3000


@dataclass(frozen=True)
class Entry:
    """One stream entry: its id (the SSE id) and its fields (see streams.py)."""

    id: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def prev_id(self) -> Optional[str]:
        return self.fields.get("prev_id")


# Redis reads, each on the channel's stream.


@dataclass(frozen=True)
class ReadPage:
    """``XRANGE key <start> + COUNT <count>``; start is an id, "(id" or "-"."""

    start: str
    count: int


@dataclass(frozen=True)
class ReadNewest:
    """``XREVRANGE key + - COUNT 1``."""


@dataclass(frozen=True)
class WaitForNew:
    """``XREAD COUNT <count> BLOCK <block_ms> STREAMS key <after>``."""

    after: str
    count: int
    block_ms: int


RedisRead = Union[ReadPage, ReadNewest, WaitForNew]


# What the client is sent.


@dataclass(frozen=True)
class Start:
    """Sent once when the stream opens: the reconnection delay (``retry:``)."""


@dataclass(frozen=True)
class Heartbeat:
    """A comment line sent when nothing was published for a heartbeat interval."""


@dataclass(frozen=True)
class Resync:
    """The client's history has a hole: events after ``last_event_id`` may be lost.

    ``oldest_id`` is the id of the next event sent (the oldest one the stream
    still holds after the hole), or None when the stream holds nothing.
    """

    last_event_id: Optional[str]
    oldest_id: Optional[str]


Output = Union[Start, Heartbeat, Resync, Entry]
Step = Union[RedisRead, Output]


class _Delivery:
    def __init__(self, page_size: int, heartbeat_ms: int) -> None:
        if page_size < 1:
            raise ValueError("the page size must be at least 1")
        if heartbeat_ms < 1:
            raise ValueError("the heartbeat interval must be at least 1 ms")
        self.page_size = page_size
        self.heartbeat_ms = heartbeat_ms
        # The id of the last entry the client has, or None when it has none
        # that the stream can vouch for (just after a resync, or a channel
        # that had no entry yet): the next entry is then taken as it is.
        self.cursor: Optional[str] = None

    def deliver(self, entry: Entry) -> Generator[Output, None, None]:
        if self.cursor is not None and entry.prev_id != self.cursor:
            yield Resync(last_event_id=self.cursor, oldest_id=entry.id)
        yield entry
        self.cursor = entry.id

    def steps(self, claimed: ClaimedPosition) -> Generator[Step, Optional[List[Entry]], None]:
        if claimed is None:
            newest = yield ReadNewest()
            self.cursor = newest[0].id if newest else None
            yield Start()
        else:
            yield Start()
            yield from self.replay(claimed)
        yield from self.live()

    def replay(self, claimed: Union[StreamId, MalformedId]) -> Generator[Step, Optional[List[Entry]], None]:
        page: List[Entry] = []
        exact = False
        if isinstance(claimed, StreamId):
            # Inclusive start, one more than a page: whether the claimed id is
            # still kept and the entries after it come in one atomic read.
            first_read = yield ReadPage(start=claimed.text, count=self.page_size + 1)
            more = len(first_read) == self.page_size + 1
            if first_read and first_read[0].id == claimed.text:
                exact, page = True, first_read[1:]
            elif first_read and first_read[0].prev_id == claimed.text:
                # The claimed entry was trimmed, but the oldest kept entry
                # directly follows it: the client has missed nothing trimmed.
                exact, page = True, first_read
        if exact:
            self.cursor = claimed.text
        else:
            page = yield ReadPage(start="-", count=self.page_size)
            more = len(page) == self.page_size
            yield Resync(last_event_id=claimed.text, oldest_id=page[0].id if page else None)
            self.cursor = None
        while True:
            for entry in page:
                yield from self.deliver(entry)
            if not more:
                return
            # A full page had entries, and delivering them set the cursor.
            page = yield ReadPage(start="(" + self.cursor, count=self.page_size)
            more = len(page) == self.page_size

    def live(self) -> Generator[Step, Optional[List[Entry]], None]:
        while True:
            after = self.cursor if self.cursor is not None else STREAM_START_ID
            entries = yield WaitForNew(after=after, count=self.page_size, block_ms=self.heartbeat_ms)
            if not entries:
                yield Heartbeat()
                continue
            for entry in entries:
                yield from self.deliver(entry)


def delivery_steps(
    claimed: ClaimedPosition,
    page_size: int = DEFAULT_PAGE_SIZE,
    heartbeat_ms: int = int(DEFAULT_HEARTBEAT_SECONDS * 1000),
) -> Generator[Step, Optional[List[Entry]], None]:
    """The steps of one client's stream; see the module docstring."""
    return _Delivery(page_size, heartbeat_ms).steps(claimed)


def is_redis_read(step: Step) -> bool:
    return isinstance(step, (ReadPage, ReadNewest, WaitForNew))

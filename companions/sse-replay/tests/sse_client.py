"""A small SSE client that keeps the raw bytes: the tests check exact wire formats.

Reads block by block (one event, comment or retry-only block at a time) with
a deadline on every read, so a missing event fails the test instead of
hanging it.
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional
from urllib.parse import urlencode

DEFAULT_DEADLINE_SECONDS = 15.0


@dataclass
class Block:
    """One block of an SSE stream, up to a blank line."""

    raw: bytes
    type: Optional[str] = None
    data_lines: List[str] = field(default_factory=list)
    id: Optional[str] = None
    retry: Optional[str] = None
    comments: List[str] = field(default_factory=list)

    @property
    def data(self) -> Optional[str]:
        return "\n".join(self.data_lines) if self.data_lines else None

    @property
    def is_event(self) -> bool:
        return bool(self.data_lines) or self.type is not None or self.id is not None

    @property
    def is_resync(self) -> bool:
        return self.type == "resync"

    def json(self):
        return json.loads(self.data)


_FIELD = re.compile(r"([^:]*)(?::(.*))?")


def parse_block(raw: bytes, sep: bytes) -> Block:
    block = Block(raw=raw)
    for line in raw.decode("utf-8").split(sep.decode()):
        if line.startswith(":"):
            block.comments.append(line[1:].strip())
            continue
        name, value = _FIELD.fullmatch(line).groups()
        value = value or ""
        if value.startswith(" "):  # the spec drops one leading space
            value = value[1:]
        if name == "data":
            block.data_lines.append(value)
        elif name == "event":
            block.type = value
        elif name == "id":
            block.id = value
        elif name == "retry":
            block.retry = value
    return block


class _Connection(http.client.HTTPConnection):
    """An HTTP connection whose socket can have a small receive buffer (a slow client)."""

    def __init__(self, *args, receive_buffer: Optional[int] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.receive_buffer = receive_buffer

    def connect(self) -> None:
        if self.receive_buffer is None:
            return super().connect()
        # Set before connecting, so that the TCP window is small from the start.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


class SSEStream:
    """One GET of an event stream, read block by block."""

    def __init__(
        self,
        port: int,
        path: str = "/stream",
        query: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
        sep: bytes = b"\n",
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        receive_buffer: Optional[int] = None,
    ) -> None:
        self.sep = sep
        self.terminator = sep * 2
        self.connection = _Connection("127.0.0.1", port, timeout=deadline_seconds, receive_buffer=receive_buffer)
        target = path + ("?" + urlencode(query) if query else "")
        self.connection.request("GET", target, headers=headers or {})
        # Plain Flask-SSE sends not even its headers before the first event:
        # the response is read when first needed.
        self._response: Optional[http.client.HTTPResponse] = None
        self.buffer = bytearray()
        self.position = 0  # where the next block starts in buffer
        self.ended = False

    @property
    def response(self) -> http.client.HTTPResponse:
        if self._response is None:
            self._response = self.connection.getresponse()
        return self._response

    @property
    def status(self) -> int:
        return self.response.status

    def header(self, name: str) -> Optional[str]:
        return self.response.getheader(name)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "SSEStream":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def next_block(self, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> Optional[Block]:
        """The next block, or None when the server ended the stream."""
        deadline = time.monotonic() + deadline_seconds
        while True:
            end = self.buffer.find(self.terminator, self.position)
            if end >= 0:
                break
            if self.ended:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete SSE block within {deadline_seconds} s; have {bytes(self.buffer[self.position:self.position + 200])!r}")
            response = self.response
            self.connection.sock.settimeout(remaining)
            try:
                chunk = response.read1(65536)
            except TimeoutError:
                continue  # the deadline check above fails it
            except (http.client.IncompleteRead, ConnectionError):
                chunk = b""
            if not chunk:
                self.ended = True
            # Drop what was parsed before appending, so a long stream is not
            # copied over and over (the benchmark reads 10,000 events fast).
            del self.buffer[: self.position]
            self.position = 0
            self.buffer += chunk
        raw = bytes(self.buffer[self.position : end])
        self.position = end + len(self.terminator)
        return parse_block(raw, self.sep)

    def next_event(self, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> Block:
        """The next event (or resync), skipping comments and retry-only blocks."""
        deadline = time.monotonic() + deadline_seconds
        while True:
            block = self.next_block(max(0.0, deadline - time.monotonic()))
            if block is None:
                raise EOFError("the server ended the stream")
            if block.is_event:
                return block

    def events(self, count: int, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> List[Block]:
        deadline = time.monotonic() + deadline_seconds
        return [self.next_event(max(0.0, deadline - time.monotonic())) for _ in range(count)]

    def wait_open(self, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> Block:
        """The first block, which sse-replay sends once it has taken its place in the stream."""
        block = self.next_block(deadline_seconds)
        assert block is not None and not block.is_event, block
        return block

"""The bytes of a Flask-SSE stream, plus the few this package adds.

Flask-SSE 1.0 writes an event as ``event:``, one ``data:`` per line of the
data (``str.splitlines``), ``id:``, ``retry:``, each without a space after the
colon, "\\n" line ends and a blank line after. The same layout is used here,
so that existing clients see the same bytes, with one difference: ``id:`` is
always there and is the stream entry id.

Added: ``retry:<ms>`` alone when the stream opens, ``:heartbeat`` comments
while idle and the ``resync`` event. A browser's EventSource fires no event
for the first two.
"""
from __future__ import annotations

import json
from typing import Optional

from .delivery import Entry, Heartbeat, Output, Resync, Start

RESYNC_EVENT_TYPE = "resync"
HEARTBEAT = ":heartbeat\n\n"


def resync_data(resync: Resync) -> str:
    """The data of a resync event, JSON like Flask's (sorted keys)."""
    return json.dumps(
        {"last_event_id": resync.last_event_id, "oldest_id": resync.oldest_id},
        ensure_ascii=True,
        sort_keys=True,
    )


def encode_event(
    data_text: str, type: Optional[str] = None, id: Optional[str] = None, retry: Optional[str] = None
) -> str:
    lines = []
    if type:
        lines.append(f"event:{type}")
    lines.extend(f"data:{line}" for line in data_text.splitlines())
    if id:
        lines.append(f"id:{id}")
    if retry:
        lines.append(f"retry:{retry}")
    return "\n".join(lines) + "\n\n"


def encode_entry(entry: Entry) -> str:
    fields = entry.fields
    return encode_event(fields.get("data", ""), fields.get("type"), entry.id, fields.get("retry"))


def encode_output(output: Output, retry_ms: int) -> str:
    if isinstance(output, Entry):
        return encode_entry(output)
    if isinstance(output, Heartbeat):
        return HEARTBEAT
    if isinstance(output, Resync):
        # No id: a client that drops before the next event keeps its old
        # Last-Event-ID and is told to resync again, which is the safe side.
        return encode_event(resync_data(output), RESYNC_EVENT_TYPE)
    if isinstance(output, Start):
        # Also makes the server send its headers at once, so a client knows
        # the stream is open before the first event.
        return f"retry:{retry_ms}\n\n" if retry_ms else ":\n\n"
    raise TypeError(f"not an output: {output!r}")

"""Stream entries out of redis-py replies, whatever the version and protocol.

redis-py returns bytes or str (decode_responses), and XREAD comes back as a
list of [key, entries] under RESP2 but as a dict under RESP3, in some
versions with the entries wrapped in one more list. Both drivers read through
here so that none of that reaches delivery.py.
"""
from __future__ import annotations

from typing import Any, List

from .delivery import Entry
from .streams import decode_text


def _entry(raw: Any) -> Entry:
    raw_id, raw_fields = raw[0], raw[1]
    if isinstance(raw_fields, (list, tuple)):  # unparsed field/value pairs
        raw_fields = dict(zip(raw_fields[::2], raw_fields[1::2]))
    fields = {decode_text(name): decode_text(value) for name, value in (raw_fields or {}).items()}
    return Entry(id=decode_text(raw_id), fields=fields)


def entries_from_range(reply: Any) -> List[Entry]:
    """Entries of an XRANGE or XREVRANGE reply."""
    return [_entry(raw) for raw in reply or []]


def entries_from_xread(reply: Any) -> List[Entry]:
    """Entries of an XREAD reply on one stream; [] when it timed out."""
    if not reply:
        return []
    streams = list(reply.values()) if isinstance(reply, dict) else [item[1] for item in reply]
    raw_entries = streams[0] if streams else []
    # redis-py's RESP3 parser of some versions nests the entry list once more.
    if len(raw_entries) == 1 and raw_entries[0] and isinstance(raw_entries[0][0], (list, tuple)):
        raw_entries = raw_entries[0]
    return entries_from_range(raw_entries)

"""Stream entries read the same under RESP2 and RESP3, sync and async clients."""
from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio

from sse_replay.redis_replies import entries_from_range, entries_from_xread


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("decode_responses", [False, True])
def test_sync_replies(redis_server, channel, protocol, decode_responses):
    client = redis.Redis.from_url(redis_server.url, protocol=protocol, decode_responses=decode_responses)
    key = f"replies:{channel}"
    ids = [client.xadd(key, {"data": f"é{n}", "prev_id": "0-0"}) for n in range(3)]
    ids = [entry_id.decode() if isinstance(entry_id, bytes) else entry_id for entry_id in ids]
    ranged = entries_from_range(client.xrange(key, count=2))
    assert [(entry.id, entry.fields["data"]) for entry in ranged] == [(ids[0], "é0"), (ids[1], "é1")]
    read = entries_from_xread(client.xread({key: ids[0]}, count=10, block=100))
    assert [entry.id for entry in read] == ids[1:]
    assert entries_from_xread(client.xread({key: ids[-1]}, count=10, block=10)) == []
    assert [entry.id for entry in entries_from_xread(client.xread({key: ids[1]}, count=10, block=10))] == ids[2:]


@pytest.mark.parametrize("protocol", [2, 3])
def test_async_replies(redis_server, channel, protocol):
    async def read():
        client = redis.asyncio.Redis.from_url(redis_server.url, protocol=protocol)
        try:
            key = f"replies:{channel}"
            ids = [(await client.xadd(key, {"data": str(n)})).decode() for n in range(2)]
            read = entries_from_xread(await client.xread({key: "0-0"}, count=10, block=100))
            timed_out = entries_from_xread(await client.xread({key: ids[-1]}, count=10, block=10))
            return ids, read, timed_out
        finally:
            await client.aclose()

    ids, read, timed_out = asyncio.run(read())
    assert [entry.id for entry in read] == ids
    assert timed_out == []

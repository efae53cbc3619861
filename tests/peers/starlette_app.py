"""FastAPI + sse-starlette peer: the "async Python SSE endpoint" server shape.

Stands for the typical FastAPI app that returns EventSourceResponse(generator)
from GET /stream, the generator yielding {"data": n} for n = 1, 2, 3, ...,
served by uvicorn.

Run (from the repo root):

    uvicorn --app-dir tests/peers starlette_app:app --host 127.0.0.1 --port PORT

Env:
  EVENT_INTERVAL  seconds between events (default 1.0; first event after one
                  interval)
  PING_INTERVAL   seconds between sse-starlette's keep-alive pings (default 15)
  EVENT_COUNT     stop sending events after this many, but keep the connection
                  open with only pings (default: unlimited)

Wire format (sse-starlette 3.7.0): "\\r\\n" line ends and a space after the
colon. An event is b"data: 1\\r\\n\\r\\n"; a ping is a comment,
b": ping - 2026-01-01 12:00:00.123456+00:00\\r\\n\\r\\n". Headers (with
Cache-Control: no-store, X-Accel-Buffering: no) go out at once; the first
ping only after PING_INTERVAL.
"""
import asyncio
import itertools
import os

from fastapi import FastAPI
from sse_starlette import EventSourceResponse

EVENT_INTERVAL = float(os.environ.get("EVENT_INTERVAL", "1.0"))
PING_INTERVAL = float(os.environ.get("PING_INTERVAL", "15"))
EVENT_COUNT = int(os.environ["EVENT_COUNT"]) if os.environ.get("EVENT_COUNT") else None

app = FastAPI()


@app.get("/stream")
async def stream():
    async def events():
        for n in itertools.islice(itertools.count(1), EVENT_COUNT):
            await asyncio.sleep(EVENT_INTERVAL)
            yield {"data": n}
        await asyncio.Event().wait()  # done: stay open, pings only

    return EventSourceResponse(events(), ping=PING_INTERVAL)

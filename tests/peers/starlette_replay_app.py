"""FastAPI + sse-starlette + sse-replay peer: an async SSE endpoint that replays.

The typical FastAPI app returning EventSourceResponse(generator), with the
generator from the companion (companions/sse-replay): events are kept in a
Redis Stream per channel, and a client that reconnects with Last-Event-ID gets
what it missed.

Run (from the repo root, REDIS_URL in env):

    REDIS_URL=redis://127.0.0.1:PORT_R/0 \
    uvicorn --app-dir tests/peers starlette_replay_app:app --host 127.0.0.1 --port PORT

Env: REDIS_URL; SSE_REPLAY_MAX_LENGTH (events kept a channel, approximately;
default 10000), SSE_REPLAY_HEARTBEAT (seconds, default 15).

Routes:
  GET  /stream[?channel=NAME]  EventSourceResponse(replay_events(...))
  POST /publish                JSON {"data", "type", "id", "retry", "channel"};
                               answers {"state": "ok", "id": <stream id>}
  POST /publish_many           JSON {"count", "type", "channel", "pad"}: the
                               events {"n": 0}, {"n": 1}, ... (each with
                               "pad": "x" * pad when pad is given), one
                               publish each; answers {"state": "ok", "ids": [...]}

Wire format: sse-starlette's ("\\r\\n" line ends, a space after the colon),
each event with its stream id as id; "retry: 3000" when a stream opens, a
": heartbeat" comment after a silent heartbeat interval, and a "resync" event
(no id) first when the client's Last-Event-ID is older than what the stream
still holds.
"""
import os

from fastapi import FastAPI, Request
from sse_starlette import EventSourceResponse

from sse_replay.starlette import REPLAY_HEADERS, last_event_id_from, publish, replay_events

REDIS_URL = os.environ["REDIS_URL"]
MAX_LENGTH = int(os.environ.get("SSE_REPLAY_MAX_LENGTH", "10000"))
HEARTBEAT = float(os.environ.get("SSE_REPLAY_HEARTBEAT", "15"))

app = FastAPI()


@app.get("/stream")
async def stream(request: Request, channel: str = "sse"):
    events = replay_events(REDIS_URL, channel, last_event_id_from(request), heartbeat=HEARTBEAT)
    return EventSourceResponse(events, headers=REPLAY_HEADERS)


@app.post("/publish")
async def publish_one(body: dict):
    stream_id = await publish(
        REDIS_URL,
        body.get("data"),
        type=body.get("type"),
        channel=body.get("channel") or "sse",
        id=body.get("id"),
        retry=body.get("retry"),
        max_length=MAX_LENGTH,
    )
    return {"state": "ok", "id": stream_id}


@app.post("/publish_many")
async def publish_many(body: dict):
    pad = "x" * int(body.get("pad") or 0)
    ids = []
    for n in range(int(body["count"])):
        data = {"n": n, "pad": pad} if pad else {"n": n}
        ids.append(
            await publish(
                REDIS_URL, data, type=body.get("type"), channel=body.get("channel") or "sse", max_length=MAX_LENGTH
            )
        )
    return {"state": "ok", "ids": ids}

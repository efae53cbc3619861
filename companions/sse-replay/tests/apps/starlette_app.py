"""A FastAPI app serving sse-replay through sse-starlette.

    REDIS_URL=redis://127.0.0.1:PORT/0 uvicorn --app-dir tests/apps starlette_app:app

Env: REDIS_URL; SSE_REPLAY_HEARTBEAT (seconds), SSE_REPLAY_RETRY (ms),
SSE_REPLAY_MAX_LENGTH, SSE_REPLAY_MAX_AGE (seconds); SSE_REPLAY_REDIS_CLUSTER=1
for a Redis Cluster (one shared redis.asyncio RedisCluster client instead of
the URL).

Routes:
  GET  /stream[?channel=]           EventSourceResponse(replay_events(...))
  GET  /stream-response[?channel=]  replay_response(request, ...)
  POST /publish                     JSON {"data", "type", "id", "retry", "channel"};
                                    answers {"id": <stream id>}
  GET  /health                      200
"""
import os

from fastapi import FastAPI, Request
from redis.asyncio import RedisCluster
from sse_starlette import EventSourceResponse

from sse_replay.starlette import REPLAY_HEADERS, last_event_id_from, publish, replay_events, replay_response

REDIS_URL = os.environ["REDIS_URL"]
REDIS = RedisCluster.from_url(REDIS_URL) if os.environ.get("SSE_REPLAY_REDIS_CLUSTER") == "1" else REDIS_URL
STREAM_SETTINGS = {
    "heartbeat": float(os.environ.get("SSE_REPLAY_HEARTBEAT", "15")),
    "retry": int(os.environ.get("SSE_REPLAY_RETRY", "3000")),
}
RETENTION = {
    "max_length": int(os.environ.get("SSE_REPLAY_MAX_LENGTH", "10000")),
    "max_age": float(os.environ.get("SSE_REPLAY_MAX_AGE", "86400")),
}

app = FastAPI()


@app.get("/stream")
async def stream(request: Request, channel: str = "sse"):
    events = replay_events(REDIS, channel, last_event_id_from(request), **STREAM_SETTINGS)
    return EventSourceResponse(events, headers=REPLAY_HEADERS)


@app.get("/stream-response")
async def stream_response(request: Request):
    return replay_response(request, REDIS, **STREAM_SETTINGS)


@app.post("/publish")
async def publish_event(body: dict):
    stream_id = await publish(
        REDIS,
        body.get("data"),
        type=body.get("type"),
        channel=body.get("channel") or "sse",
        id=body.get("id"),
        retry=body.get("retry"),
        **RETENTION,
    )
    return {"id": stream_id}


@app.get("/health")
def health():
    return "ok"

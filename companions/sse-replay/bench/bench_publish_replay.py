"""Publish latency and replay rate of sse-replay, beside plain Flask-SSE, in one run.

Starts its own redis-server (no persistence) and, on loopback ports, the same
Flask app three times over: under gunicorn + gevent (one worker each) with
plain Flask-SSE 1.0 and with sse-replay, and the FastAPI app with sse-replay
under uvicorn. Then measures, with one Python client (tests/sse_client.py):

* publish latency: ``sse.publish`` called in an app context, as app code does,
  until the event is read by a client connected to the stream; one event at a
  time, the next published once the previous one arrived;
* replay rate: a client reconnects with the Last-Event-ID of the first of
  10,001 events and reads the 10,000 after it (XRANGE pages through the HTTP
  stream to the client); events/s from the request to the last event. Plain
  Flask-SSE cannot replay: for it, and for sse-replay beside it, the row
  "live burst" gives the rate at which 10,000 events published back to back
  (one pipeline) reach a connected client.

Run from the package directory, in a venv with the package and its [test]
extras (scripts/test-companion.sh makes one):

    python bench/bench_publish_replay.py [--samples 500] [--events 10000] [--rounds 3]

Prints a Markdown table. Bounded: every wait has a deadline; it stops its
servers when done.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS_DIR))

import flask_sse  # noqa: E402
import redis  # noqa: E402
from flask import Flask  # noqa: E402

import sse_replay.flask as replay_flask  # noqa: E402
from servers import GunicornServer, RedisServer, UvicornServer, wait_until  # noqa: E402
from sse_client import SSEStream  # noqa: E402
from sse_replay.streams import PUBLISH_SCRIPT, RetentionSettings, event_fields, publish_args, stream_key  # noqa: E402

SETTINGS = {"SSE_REPLAY_MAX_LENGTH": "50000", "SSE_REPLAY_HEARTBEAT": "15"}
PAYLOAD = {"question": "which programming is the best?", "value": "Absolutely, PHP", "who": "allen"}


class Target:
    def __init__(self, label, port, sep, publish_module, plain):
        self.label = label
        self.port = port
        self.sep = sep
        self.publish_module = publish_module  # flask_sse or sse_replay.flask
        self.plain = plain

    def open(self, channel, last_event_id=None, deadline=60.0):
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        return SSEStream(self.port, "/stream", {"channel": channel}, headers, self.sep, deadline)


def wait_subscribed(target, stream, redis_client, channel):
    if target.plain:
        # Flask-SSE sends nothing before the first event: wait for its SUBSCRIBE.
        wait_until(lambda: redis_client.pubsub_numsub(channel)[0][1] >= 1, 10, "Flask-SSE subscribed")
    else:
        stream.wait_open()


def publish_latency(target, app, redis_client, samples):
    channel = f"bench-latency-{uuid.uuid4().hex[:8]}"
    latencies = []
    with target.open(channel) as stream, app.app_context():
        wait_subscribed(target, stream, redis_client, channel)
        for sample in range(samples + 20):
            started = time.perf_counter()
            target.publish_module.sse.publish(PAYLOAD, type="new_answers", channel=channel)
            stream.next_event(deadline_seconds=10)
            if sample >= 20:  # the first ones warm connections up
                latencies.append(time.perf_counter() - started)
    return latencies


def publish_burst(target, app, redis_client, channel, count):
    """Publish count events in one pipeline, as each implementation stores them."""
    pipe = redis_client.pipeline(transaction=False)
    if target.plain:
        with app.app_context():
            for n in range(count):
                message = flask_sse.Message({"n": n, **PAYLOAD}, type="new_answers")
                pipe.publish(channel, json.dumps(message.to_dict()))
        pipe.execute()
        return None
    script = redis_client.register_script(PUBLISH_SCRIPT)
    retention = RetentionSettings(max_length=50_000)
    for n in range(count):
        fields = event_fields(json.dumps({"n": n, **PAYLOAD}, sort_keys=True), type="new_answers")
        script(keys=[stream_key(channel)], args=publish_args(fields, retention), client=pipe)
    return [entry_id.decode() for entry_id in pipe.execute()]


def live_burst_rate(target, app, redis_client, count):
    channel = f"bench-burst-{uuid.uuid4().hex[:8]}"
    with target.open(channel) as stream:
        wait_subscribed(target, stream, redis_client, channel)
        started = time.perf_counter()
        publish_burst(target, app, redis_client, channel, count)
        stream.events(count, deadline_seconds=120)
        return count / (time.perf_counter() - started)


def replay_rate(target, app, redis_client, count):
    channel = f"bench-replay-{uuid.uuid4().hex[:8]}"
    ids = publish_burst(target, app, redis_client, channel, count + 1)
    started = time.perf_counter()
    with target.open(channel, last_event_id=ids[0], deadline=120) as stream:
        events = stream.events(count, deadline_seconds=120)
    elapsed = time.perf_counter() - started
    assert events[-1].id == ids[-1]
    return count / elapsed


def milliseconds(seconds):
    return f"{seconds * 1000:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=500, help="publish latency samples per server")
    parser.add_argument("--events", type=int, default=10_000, help="events per replay / burst")
    parser.add_argument("--rounds", type=int, default=3, help="replay and burst rounds (the median is shown)")
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sse-replay-bench-"))
    servers = []
    try:
        redis_server = RedisServer(workdir / "redis")
        (workdir / "redis").mkdir()
        servers.append(redis_server.start())
        redis_client = redis.Redis.from_url(redis_server.url)
        environment = {"REDIS_URL": redis_server.url, **SETTINGS}

        def started(server):
            server.workdir.mkdir()
            servers.append(server.start())
            return server

        plain = started(GunicornServer(workdir / "plain", {**environment, "SSE_MODULE": "flask_sse"}, "flask_app:app", workers=1))
        replay = started(GunicornServer(workdir / "replay", environment, "flask_app:app", workers=1))
        starlette = started(UvicornServer(workdir / "starlette", environment, "starlette_app:app"))
        targets = [
            Target("Flask-SSE 1.0 (gunicorn+gevent, 1 worker)", plain.port, b"\n", flask_sse, plain=True),
            Target("sse-replay, Flask (gunicorn+gevent, 1 worker)", replay.port, b"\n", replay_flask, plain=False),
            Target("sse-replay, sse-starlette (uvicorn)", starlette.port, b"\r\n", replay_flask, plain=False),
        ]
        app = Flask("bench-publisher")
        app.config["REDIS_URL"] = redis_server.url
        app.config["SSE_REPLAY_MAX_LENGTH"] = 50_000

        rows = []
        for target in targets:
            latencies = sorted(publish_latency(target, app, redis_client, arguments.samples))
            quantiles = statistics.quantiles(latencies, n=100)
            bursts = [live_burst_rate(target, app, redis_client, arguments.events) for _ in range(arguments.rounds)]
            replays = (
                [replay_rate(target, app, redis_client, arguments.events) for _ in range(arguments.rounds)]
                if not target.plain
                else None
            )
            rows.append(
                (
                    target.label,
                    milliseconds(statistics.median(latencies)),
                    milliseconds(quantiles[89]),
                    milliseconds(quantiles[98]),
                    f"{statistics.median(replays):,.0f}" if replays else "cannot replay",
                    f"{statistics.median(bursts):,.0f}",
                )
            )

        print(f"Measured {datetime.date.today().isoformat()}, Python {platform.python_version()}, "
              f"{redis_client.info('server')['redis_version']} redis-server, {platform.machine()}, "
              f"command: python bench/bench_publish_replay.py --samples {arguments.samples} "
              f"--events {arguments.events} --rounds {arguments.rounds}")
        print()
        print(f"| server | publish→read p50 ms | p90 ms | p99 ms | replay of {arguments.events:,} events/s | live burst of {arguments.events:,} events/s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

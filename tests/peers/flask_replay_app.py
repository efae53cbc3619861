"""Flask + sse-replay + Redis peer: the Flask-SSE blog post app after the switch.

The same app as flask_sse_app.py with the one line a Flask developer changes,
the import of ``sse``: events are kept in a Redis Stream per channel, and a
client that reconnects with Last-Event-ID gets what it missed
(companions/sse-replay/README.md).

Run (from the repo root, REDIS_URL in env, e.g. redis://127.0.0.1:6379/0):

    REDIS_URL=redis://127.0.0.1:PORT_R/0 \
    gunicorn -k gevent -w 3 --no-control-socket -b 127.0.0.1:PORT \
        --chdir tests/peers flask_replay_app:app

Env: REDIS_URL; every SSE_REPLAY_* variable goes into the app's config as it
is (e.g. SSE_REPLAY_MAX_LENGTH=20 keeps about 20 events a channel, in whole
nodes of 100: see the companion's README).

Routes:
  GET  /stream[?channel=NAME]  the blueprint's stream (default channel "sse")
  GET  /notifications          publishes the blog post's "new_answers" event
  POST /publish                JSON {"data", "type", "id", "retry", "channel"};
                               answers {"state": "ok", "id": <stream id>}
  POST /publish_many           JSON {"count", "type", "channel", "pad"}: the
                               events {"n": 0}, {"n": 1}, ... (each with
                               "pad": "x" * pad when pad is given), one
                               sse.publish each, as app code does; answers
                               {"state": "ok", "ids": [each stream id]}
  GET  /worker                 the pid of the worker that answered

Wire format: Flask-SSE's ("\\n" line ends, no space after the colon), each
event with id:<stream id>; "retry:3000" alone when a stream opens (so the
headers go out at once), ":heartbeat" after 15 s of silence, and a "resync"
event (no id) first when the client's Last-Event-ID is older than what the
stream still holds.
"""
import os

from flask import Flask, request

from sse_replay.flask import sse  # was: from flask_sse import sse

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
app.config.update({name: value for name, value in os.environ.items() if name.startswith("SSE_REPLAY_")})
app.register_blueprint(sse, url_prefix="/stream")


@app.route("/notifications")
def notifications():
    sse.publish(
        {"question": "which programming is the best?", "value": "Absolutely, PHP", "who": "allen"},
        type="new_answers",
    )
    return {"state": "ok"}


@app.route("/publish", methods=["POST"])
def publish():
    body = request.get_json(force=True)
    stream_id = sse.publish(
        body.get("data"),
        type=body.get("type"),
        id=body.get("id"),
        retry=body.get("retry"),
        channel=body.get("channel") or "sse",
    )
    return {"state": "ok", "id": stream_id}


@app.route("/publish_many", methods=["POST"])
def publish_many():
    body = request.get_json(force=True)
    pad = "x" * int(body.get("pad") or 0)
    ids = []
    for n in range(int(body["count"])):
        data = {"n": n, "pad": pad} if pad else {"n": n}
        ids.append(sse.publish(data, type=body.get("type"), channel=body.get("channel") or "sse"))
    return {"state": "ok", "ids": ids}


@app.route("/worker")
def worker():
    return str(os.getpid())

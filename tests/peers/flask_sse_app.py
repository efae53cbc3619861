"""Flask + Flask-SSE + Redis peer: the "Flask-SSE blog post" server shape.

Stands for the common tutorial app: Flask-SSE's blueprint mounted at /stream,
events published through Redis pub/sub, served by gunicorn with a gevent
worker.

Run (from the repo root, REDIS_URL in env, e.g. redis://127.0.0.1:6379/0):

    REDIS_URL=redis://127.0.0.1:PORT_R/0 \
    gunicorn -k gevent -w 1 -b 127.0.0.1:PORT --chdir tests/peers flask_sse_app:app

Add --no-control-socket when running several at once: gunicorn 27 otherwise
shares one control socket, ~/.gunicorn/gunicorn.ctl. SIGTERM waits up to 30 s
for open streams; SIGINT/SIGQUIT stop at once; after SIGKILL of the master the
worker notices within ~1 s and exits.

Routes:
  GET  /stream[?channel=NAME]  Flask-SSE stream (default channel "sse")
  GET  /notifications          publishes the blog post's "new_answers" event
  POST /publish                JSON {"data", "type", "id", "retry", "channel"}
  POST /publish_many           JSON {"count", "type", "channel", "id_prefix"}
  GET  /subscribers[?channel=] number of Redis subscribers on the channel
                               (lets a test wait until a client is listening)

Wire format (Flask-SSE 1.0.0 Message.__str__): "\\n" line ends, no space after
the colon, in the order event, data (one "data:" line per str.splitlines()
line), id, retry, then a blank line. Non-string data is JSON via Flask's
json.dumps: keys sorted, ", " / ": " separators, non-ASCII as \\uXXXX. E.g.
    b'event:t1\\ndata:{"a": "x", "b": 1}\\nid:id-7\\nretry:5000\\n\\n'
A falsy type/id/retry ("" or 0) is left out; data "" gives no data line.
Nothing, not even the response headers, is sent on /stream until the first
event: the generator blocks in Redis before its first yield. A stream whose
client went away stays subscribed until the next write or two fail.
"""
import os

from flask import Flask, json, jsonify, request
from flask_sse import Message, sse

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
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
    sse.publish(
        body.get("data"),
        type=body.get("type"),
        id=body.get("id"),
        retry=body.get("retry"),
        channel=body.get("channel") or "sse",
    )
    return {"state": "ok"}


@app.route("/publish_many", methods=["POST"])
def publish_many():
    # Same payload as sse.publish(), but over one pipelined Redis connection:
    # sse.publish() opens a fresh connection per call (~3 ms each).
    body = request.get_json(force=True)
    prefix = body.get("id_prefix")
    pipe = sse.redis.pipeline(transaction=False)
    for i in range(int(body["count"])):
        msg = Message({"n": i}, type=body.get("type"), id=None if prefix is None else f"{prefix}{i}")
        pipe.publish(body.get("channel") or "sse", json.dumps(msg.to_dict()))
    pipe.execute()
    return {"state": "ok"}


@app.route("/subscribers")
def subscribers():
    channel = request.args.get("channel") or "sse"
    (_, count), = sse.redis.pubsub_numsub(channel)
    return jsonify(count)

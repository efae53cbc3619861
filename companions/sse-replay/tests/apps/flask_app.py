"""The Flask-SSE tutorial app, served either by Flask-SSE or by sse-replay.

The only difference between the two is the import of ``sse``, which is the
point: SSE_MODULE=flask_sse gives plain Flask-SSE (the comparison in the
wire-format test and the benchmark), anything else the drop-in.

    REDIS_URL=redis://127.0.0.1:PORT/0 gunicorn -k gevent -w 3 --chdir tests/apps flask_app:app

Env: REDIS_URL; SSE_REPLAY_* settings (see sse_replay.flask) are copied into
the app's config.

Routes:
  GET  /stream[?channel=]  the blueprint's stream
  POST /publish            JSON {"data", "type", "id", "retry", "channel"};
                           answers {"id": <stream id>} (null under Flask-SSE)
  GET  /health             200 once the app is loaded
  GET  /worker             this worker's pid (which worker answered)
"""
import os

from flask import Flask, request

if os.environ.get("SSE_MODULE") == "flask_sse":
    from flask_sse import sse
else:
    from sse_replay.flask import sse

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
app.config.update({name: value for name, value in os.environ.items() if name.startswith("SSE_REPLAY_")})
app.register_blueprint(sse, url_prefix="/stream")


@app.route("/publish", methods=["POST"])
def publish():
    body = request.get_json(force=True)
    result = sse.publish(
        body.get("data"),
        type=body.get("type"),
        id=body.get("id"),
        retry=body.get("retry"),
        channel=body.get("channel") or "sse",
    )
    # Flask-SSE answers the number of subscribers reached; sse-replay the id.
    return {"id": result if isinstance(result, str) else None}


@app.route("/health")
def health():
    return "ok"


@app.route("/worker")
def worker():
    return str(os.getpid())

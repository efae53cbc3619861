"""Plain Flask generator peer: the "hand-rolled SSE in a Flask view" shape.

Stands for the common no-dependency pattern: a view returns
Response(generator(), mimetype="text/event-stream") whose generator yields
f"id: {n}\\ndata: {n}\\n\\n" in a sleep loop, served by Flask's threaded
development server. It honours an integer Last-Event-ID on reconnect.

Run (from the repo root):

    python tests/peers/flask_generator.py --port PORT

Env:
  EVENT_INTERVAL  seconds between events (default 0.2); the first event goes
                  out at once, with the headers
  DROP_AFTER      end the response after this many events on one connection,
                  forcing a reconnect (default 0 = never)

Routes:
  GET /stream    b"id: 1\\ndata: 1\\n\\n", b"id: 2\\ndata: 2\\n\\n", ...; starts at
                 Last-Event-ID + 1 when that header is an integer
  GET /ids-seen  JSON list of the Last-Event-ID header of every /stream
                 request so far, in order (null when absent)
"""
import argparse
import itertools
import os
import time

from flask import Flask, Response, jsonify, request

EVENT_INTERVAL = float(os.environ.get("EVENT_INTERVAL", "0.2"))
DROP_AFTER = int(os.environ.get("DROP_AFTER", "0"))

app = Flask(__name__)
ids_seen = []


@app.route("/stream")
def stream():
    last_id = request.headers.get("Last-Event-ID")
    ids_seen.append(last_id)
    try:
        first = int(last_id) + 1
    except (TypeError, ValueError):
        first = 1

    def generate():
        for sent, n in enumerate(itertools.count(first), 1):
            yield f"id: {n}\ndata: {n}\n\n"
            if sent == DROP_AFTER:
                return
            time.sleep(EVENT_INTERVAL)

    return Response(generate(), mimetype="text/event-stream")


@app.route("/ids-seen")
def ids_seen_view():
    return jsonify(ids_seen)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    app.run(host="127.0.0.1", port=parser.parse_args().port, threaded=True)

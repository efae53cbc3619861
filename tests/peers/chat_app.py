"""Redis pub/sub chat room peer: the classic "Flask + Redis SSE chat" shape.

Stands for the well-known small chat app: POST /post publishes a line to the
Redis channel "chat", and every GET /stream client gets each line as
"data: <line>\\n\\n", served by Flask's threaded development server.

Run (from the repo root, REDIS_URL in env):

    REDIS_URL=redis://127.0.0.1:PORT_R/0 python tests/peers/chat_app.py --port PORT

Routes:
  GET  /stream       b"data: [12:34:56] alice: hello\\n\\n" per message; nothing,
                     not even headers, is sent before the first message
  POST /post         form fields message, user (optional; else the session
                     user, else "anonymous"); returns 204
  POST /login        form field user: sets the session user
  GET  /subscribers  number of Redis subscribers on "chat" (to wait for a
                     client to be listening before posting)

Like the original, a message containing a newline is not split into several
data: lines, so its second line reaches the client as a bogus field line.
"""
import argparse
import datetime
import os

import redis
from flask import Flask, Response, jsonify, request, session

app = Flask(__name__)
app.secret_key = "test-peer"
red = redis.from_url(os.environ["REDIS_URL"], decode_responses=True)


@app.route("/stream")
def stream():
    def events():
        pubsub = red.pubsub()
        pubsub.subscribe("chat")
        for message in pubsub.listen():
            if message["type"] == "message":
                yield f"data: {message['data']}\n\n"

    return Response(events(), mimetype="text/event-stream")


@app.route("/post", methods=["POST"])
def post():
    user = request.form.get("user") or session.get("user", "anonymous")
    now = datetime.datetime.now().strftime("%H:%M:%S")
    red.publish("chat", f"[{now}] {user}: {request.form['message']}")
    return "", 204


@app.route("/login", methods=["POST"])
def login():
    session["user"] = request.form["user"]
    return "", 204


@app.route("/subscribers")
def subscribers():
    (_, count), = red.pubsub_numsub("chat")
    return jsonify(count)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    app.run(host="127.0.0.1", port=parser.parse_args().port, threaded=True)

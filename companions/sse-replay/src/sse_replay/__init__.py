"""Exact replay of missed server-sent events, kept in Redis Streams.

``sse_replay.flask`` is a drop-in for Flask-SSE's blueprint;
``sse_replay.starlette`` gives an event source for sse-starlette / FastAPI.
Both keep each channel's events in one Redis stream and share its layout
(``sse_replay.streams``) and the rules of what a reconnecting client is sent
(``sse_replay.delivery``).
"""

__version__ = "0.1.0"

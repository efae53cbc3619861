"""An SSE server that sends one event per connection and then stays silent,
as Flask-SSE does between publishes; optionally a comment heartbeat.

Each connection is announced on stdout as "CONNECT <n> <peer address>
<Last-Event-ID or ->", so a test or benchmark knows when the client came
back and from where.

With END_FIRST set to 1, the first connection asks for a 300 s
reconnection time (`retry: 300000`) and ends after its event, so that the
client waits long unless something tells it to connect now.

Run: python silent_stream.py HOST PORT [HEARTBEAT_SECONDS] [END_FIRST]
"""
import socket
import sys
import threading
import time


def serve(connection, number, peer, heartbeat, end_first):
    with connection:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = connection.recv(4096)
            if not chunk:
                return
            head += chunk
        last_id = "-"
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("last-event-id:"):
                last_id = line.split(":", 1)[1].strip() or "-"
        print(f"CONNECT {number} {peer} {last_id}", flush=True)
        try:
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-cache\r\n\r\n"
                + (b"retry: 300000\n" if end_first and number == 1 else b"")
                + f"id: {number}\ndata: hello {number}\n\n".encode()
            )
            if end_first and number == 1:
                return
            while True:
                if heartbeat:
                    time.sleep(heartbeat)
                    connection.sendall(b": ping\n\n")
                else:
                    if not connection.recv(1):
                        return
        except OSError:
            return


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    heartbeat = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    end_first = len(sys.argv) > 4 and sys.argv[4] == "1"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(16)
    print("LISTENING", flush=True)
    number = 0
    while True:
        connection, (peer, _) = listener.accept()
        number += 1
        threading.Thread(
            target=serve, args=(connection, number, peer, heartbeat, end_first), daemon=True
        ).start()


if __name__ == "__main__":
    main()

"""A hostile event stream server, for the memory benchmark
(scripts/bench-hostile-memory.sh): each path sends the worst it can of one
kind, then holds the connection open.

    /quiet        one comment, then nothing
    /flood        200,000 tiny events as fast as the socket takes them
    /types        100,000 events, each with a new 1,000-character type name,
                  then 200 with a new type name of 500,000 characters
    /huge         150 events of 1,000,000 bytes of data (just under the
                  default 1 MiB limit), each with a new 20,000-character type
    /json         150 events of 1,000,000 bytes of JSON that weighs the most
                  once parsed (an array of 500,000 zeros)
    /images       1,000 login steps, one after another, each naming an image
                  that decodes to 16 MiB: every other one at /image/N.png on
                  this server, the others inline; and some that declare
                  60000 x 60000 pixels
    /image/N.png  that image (a PNG of 2048 x 2048 transparent pixels)
    /all          all of the above but /quiet, one after another

Run: python hostile_stream.py PORT
"""
import asyncio
import base64
import struct
import sys
import zlib

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\n\r\n"
)


def png(width, height, rows=None):
    """A PNG of width x height transparent pixels; `rows` limits the rows
    actually encoded (fewer than declared makes a truncated image)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + b"\0" * (width * 4)
    count = height if rows is None else rows
    pixels = zlib.compress(row * count, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


BOMB = png(2048, 2048)
BOMB_INLINE = base64.b64encode(BOMB).decode()
DECLARED = base64.b64encode(png(60000, 60000, rows=1)).decode()


def event(data, event_type=None, event_id=None):
    lines = []
    if event_type is not None:
        lines.append(f"event: {event_type}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode()


async def flood(writer, port):
    chunk = b"data: x\n\n" * 1000
    for _ in range(200):
        writer.write(chunk)
        await writer.drain()


async def types(writer, port):
    for n in range(100_000):
        writer.write(event("x", event_type=f"{n:07d}" + "t" * 993))
        if n % 100 == 0:
            await writer.drain()
    for n in range(200):
        writer.write(event("x", event_type=f"{n:07d}" + "T" * 499_993))
        await writer.drain()


async def huge(writer, port):
    for n in range(150):
        writer.write(event("h" * 1_000_000, event_type=f"{n:05d}" + "t" * 19_995))
        await writer.drain()


async def json_heavy(writer, port):
    zeros = ",".join(["0"] * 499_990)
    for n in range(150):
        writer.write(event('{"title": "t%d", "n": [%s]}' % (n, zeros)))
        await writer.drain()


async def images(writer, port):
    for n in range(1000):
        if n % 50 == 49:
            step = {"type": "scan_qr_code", "uuid": f"u{n}", "extra": DECLARED}
        elif n % 2:
            step = {"type": "scan_qr_code", "uuid": f"u{n}", "extra": BOMB_INLINE}
        else:
            image = f"http://127.0.0.1:{port}/image/{n}.png"
            step = {"type": "confirm_login", "uuid": f"u{n}", "extra": image}
        data = str(step).replace("'", '"')
        writer.write(event(data, event_type="login", event_id=str(n)))
        await writer.drain()


async def everything(writer, port):
    for scenario in (flood, types, huge, json_heavy, images):
        await scenario(writer, port)


STREAMS = {
    "/quiet": None,
    "/flood": flood,
    "/types": types,
    "/huge": huge,
    "/json": json_heavy,
    "/images": images,
    "/all": everything,
}


async def serve(reader, writer, port):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        writer.close()
        return
    path = head.split(b" ")[1].decode().split("?")[0]
    try:
        if path.startswith("/image/"):
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
                + f"Content-Length: {len(BOMB)}\r\n\r\n".encode()
                + BOMB
            )
            await writer.drain()
            writer.close()
            return
        if path not in STREAMS:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        writer.write(HEAD + b": hostile\n\n")
        await writer.drain()
        if STREAMS[path] is not None:
            await STREAMS[path](writer, port)
        await reader.read()  # hold until the client goes
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(
        lambda reader, writer: serve(reader, writer, port), "127.0.0.1", port
    )
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))

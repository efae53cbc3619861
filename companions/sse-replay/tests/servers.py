"""Real servers for the tests (and the benchmark): redis-server, gunicorn, uvicorn.

Each runs as a child process on a free loopback port, in a temporary
directory, and is waited for by polling until it answers, with a deadline.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Optional

import redis

APPS_DIR = Path(__file__).resolve().parent / "apps"
START_DEADLINE_SECONDS = 30.0
# A port picked as free can be taken by someone else before the server binds
# it; then the server exits and a new port is picked.
PORT_ATTEMPTS = 5


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], deadline_seconds: float, what: str, interval: float = 0.02) -> object:
    """Poll ``condition`` until it returns something truthy; fail after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {deadline_seconds} s waiting for {what}")
        time.sleep(interval)


class ChildServer:
    """A server process on a free port, started by ``start`` and stopped by ``stop``."""

    name = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port: Optional[int] = None
        self.process: Optional[subprocess.Popen] = None
        self.log_path = workdir / f"{self.name}.log"

    def command(self, port: int) -> list:
        raise NotImplementedError

    def env(self) -> Mapping[str, str]:
        return os.environ

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, port: Optional[int] = None) -> "ChildServer":
        for _attempt in range(PORT_ATTEMPTS if port is None else 1):
            self.port = port or free_port()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    self.command(self.port),
                    cwd=self.workdir,
                    env=dict(self.env()),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            deadline = time.monotonic() + START_DEADLINE_SECONDS
            while self.process.poll() is None and time.monotonic() < deadline:
                if self.ready():
                    return self
                time.sleep(0.02)
            self.kill()
        raise RuntimeError(f"{self.name} did not start; its log:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGINT, deadline_seconds: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The whole process group: gunicorn's workers with their master.
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(deadline_seconds)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


class RedisServer(ChildServer):
    """redis-server without persistence, small stream nodes.

    ``stream-node-max-entries 10``: Redis trims streams (MAXLEN ~ / MINID ~)
    by whole nodes only, 100 entries by default; small nodes let the tests
    see trimming with a few dozen events.
    """

    name = "redis"

    def command(self, port: int) -> list:
        return [
            "redis-server",
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--stream-node-max-entries", "10",
            "--daemonize", "no",
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ready(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def stop(self, sig: int = signal.SIGKILL, deadline_seconds: float = 10.0) -> None:
        super().stop(sig, deadline_seconds)


class HttpServer(ChildServer):
    def __init__(self, workdir: Path, environment: Mapping[str, str]) -> None:
        super().__init__(workdir)
        self.environment = environment

    def env(self) -> Mapping[str, str]:
        return {**os.environ, **self.environment}

    def ready(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            connection.request("GET", "/health")
            ok = connection.getresponse().status == 200
            connection.close()
            return ok
        except OSError:
            return False


class GunicornServer(HttpServer):
    """A Flask app of tests/apps under gunicorn with gevent workers."""

    name = "gunicorn"

    def __init__(self, workdir: Path, environment: Mapping[str, str], app: str, workers: int) -> None:
        super().__init__(workdir, environment)
        self.app = app
        self.workers = workers

    def command(self, port: int) -> list:
        return [
            sys.executable, "-m", "gunicorn",
            "-k", "gevent",
            "-w", str(self.workers),
            "-b", f"127.0.0.1:{port}",
            # gunicorn 27 otherwise shares one control socket in the home
            # directory between all its instances.
            "--no-control-socket",
            "--chdir", str(APPS_DIR),
            self.app,
        ]


class UvicornServer(HttpServer):
    """A Starlette app of tests/apps under uvicorn."""

    name = "uvicorn"

    def __init__(self, workdir: Path, environment: Mapping[str, str], app: str) -> None:
        super().__init__(workdir, environment)
        self.app = app

    def command(self, port: int) -> list:
        return [
            sys.executable, "-m", "uvicorn",
            "--app-dir", str(APPS_DIR),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--log-level", "warning",
            self.app,
        ]

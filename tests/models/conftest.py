"""Fixtures for the models area: a plain HTTP file server, fixture model files, and running the worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lora_studio.core.settings import Settings
from lora_studio.jobs.model import JobSpec

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Route:
    body: bytes
    token: str | None = None  # a bearer token the request must carry
    filename: str | None = None  # sent as Content-Disposition
    cuts: list[int] = field(default_factory=list)  # drop the connection after N body bytes, once per entry
    status: int = 200


class PlainServer:
    """A minimal static file server with Range, bearer tokens and dropped connections (for URL downloads)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                route = server.routes.get(self.path.split("?")[0])
                server.ranges.append(self.headers.get("Range"))
                if route is None or route.status == 404:
                    return self._plain(404, b"not found")
                if route.token is not None and self.headers.get("Authorization") != f"Bearer {route.token}":
                    return self._plain(401, b"unauthorised")
                start = 0
                if rng := self.headers.get("Range"):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                part = route.body[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(part)))
                if start:
                    self.send_header(
                        "Content-Range", f"bytes {start}-{len(route.body) - 1}/{len(route.body)}"
                    )
                if route.filename is not None:
                    self.send_header("Content-Disposition", f'attachment; filename="{route.filename}"')
                self.end_headers()
                if route.cuts:
                    self.wfile.write(part[: route.cuts.pop(0)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(part)

            def _plain(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def plain_server() -> Iterator[PlainServer]:
    server = PlainServer()
    yield server
    server.close()


def closed_port_url() -> str:
    """An address where nothing listens: what "offline" looks like to a client."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def worker_env(tmp_path: Path, *, endpoint: str | None = None, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("HF_TOKEN", "HF_HUB_OFFLINE")}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_OFFLINE="0",
    )
    if endpoint is not None:
        env["HF_ENDPOINT"] = endpoint
    env.update(extra)
    return env


def run_spec(spec: JobSpec, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a job spec's argv as the job engine would (its env on top), and capture the log."""
    return subprocess.run(
        list(spec.argv), env={**env, **spec.env}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path / "workspace").ensure_workspace()


@pytest.fixture
def python() -> str:
    return sys.executable

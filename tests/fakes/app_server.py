"""Run the real app (``python app.py``) in a subprocess for browser and API tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    process: subprocess.Popen[bytes]
    url: str
    workspace: Path
    console: Path

    def console_text(self) -> str:
        return self.console.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_app(
    workspace: Path,
    tmp: Path,
    *args: str,
    timeout: float = 60.0,
    env: Mapping[str, str | None] | None = None,
) -> AppServer:
    """Start ``app.py`` on a free port; returns once ``/`` answers (any HTTP status).

    ``env``: variables to set for the app (and the jobs it starts) on top of ours; None removes one.
    """
    port = free_port()
    console = tmp / f"app-{port}.log"
    child_env = dict(os.environ, GRADIO_TEMP_DIR=str(tmp / "gradio"), GRADIO_ANALYTICS_ENABLED="False")
    child_env.pop("LORA_STUDIO_AUTH", None)
    for key, value in (env or {}).items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    with console.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--workspace", str(workspace), *args],
            cwd=ROOT,
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = AppServer(process, f"http://127.0.0.1:{port}", workspace, console)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited early:\n{server.console_text()}")
        try:
            urllib.request.urlopen(server.url + "/", timeout=2)
            return server
        except urllib.error.HTTPError:
            return server  # it answers (e.g. 401 behind a login)
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"app did not answer within {timeout} s:\n{server.console_text()}")

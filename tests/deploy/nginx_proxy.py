"""A real nginx in front of the app, set up like a rented-GPU provider's reverse proxy.

The app is served under a path prefix (``location /prefix/`` → the app's root, the prefix stripped),
with the upgrade headers for WebSockets/SSE, ``proxy_buffering off`` and a deliberately short
``proxy_read_timeout``: a stream that goes quiet for longer than that is cut by the proxy.
"""

from __future__ import annotations

import getpass
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

NGINX = Path("/usr/sbin/nginx")

CONF = """
daemon off;
worker_processes 1;
user {user};
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    client_max_body_size 0;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        location {prefix}/ {{
            proxy_pass http://127.0.0.1:{app_port}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout {read_timeout}s;
            proxy_send_timeout {read_timeout}s;
        }}
    }}
}}
"""


def require_nginx() -> None:
    if not NGINX.exists():
        pytest.skip(
            f"{NGINX} is missing: the reverse-proxy test needs a real nginx (apt-get install -y nginx)"
        )


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    root: Path
    port: int
    prefix: str

    @property
    def url(self) -> str:
        """The app's public address through the proxy, with the trailing slash providers use."""
        return f"http://127.0.0.1:{self.port}{self.prefix}/"

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_proxy(root: Path, *, app_port: int, prefix: str, read_timeout_s: int) -> Proxy:
    """Start nginx in the foreground (its own files under ``root``); returns once it accepts."""
    require_nginx()
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    conf = root / "nginx.conf"
    conf.write_text(
        CONF.format(
            user=getpass.getuser(),
            root=root,
            port=port,
            prefix=prefix.rstrip("/"),
            app_port=app_port,
            read_timeout=read_timeout_s,
        )
    )
    process = subprocess.Popen(
        [str(NGINX), "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    proxy = Proxy(process, root, port, prefix.rstrip("/"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited early:\n{proxy.error_log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proxy
        except OSError:
            time.sleep(0.05)
    proxy.stop()
    raise RuntimeError(f"nginx did not listen within 15 s:\n{proxy.error_log()}")

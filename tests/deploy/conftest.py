"""The app served under a path prefix behind a real nginx, and a job that goes quiet for a while."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind
from lora_studio.jobs.model import JobSpec
from lora_studio.services import Services, build_services
from tests.deploy.nginx_proxy import Proxy, require_nginx, start_proxy
from tests.fakes.app_server import AppServer, start_app
from tests.fakes.children import spec

PREFIX = "/some/prefix"
USER, PASSWORD = "tester", "proxy-pass-123"
READ_TIMEOUT_S = 5
QUIET_S = 12

# Waits for the test's go-file, prints lines live, falls silent for QUIET_S, then prints its last line.
# The markers are split in the source because the log's first line echoes the command.
QUIET_JOB = """
import os, sys, time
go, quiet = sys.argv[1], float(sys.argv[2])
while not os.path.exists(go):
    time.sleep(0.05)
for i in range(10):
    print(f"LINE {i}", flush=True)
    time.sleep(0.3)
print("QUIET", "START", flush=True)
time.sleep(quiet)
print("QUIET", "END", flush=True)
"""


def quiet_job(go: Path) -> JobSpec:
    return spec(QUIET_JOB, str(go), str(QUIET_S), kind=JobKind.OTHER, title="quiet job")


@dataclass
class Deployment:
    server: AppServer
    proxy: Proxy
    services: Services


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """The app with ``--root-path`` and a login, behind nginx with a 5 s read timeout."""
    require_nginx()
    workspace = tmp_path / "ws"
    server = start_app(workspace, tmp_path, "--root-path", PREFIX, "--auth", f"{USER}:{PASSWORD}")
    try:
        app_port = int(server.url.rsplit(":", 1)[1])
        proxy = start_proxy(
            tmp_path / "nginx", app_port=app_port, prefix=PREFIX, read_timeout_s=READ_TIMEOUT_S
        )
        try:
            yield Deployment(server, proxy, build_services(Settings(workspace=workspace)))
        finally:
            proxy.stop()
    finally:
        server.stop()

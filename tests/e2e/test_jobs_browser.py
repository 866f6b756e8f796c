"""A real browser follows a live job, survives a reload, and stops it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import psutil
import pytest

from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.services import build_services
from tests.fakes.app_server import start_app
from tests.fakes.children import spec

pytestmark = pytest.mark.browser

STREAMER = """
import sys, time
for i in range(100000):
    print(f"LINE {i}", flush=True)
    if i % 5 == 0:
        sys.stderr.write(f"\\rsteps: {i % 100:3d}%|#   | {i % 100}/100 [00:01<00:09, 10.0it/s, avr_loss=0.25]")
        sys.stderr.flush()
    time.sleep(0.05)
"""

MAX_LINE_JS = """() => {
  const t = document.querySelector('#job-log textarea');
  if (!t) return -1;
  const found = [...t.value.matchAll(/LINE (\\d+)/g)].map(m => Number(m[1]));
  return found.length ? Math.max(...found) : -1;
}"""


def max_line(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate(MAX_LINE_JS))


def open_jobs_tab(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.click("#tab-jobs-button")
    page.wait_for_selector("#job-log textarea")


def test_live_log_reload_and_stop(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    server = start_app(workspace, tmp_path)
    try:
        services = build_services(Settings(workspace=workspace, stop_grace_s=1.0))
        record = services.jobs.submit(
            spec(STREAMER, kind=JobKind.TRAIN, title="browser run", progress_desc="steps")
        )
        page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        open_jobs_tab(page, server.url)
        page.wait_for_function(f"({MAX_LINE_JS})() >= 10", timeout=30000)
        first = max_line(page)
        page.wait_for_function(f"({MAX_LINE_JS})() >= {first + 10}", timeout=30000)  # it streams live
        # Bar redraws never flood the log: they go to the progress line.
        assert not re.search(r"steps: +\d+%\|", page.input_value("#job-log textarea"))
        page.wait_for_function(
            "document.querySelector('#job-progress').innerText.includes('/100')", timeout=15000
        )
        assert "running" in page.inner_text("#job-status")
        page.screenshot(path=str(output_dir / "jobs-live.png"), full_page=True)

        before_reload = max_line(page)
        page.reload()
        open_jobs_tab(page, server.url)
        page.wait_for_function(f"({MAX_LINE_JS})() > {before_reload + 5}", timeout=30000)  # re-attached
        after = max_line(page)
        time.sleep(1.0)
        assert max_line(page) > after  # and still streaming

        job = services.jobs.get(record.id)
        assert job.pid is not None
        group = [p for p in psutil.process_iter() if _pgid(p.pid) == job.pid]
        assert group
        page.click("#job-stop")
        page.wait_for_function(
            "document.querySelector('#job-status').innerText.includes('stopped')", timeout=30000
        )
        assert services.jobs.get(record.id).status == JobStatus.STOPPED
        assert not [p for p in group if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        text = page.input_value("#job-log textarea")
        assert re.search(r"job stopped", text)
        page.screenshot(path=str(output_dir / "jobs-stopped.png"), full_page=True)
    finally:
        server.stop()


def _pgid(pid: int) -> int | None:
    import os

    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None

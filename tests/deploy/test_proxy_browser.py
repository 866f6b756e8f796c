"""The app behind a real nginx under a path prefix (``--root-path``), as rented-GPU providers serve it.

Through the proxy a real browser logs in, sees dataset thumbnails, and follows a job's log live,
including a 12 s quiet spell while nginx's ``proxy_read_timeout`` is 5 s: the page's streams must
keep sending, or the proxy cuts them and the last line never arrives.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lora_studio.core.types import JobStatus
from tests.datasets.corpus import distinct_png, write
from tests.deploy.conftest import PASSWORD, READ_TIMEOUT_S, USER, Deployment, quiet_job

pytestmark = pytest.mark.browser

MAX_LINE_JS = """() => {
  const t = document.querySelector('#job-log textarea');
  const found = t ? [...t.value.matchAll(/LINE (\\d+)/g)].map(m => Number(m[1])) : [];
  return found.length ? Math.max(...found) : -1;
}"""
LOG_HAS_JS = "(needle) => document.querySelector('#job-log textarea').value.includes(needle)"


def log_in(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_label("username").fill(USER)
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#tab-datasets-button", timeout=30000)


def test_login_thumbnails_and_live_log_through_the_proxy(  # type: ignore[no-untyped-def]
    chromium, deployment: Deployment, tmp_path: Path, output_dir: Path
) -> None:
    services, proxy = deployment.services, deployment.proxy
    services.datasets.create_dataset("demo")
    images = [write(tmp_path / "in" / f"img{i}.png", distinct_png(i, (96, 64))) for i in range(3)]
    services.datasets.import_files("demo", images)
    go = tmp_path / "go"
    record = services.jobs.submit(quiet_job(go))

    page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(page, proxy.url)
    assert page.url.startswith(proxy.url)

    # Thumbnails are static files: their URLs must carry the prefix and load through the proxy.
    page.click("#tab-datasets-button")
    page.click("#datasets-picker input")
    page.click("[role=option]:has-text('demo')")
    page.click("#datasets-gallery-tab-button")
    page.wait_for_function(
        """() => { const imgs = [...document.querySelectorAll('#datasets-gallery img')];
                   return imgs.length === 3 && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        timeout=30000,
    )
    sources = page.eval_on_selector_all("#datasets-gallery img", "imgs => imgs.map(i => i.src)")
    assert all(source.startswith(proxy.url) for source in sources), sources
    page.screenshot(path=str(output_dir / "proxy-gallery.png"), full_page=True)

    # The newest running job is selected when the page loads; its log streams through the proxy.
    page.click("#tab-jobs-button")
    page.wait_for_selector("#job-log textarea")
    go.touch()
    page.wait_for_function(f"({MAX_LINE_JS})() >= 2", timeout=30000)
    first = int(page.evaluate(MAX_LINE_JS))
    page.wait_for_function(f"({MAX_LINE_JS})() > {first}", timeout=30000)
    assert services.jobs.get(record.id).status == JobStatus.RUNNING  # it arrived live, not at the end
    page.wait_for_function(LOG_HAS_JS, arg="QUIET START", timeout=30000)
    assert not page.evaluate(LOG_HAS_JS, "QUIET END")
    quiet_from = time.monotonic()
    page.wait_for_function(LOG_HAS_JS, arg="QUIET END", timeout=60000)
    assert time.monotonic() - quiet_from > READ_TIMEOUT_S  # the silence outlasted the proxy's timeout
    page.wait_for_function(
        "document.querySelector('#job-status').innerText.includes('succeeded')", timeout=30000
    )
    page.screenshot(path=str(output_dir / "proxy-job.png"), full_page=True)
    assert "upstream timed out" not in proxy.error_log()

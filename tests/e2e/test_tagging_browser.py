"""A real browser tags a small dataset from the Tagging tab: the log streams, the progress moves, the
summary appears, and the captions are on disk; and Stop ends a run mid-way, cleanly. The tagger is a tiny
ONNX model typed in as a local folder (no network)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import psutil
import pytest
from gradio_client import Client
from PIL import Image

from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.services import build_services
from tests.e2e.helpers import pick
from tests.fakes.app_server import start_app
from tests.tagging.tiny_tagger import build_tiny_tagger

pytestmark = pytest.mark.browser

COLOURS = [(255, 0, 0), (255, 255, 255), (0, 0, 0), (255, 255, 0), (0, 255, 255)]
IMAGES = 60  # large enough that tagging takes a few seconds, so the progress is seen moving

# Samples the progress text and the log length every 20 ms from the moment Start is clicked.
RECORD_JS = """() => {
  window.__seen = {progress: [], logLengths: []};
  window.__timer = setInterval(() => {
    const p = document.querySelector('#tagging-progress');
    const t = document.querySelector('#tagging-log textarea');
    const text = p ? p.innerText.trim() : '';
    const seen = window.__seen;
    if (text && seen.progress[seen.progress.length - 1] !== text) seen.progress.push(text);
    const n = t ? t.value.length : 0;
    if (seen.logLengths[seen.logLengths.length - 1] !== n) seen.logLengths.push(n);
  }, 20);
}"""


def make_dataset(workspace: Path) -> Path:
    concept = workspace / "datasets" / "shots" / "10_hero"
    concept.mkdir(parents=True)
    for i in range(IMAGES):
        Image.new("RGB", (1024, 1024), COLOURS[i % len(COLOURS)]).save(concept / f"img{i:02d}.png")
    (concept / "img00.txt").write_text("hand written", encoding="utf-8")  # skipped: existing = skip
    (concept / "broken.png").write_bytes(b"not an image")  # skipped: unreadable
    return concept


def open_tagging(chromium, url: str, dataset: str, concept_label: str, model: Path):  # type: ignore[no-untyped-def]
    """A new page on the Tagging tab with ``dataset`` picked (its concept listed) and ``model`` filled in."""
    page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url)
    page.click("#tab-tagging-button")
    page.wait_for_selector("#tagging-dataset input")
    pick(page, "tagging-dataset", dataset, exact=True)
    page.wait_for_selector(f"#tagging-concepts label:has-text({concept_label!r})")
    page.fill("#tagging-model-path textarea, #tagging-model-path input", str(model))
    return page


def test_tag_a_dataset_from_the_tab(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    concept = make_dataset(workspace)
    model = build_tiny_tagger(tmp_path / "tiny-tagger")
    server = start_app(workspace, tmp_path)
    try:
        page = open_tagging(chromium, server.url, "shots", "61 images, 1 captioned", model)
        page.fill("#tagging-trigger-words textarea, #tagging-trigger-words input", "hero_char")
        page.evaluate(RECORD_JS)
        page.click("#tagging-start")

        page.wait_for_function(
            "document.querySelector('#tagging-summary').innerText.includes('59 tagged')", timeout=90000
        )
        page.evaluate("clearInterval(window.__timer)")
        seen = page.evaluate("window.__seen")
        log = page.input_value("#tagging-log textarea")
        assert "using the local tagger" in log and "done: 59 tagged" in log
        assert len(seen["logLengths"]) >= 3, seen  # the log grew in several steps: it streamed
        totals = [text for text in seen["progress"] if "/61 (" in text]
        assert any("61/61 (100%)" in text for text in totals), seen
        assert any("61/61" not in text for text in totals), seen  # a state before the end: it moved
        page.wait_for_function(
            "document.querySelector('#tagging-status').innerText.includes('succeeded')", timeout=15000
        )

        summary = page.inner_text("#tagging-summary")
        assert "2 skipped" in summary and "caption exists" in summary and "unreadable image" in summary
        skipped = page.inner_text("#tagging-skipped")
        assert "10_hero/img00.png" in skipped and "10_hero/broken.png" in skipped
        assert ">_<" in page.inner_text("#tagging-top-tags")
        page.wait_for_selector("#tagging-concepts label:has-text('61 images, 60 captioned')")
        page.screenshot(path=str(output_dir / "tagging.png"), full_page=True)

        assert (concept / "img00.txt").read_text(encoding="utf-8") == "hand written"
        assert (concept / "img01.txt").read_text(
            encoding="utf-8"
        ).strip() == "hero_char, white background, >_<"
        assert (concept / "img04.txt").read_text(encoding="utf-8").startswith("hero_char, >_<")
        assert not (concept / "broken.txt").exists()
        assert len(list(concept.glob("*.txt"))) == 60

        page.reload()  # a fresh page shows the last run: its dataset and its summary
        page.click("#tab-tagging-button")
        page.wait_for_function(
            "document.querySelector('#tagging-summary').innerText.includes('59 tagged')", timeout=30000
        )
        assert page.input_value("#tagging-dataset input") == "shots"

        client = Client(server.url, verbose=False)
        job_id = re.search(r"job (\S+-tag-\S+)", summary).group(1)  # type: ignore[union-attr]
        data = client.predict(job_id, api_name="/tagging_summary")
        assert data["tagged"] == 59 and data["skipped_count"] == 2
    finally:
        server.stop()


# Stop mid-run: 400 big (2048 px) PNGs take ~15 s at batch size 1 on a 2-core CPU, so the run is still
# going when Stop is clicked after the first few captions. Four colours, copied: cheap to make.
STOP_IMAGES = 400
STOP_CAPTIONS = {  # the tiny tagger's caption for each colour, as written with the default options
    (255, 0, 0): "red theme, >_<, red hero (series)\n",
    (0, 0, 0): "dark, >_<\n",
    (255, 255, 0): "^_^, >_<\n",
    (255, 255, 255): "white background, >_<\n",
}
PROGRESS_AT_LEAST_JS = """(n) => {
  const p = document.querySelector('#tagging-progress');
  const m = p && p.innerText.match(/(\\d+)\\/400/);
  return m !== null && Number(m[1]) >= n;
}"""


def make_big_dataset(workspace: Path) -> tuple[Path, dict[str, str]]:
    """400 PNGs of 2048 px in one concept; returns the folder and each image stem's expected caption."""
    concept = workspace / "datasets" / "long" / "1_crowd"
    concept.mkdir(parents=True)
    firsts: list[Path] = []
    for colour in STOP_CAPTIONS:
        firsts.append(concept / f"img{len(firsts):03d}.png")
        Image.new("RGB", (2048, 2048), colour).save(firsts[-1])
    expected = {}
    for i in range(STOP_IMAGES):
        if i >= len(firsts):
            shutil.copyfile(firsts[i % len(firsts)], concept / f"img{i:03d}.png")
        expected[f"img{i:03d}"] = list(STOP_CAPTIONS.values())[i % len(firsts)]
    return concept, expected


def _group(pgid: int) -> list[psutil.Process]:
    """The live processes of a process group (zombies waiting for their parent's wait() excluded)."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def test_stop_a_tagging_run_mid_way(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    concept, expected = make_big_dataset(workspace)
    model = build_tiny_tagger(tmp_path / "tiny-tagger")
    server = start_app(workspace, tmp_path, "--stop-grace", "20")  # long: the worker must stop on SIGINT
    try:
        page = open_tagging(chromium, server.url, "long", "400 images, 0 captioned", model)
        page.click("#tagging-start")
        page.wait_for_function(PROGRESS_AT_LEAST_JS, arg=8, timeout=60000)  # captions are being written

        services = build_services(Settings(workspace=workspace))
        (job,) = [r for r in services.jobs.list_jobs() if r.kind is JobKind.TAG]
        assert job.status is JobStatus.RUNNING and job.pid is not None
        group = _group(job.pid)  # the worker (it decodes in threads) and anything it started
        assert group, job.pid
        page.click("#tagging-stop")
        page.wait_for_function(
            "document.querySelector('#tagging-status').innerText.includes('stopped')", timeout=30000
        )
        page.wait_for_function(
            "document.querySelector('#tagging-summary').innerText.includes('Stopped before the end')",
            timeout=15000,
        )
        page.screenshot(path=str(output_dir / "tagging-stopped.png"), full_page=True)

        record = services.jobs.get(job.id)
        assert record.status is JobStatus.STOPPED
        assert record.exit_code == 130  # the worker caught SIGINT itself: no SIGTERM/SIGKILL was needed
        log = page.input_value("#tagging-log textarea")
        assert re.search(r"stopped after \d+ images", log) and "[lora-studio] job stopped" in log
        assert not [p for p in group if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not _group(job.pid)  # nothing new in the group either

        captions = sorted(concept.glob("*.txt"))
        assert 8 <= len(captions) < STOP_IMAGES, len(captions)  # stopped mid-way, after some captions
        for caption in captions:  # each one whole: written atomically, never torn or empty
            assert caption.read_text(encoding="utf-8") == expected[caption.stem], caption.name
        assert not [p.name for p in concept.iterdir() if p.suffix not in (".png", ".txt")]  # no temp files
        summary = page.inner_text("#tagging-summary")
        assert f"{len(captions)} tagged" in summary, summary
    finally:
        server.stop()

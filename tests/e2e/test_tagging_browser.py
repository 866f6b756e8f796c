"""A real browser tags a small dataset from the Tagging tab: the log streams, the progress moves, the
summary appears, and the captions are on disk. The tagger is a tiny ONNX model typed in as a local folder
(no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gradio_client import Client
from PIL import Image

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


def pick(page, elem_id: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.click(f"#{elem_id} input")
    page.click(f"[role=option][aria-label='{option}']")


def test_tag_a_dataset_from_the_tab(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    concept = make_dataset(workspace)
    model = build_tiny_tagger(tmp_path / "tiny-tagger")
    server = start_app(workspace, tmp_path)
    try:
        page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.goto(server.url)
        page.click("#tab-tagging-button")
        page.wait_for_selector("#tagging-dataset input")
        pick(page, "tagging-dataset", "shots")
        page.wait_for_selector("#tagging-concepts label:has-text('61 images, 1 captioned')")
        page.fill("#tagging-model-path textarea, #tagging-model-path input", str(model))
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

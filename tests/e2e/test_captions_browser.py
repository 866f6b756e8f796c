"""A real browser edits captions (save, and save-before-next), runs a bulk trigger-word insertion,
sees the tag counts change in the frequency table, and undoes it after confirming."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.helpers import toasts, wait_text, watch_toasts
from tests.fakes.app_server import start_app

pytestmark = pytest.mark.browser

CAPTIONS = {
    "10_alice": {
        "001.png": "alice, long hair, smile",
        "002.png": "alice, long hair, outdoors",
        "003.png": "alice, smile, hat",
        "004.png": None,
    },
    "5_bob": {"010.png": "bob, smile", "011.png": "bob, hat"},
}

# The rows (tag, images, share) of the frequency table as the browser shows them (few: all rendered).
FREQUENCY_ROWS_JS = """() => [...document.querySelectorAll('#captions-freq [role=row]')].map(
  row => [...row.querySelectorAll('[role=gridcell]')].map(cell => cell.innerText.trim())).filter(r => r.length)"""


def make_dataset(workspace: Path) -> Path:
    root = workspace / "datasets" / "chars"
    for index, (concept, images) in enumerate(CAPTIONS.items()):
        (root / concept).mkdir(parents=True)
        for number, (name, caption) in enumerate(images.items()):
            colour = (40 * number + 60, 90 + 60 * index, 160)
            Image.new("RGB", (64, 48), colour).save(root / concept / name)
            if caption is not None:
                (root / concept / name).with_suffix(".txt").write_text(caption + "\n", encoding="utf-8")
    return root


def box(elem_id: str) -> str:
    """A Gradio textbox's field: a textarea, or an input for single-line boxes."""
    return f"#{elem_id} textarea, #{elem_id} input"


def tag_count(page, tag: str) -> int | None:  # type: ignore[no-untyped-def]
    for row in page.evaluate(FREQUENCY_ROWS_JS):
        if row and row[0] == tag:
            return int(row[1])
    return None


def wait_tag_count(page, tag: str, count: int | None) -> None:  # type: ignore[no-untyped-def]
    expected = "undefined" if count is None else repr(str(count))
    page.wait_for_function(
        f"() => {{ const row = ({FREQUENCY_ROWS_JS})().find(r => r[0] === {tag!r}); "
        f"return (row ? row[1] : undefined) === {expected}; }}",
        timeout=30000,
    )


def test_edit_bulk_trigger_frequencies_and_undo(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    root = make_dataset(workspace)
    server = start_app(workspace, tmp_path)
    try:
        page = chromium.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        page.goto(server.url)
        page.click("#tab-captions-button")
        wait_text(page, "#captions-position", "10_alice/001.png", "image 1 of 6")
        wait_text(page, "#captions-stats", "6", "images", "1 images have no caption")
        wait_tag_count(page, "smile", 3)
        assert page.locator("#captions-gallery img").count() == 6

        # Edit one caption and save it: one line, UTF-8, on disk.
        page.fill(box("captions-text"), "alice, long hair, smile, red scarf")
        page.click("#captions-save")
        wait_tag_count(page, "red scarf", 1)
        assert (root / "10_alice/001.txt").read_text(
            encoding="utf-8"
        ) == "alice, long hair, smile, red scarf\n"

        # An edit is never dropped by moving on: Next saves it first.
        page.click("#captions-next")
        wait_text(page, "#captions-position", "10_alice/002.png")
        page.fill(box("captions-text"), "alice, long hair, outdoors, tree")
        page.click("#captions-next")
        wait_text(page, "#captions-position", "10_alice/003.png", "image 3 of 6")
        assert (root / "10_alice/002.txt").read_text(encoding="utf-8") == "alice, long hair, outdoors, tree\n"

        # Bulk: preview, then apply a trigger word at the start of every caption.
        page.fill(box("captions-op-main"), "ohwx")
        page.click("#captions-op-preview")
        wait_text(page, "#captions-op-outcome", "would change 6 of 6 captions")
        assert "ohwx, alice" in page.inner_text("#captions-op-examples")
        assert tag_count(page, "ohwx") is None
        page.click("#captions-op-apply")
        wait_text(page, "#captions-op-outcome", "changed 6 of 6 captions")
        wait_tag_count(page, "ohwx", 6)
        wait_text(page, "#captions-history", "add trigger word 'ohwx'", "applied")
        wait_text(page, "#captions-position", "10_alice/003.png")
        assert page.input_value(box("captions-text")) == "ohwx, alice, smile, hat"
        assert (root / "10_alice/004.txt").read_text(encoding="utf-8") == "ohwx\n"
        page.screenshot(path=str(output_dir / "captions.png"), full_page=True)

        # Clicking a tag in the table filters the gallery.
        page.locator("#captions-freq [role=gridcell]", has_text="hat").first.click()
        wait_text(page, "#captions-position", "image 1 of 2")
        assert page.input_value(box("captions-filter-has")) == "hat"
        assert page.locator("#captions-gallery img").count() == 2

        # Undo (after the browser's confirmation) restores every caption and the counts.
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#captions-undo")
        wait_text(page, "#captions-op-outcome", "Undone", "restored 6 captions")
        wait_tag_count(page, "ohwx", None)
        wait_text(page, "#captions-history", "undone")
        assert (root / "10_alice/003.txt").read_text(encoding="utf-8") == "alice, smile, hat\n"
        assert (root / "10_alice/001.txt").read_text(
            encoding="utf-8"
        ) == "alice, long hair, smile, red scarf\n"
        assert not (root / "10_alice/004.txt").exists()
        assert page.input_value(box("captions-text")) == "alice, smile, hat"
        page.screenshot(path=str(output_dir / "captions-undone.png"), full_page=True)
    finally:
        server.stop()


def test_switching_datasets_quickly_shows_no_error(chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Switching while the previous dataset is still loading once sent the new dataset's editor
    # state with the old (or empty) text box, and the tab tried to save it: "empty caption" error.
    workspace = tmp_path / "ws"
    names = ["aaa", "bbb", "ccc"]
    for index, name in enumerate(names):
        folder = workspace / "datasets" / name / "1_thing"
        folder.mkdir(parents=True)
        for number in range(30):
            Image.new("RGB", (256, 256), (index * 80, number * 8, 120)).save(folder / f"{number:03d}.png")
            (folder / f"{number:03d}.txt").write_text(f"{name}, picture {number}\n", encoding="utf-8")
    server = start_app(workspace, tmp_path)
    try:
        page = chromium.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        page.goto(server.url)
        watch_toasts(page)
        page.click("#tab-captions-button")
        # Switch as soon as the picker holds the first dataset, while its first load is arriving.
        page.wait_for_function("() => document.querySelector('#captions-dataset input').value === 'aaa'")
        for name in ["bbb", "ccc", "aaa", "ccc", "bbb", "aaa", "ccc", "aaa", "bbb"]:  # no waiting
            page.click("#captions-dataset input")
            page.click(f"[role=option][aria-label='{name}']")
        page.wait_for_function(
            "() => document.querySelector('#captions-text textarea').value === 'bbb, picture 0'",
            timeout=30000,
        )
        page.wait_for_timeout(1500)  # late replies of the earlier switches
        shown = toasts(page)
        assert not [toast for toast in shown if "error" in toast.lower()], shown
        for name in names:  # and nothing was written
            text = (workspace / "datasets" / name / "1_thing" / "000.txt").read_text(encoding="utf-8")
            assert text == f"{name}, picture 0\n"
    finally:
        server.stop()

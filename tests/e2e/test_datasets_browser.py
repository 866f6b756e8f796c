"""A real browser creates a dataset, uploads images and a zip, sees them in the gallery, deletes one,
changes a concept's repeats, looks at the statistics, adds a concept and uploads into it, imports a
server folder, pages the gallery and deletes the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.datasets.corpus import distinct_png, write, zip_bytes
from tests.e2e.helpers import wait_text
from tests.fakes.app_server import start_app

pytestmark = pytest.mark.browser


def wait_images(page, count: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"() => document.querySelectorAll('#datasets-gallery img').length === {count}", timeout=30000
    )


def dataset_files(workspace: Path, name: str) -> set[str]:
    root = workspace / "datasets" / name
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_create_upload_gallery_delete(chromium, tmp_path: Path, output_dir: Path) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    uploads = [
        write(tmp_path / "in" / "red.png", distinct_png(1, (120, 80))),
        write(tmp_path / "in" / "red.txt", "a red square"),
        write(tmp_path / "in" / "green.png", distinct_png(2, (80, 120))),
        write(tmp_path / "in" / "broken.jpg", b"not really a jpeg"),
        write(
            tmp_path / "in" / "extra.zip",
            zip_bytes(
                {"2_sketch/s1.png": distinct_png(3), "2_sketch/s1.txt": "a sketch", "z.png": distinct_png(4)}
            ),
        ),
    ]
    server = start_app(workspace, tmp_path)
    try:
        page = chromium.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(server.url)
        page.click("#tab-datasets-button")
        page.fill("#datasets-new-name input, #datasets-new-name textarea", "portraits")
        page.fill("#datasets-new-concept input, #datasets-new-concept textarea", "anna")
        page.click("#datasets-create")
        wait_text(page, "#datasets-status", "Created dataset portraits")
        wait_text(page, "#datasets-notes", "portraits", "0 images")

        page.click("#datasets-add-tab-button")
        page.set_input_files("#datasets-upload-files input[type=file]", [str(path) for path in uploads])
        wait_text(
            page, "#datasets-upload-files", "extra", "broken", "green"
        )  # name and extension render apart
        page.click("#datasets-upload")
        wait_text(page, "#datasets-upload-summary", "4 accepted", "1 rejected")
        report = page.inner_text("#datasets-upload-report")
        assert "broken.jpg" in report and "rejected" in report
        assert "sketch / s1.png" in report and "anna / red.png" in report
        page.screenshot(path=str(output_dir / "datasets-upload.png"), full_page=True)
        assert dataset_files(workspace, "portraits") == {
            "10_anna/red.png", "10_anna/red.txt", "10_anna/green.png", "10_anna/z.png",
            "2_sketch/s1.png", "2_sketch/s1.txt",
        }  # fmt: skip

        page.click("#datasets-gallery-tab-button")
        wait_images(page, 4)
        wait_text(page, "#datasets-details", "red.png", "green.png", "s1.png", "120x80")
        wait_text(page, "#datasets-page-text", "of 4")
        page.screenshot(path=str(output_dir / "datasets-gallery.png"), full_page=True)

        # Clicking a thumbnail ticks it; Delete asks (accepted above) and removes image and caption.
        page.locator("#datasets-gallery img").first.click()
        page.wait_for_function(
            "() => document.querySelectorAll('#datasets-selection input[type=checkbox]:checked').length === 1"
        )
        page.click("#datasets-delete-images")
        wait_text(page, "#datasets-status", "Deleted 1 image(s)")
        wait_images(page, 3)
        files = dataset_files(workspace, "portraits")
        assert len([name for name in files if name.endswith(".png")]) == 3
        assert "10_anna/green.png" not in files  # the first thumbnail: concept folders, then names, in order

        page.click("#datasets-overview-tab-button")
        page.locator("#datasets-concepts [role=gridcell]", has_text="sketch").first.click()
        page.wait_for_function("() => document.querySelector('#datasets-repeats input').value === '2'")
        page.fill("#datasets-repeats input", "5")
        page.click("#datasets-set-repeats")
        wait_text(page, "#datasets-status", "now repeats 5 times")
        wait_text(page, "#datasets-concepts", "sketch", "5")
        # The editor keeps the concept just edited.
        assert page.input_value("#datasets-concept input") == "sketch"
        assert (workspace / "datasets" / "portraits" / "5_sketch" / "s1.png").is_file()
        page.screenshot(path=str(output_dir / "datasets-overview.png"), full_page=True)

        page.click("#datasets-stats-tab-button")
        wait_text(page, "#datasets-stats-summary", "portraits", "3 images")
        wait_text(page, "#datasets-stats-buckets", "x")
        # The bucket chart draws one bar per bucket, labelled as in the table beside it.
        buckets = page.evaluate(
            "() => document.querySelector('#datasets-stats-buckets').innerText.split('\\n')"
            ".map(s => s.trim()).filter(s => /^\\d+x\\d+$/.test(s))"
        )
        assert buckets, "the bucket table is empty"
        page.wait_for_function(
            "(n) => document.querySelectorAll('#datasets-stats-bucket-chart .mark-rect path').length === n",
            arg=len(buckets),
            timeout=30000,
        )
        heights = page.evaluate(
            "() => [...document.querySelectorAll('#datasets-stats-bucket-chart .mark-rect path')]"
            ".map(bar => bar.getBBox().height)"
        )
        assert all(height > 0 for height in heights), heights  # the smallest bucket is drawn too
        labels = page.evaluate(
            "() => [...document.querySelectorAll('#datasets-stats-bucket-chart .role-axis-label text')]"
            ".map(t => t.textContent)"
        )
        assert set(buckets) <= set(labels), (buckets, labels)
        assert page.locator("#datasets-stats-aspect-chart .mark-rect path").count() >= 1
        page.screenshot(path=str(output_dir / "datasets-stats.png"), full_page=True)

        # A new concept with its own repeats: listed at once, and the upload form points at it.
        page.click("#datasets-overview-tab-button")
        page.fill("#datasets-add-concept-name input, #datasets-add-concept-name textarea", "outfit")
        page.fill("#datasets-add-concept-repeats input", "3")
        page.click("#datasets-add-concept")
        wait_text(page, "#datasets-status", "Added concept outfit with 3 repeats")
        wait_text(page, "#datasets-concepts", "outfit\n3\n")  # the cells of its row: concept, repeats
        assert (workspace / "datasets" / "portraits" / "3_outfit").is_dir()
        page.click("#datasets-add-tab-button")
        concept_box = page.locator("#datasets-upload-concept input, #datasets-upload-concept textarea")
        assert concept_box.input_value() == "outfit"
        coat = write(tmp_path / "in2" / "coat.png", distinct_png(5))
        page.set_input_files("#datasets-upload-files input[type=file]", [str(coat)])
        wait_text(page, "#datasets-upload-files", "coat")
        page.click("#datasets-upload")
        wait_text(page, "#datasets-upload-summary", "1 accepted")
        wait_text(page, "#datasets-upload-report", "outfit / coat.png")
        assert (workspace / "datasets" / "portraits" / "3_outfit" / "coat.png").is_file()

        # A folder already on the server, then a second gallery page.
        for index in range(50):
            write(tmp_path / "server" / f"img{index:02d}.png", distinct_png(100 + index))
        page.click("#datasets-add-tab-button")
        page.fill("#datasets-folder input, #datasets-folder textarea", str(tmp_path / "server"))
        page.click("#datasets-folder-import")
        wait_text(page, "#datasets-upload-summary", "50 accepted")
        page.click("#datasets-gallery-tab-button")
        wait_text(page, "#datasets-page-text", "Page 1 of 2")
        wait_images(page, 48)
        page.screenshot(path=str(output_dir / "datasets-gallery-full.png"), full_page=True)
        page.click("#datasets-page-next")
        wait_text(page, "#datasets-page-text", "Page 2 of 2", "49–54 of 54")
        wait_images(page, 6)

        page.click("#datasets-delete")
        wait_text(page, "#datasets-status", "Deleted dataset portraits")
        wait_text(page, "#datasets-notes", "No dataset yet")
        assert not (workspace / "datasets" / "portraits").exists()
    finally:
        server.stop()

"""The Datasets tab's API through the real Gradio server (gradio_client): uploads with a per-file
report, repeats, the gallery, statistics, deleting images, a server folder, rename and delete."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from tests.datasets.corpus import distinct_png, hostile_files, write, zip_bytes
from tests.fakes.app_server import AppServer, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, Client, Path]]:
    tmp = tmp_path_factory.mktemp("datasets-api")
    server = start_app(tmp / "ws", tmp)
    try:
        yield server, Client(server.url, verbose=False, download_files=False), tmp
    finally:
        server.stop()


def table(value: Any) -> list[list[Any]]:
    """A Dataframe output as rows."""
    return [list(row) for row in value["data"]] if value and value.get("data") else []


def by_file(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {str(row[0]): row for row in rows}


def dataset_files(workspace: Path, name: str) -> set[str]:
    root = workspace / "datasets" / name
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_upload_reports_every_file_and_copies_into_the_dataset(app: tuple[AppServer, Client, Path]) -> None:
    server, client, tmp = app
    status, _picker, _name, _concept = client.predict("shots", "cat", 4, api_name="/datasets_create")
    assert "Created dataset **shots**" in status

    hostile = hostile_files()
    picked = ["page.png", "bomb.png", "zero.png", "cmyk.jpg"]
    inputs = [write(tmp / "in" / name, hostile[name][0]) for name in picked]
    inputs.append(write(tmp / "in" / "a.png", distinct_png(1)))
    inputs.append(write(tmp / "in" / "a.txt", "a cat on a sofa"))
    inputs.append(write(tmp / "in" / "notes.pdf", b"%PDF-1.4 not for us"))
    archive = {"3_dog/b.png": distinct_png(2), "3_dog/b.txt": "a dog", "c.png": distinct_png(3)}
    inputs.append(write(tmp / "in" / "more.zip", zip_bytes(archive)))
    summary, report = client.predict(
        "shots", [handle_file(str(path)) for path in inputs], "", None, api_name="/datasets_upload"
    )
    rows = by_file(table(report))
    assert "4 accepted" in summary and "4 rejected" in summary
    for name in ("page.png", "bomb.png", "zero.png"):
        assert rows[name][1] == "rejected" and hostile[name][1] in rows[name][2]
    assert rows["notes.pdf"][1] == "rejected" and "not an image" in rows["notes.pdf"][2]
    assert rows["a.png"][1:4:2] == ["accepted", "cat / a.png"]
    assert rows["more.zip:3_dog/b.png"][1:4:2] == ["accepted", "dog / b.png"]
    assert rows["more.zip:c.png"][3] == "cat / c.png"
    assert rows["cmyk.jpg"][1] == "accepted"

    workspace = server.workspace
    files = dataset_files(workspace, "shots")
    assert {"4_cat/a.png", "4_cat/a.txt", "3_dog/b.png", "3_dog/b.txt", "4_cat/c.png"} <= files
    # The dataset holds copies: Gradio's upload cache can go without losing anything.
    shutil.rmtree(tmp / "gradio", ignore_errors=True)
    assert (workspace / "datasets" / "shots" / "4_cat" / "a.png").read_bytes() == distinct_png(1)

    # The same upload again: nothing new, every image a duplicate.
    again_summary, _ = client.predict(
        "shots", [handle_file(str(inputs[4]))], "", None, api_name="/datasets_upload"
    )
    assert "0 accepted" in again_summary and "1 duplicate" in again_summary


def test_list_repeats_gallery_stats_and_delete_images(app: tuple[AppServer, Client, Path]) -> None:
    server, client, tmp = app
    client.predict("pets", "", 10, api_name="/datasets_create")
    images = [
        write(tmp / "pets" / f"p{index}.png", distinct_png(100 + index, (96, 64))) for index in range(5)
    ]
    captions = [write(tmp / "pets" / "p0.txt", "first")]
    client.predict(
        "pets", [handle_file(str(p)) for p in images + captions], "pet", 2, api_name="/datasets_upload"
    )

    listed, _picker = client.predict(None, api_name="/datasets_list")
    rows = by_file(table(listed))
    assert rows["pets"][1:4] == [5, 1, rows["pets"][3]] and rows["pets"][4] == "pet (2)"

    assert "repeats **7**" in client.predict("pets", "pet", 7, api_name="/datasets_set_repeats")
    assert (server.workspace / "datasets" / "pets" / "7_pet").is_dir()

    gallery, _selection, details, page_text, page = client.predict(
        "pets", "", 2, 2, api_name="/datasets_gallery"
    )
    assert page == 2 and "Page 2 of 3" in page_text
    assert [row[0] for row in table(details)] == ["p2.png", "p3.png"]
    assert table(details)[0][3] == "96x64" and table(details)[0][4] == "no"
    thumbs = server.workspace / ".cache" / "thumbs"
    assert len(gallery) == 2
    assert all(Path(item["image"]["path"]).resolve().is_relative_to(thumbs.resolve()) for item in gallery)

    summary, resolutions, aspects, buckets, small, uncaptioned = client.predict(
        "pets", 512, 512, 256, 1024, 64, False, api_name="/datasets_stats"
    )
    assert "5 images, 1 captioned" in summary
    assert table(resolutions) == [["96x64", 5]] and table(aspects) == [["3:2", 5]]
    assert len(table(small)) == 5 and len(table(uncaptioned)) == 4
    assert sum(row[1] for row in table(buckets)) == 5 and sum(row[2] for row in table(buckets)) == 35

    # Deleting takes images ticked on the session's current page (like the browser), so show page 1 first.
    client.predict("pets", "", 1, 2, api_name="/datasets_gallery")
    message = client.predict("pets", ["7_pet/p0.png"], api_name="/datasets_delete_images")
    assert "Deleted 1 image(s) and 1 caption file(s)" in message
    assert dataset_files(server.workspace, "pets") == {f"7_pet/p{index}.png" for index in range(1, 5)}


def test_server_folder_rename_and_delete(app: tuple[AppServer, Client, Path]) -> None:
    server, client, tmp = app
    client.predict("trip", "", 10, api_name="/datasets_create")
    folder = tmp / "on-server"
    write(folder / "5_beach" / "x.png", distinct_png(200))
    write(folder / "y.png", distinct_png(201))
    summary, report = client.predict("trip", str(folder), "", None, api_name="/datasets_import_folder")
    assert "2 accepted" in summary
    assert {row[3] for row in table(report)} == {"beach / x.png", "trip / y.png"}

    with pytest.raises(Exception, match="not a folder"):
        client.predict("trip", str(tmp / "missing"), "", None, api_name="/datasets_import_folder")

    status, picker, _ = client.predict("trip", "holiday", api_name="/datasets_rename")
    assert "Renamed **trip** to **holiday**" in status and picker["value"] == "holiday"
    assert "Deleted dataset" in client.predict("holiday", api_name="/datasets_delete")
    assert not (server.workspace / "datasets" / "holiday").exists()
    with pytest.raises(Exception, match="No dataset named 'holiday'"):
        client.predict("holiday", api_name="/datasets_delete")

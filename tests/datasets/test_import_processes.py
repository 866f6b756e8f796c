"""Imports of many files on disk go through the checking processes: same outcome, nothing left
behind when one of those processes dies."""

from __future__ import annotations

import os
import signal
import zipfile
from pathlib import Path

import pytest

from lora_studio.core.errors import ImportFailed
from lora_studio.core.settings import Settings
from lora_studio.services.datasets import DatasetService, ImportReport, check_pool
from lora_studio.services.datasets.importer import POOL_MIN_FILES
from tests.datasets.corpus import distinct_png, hostile_files, image_bytes, write


def many_files(folder: Path, count: int) -> list[Path]:
    paths = [write(folder / f"img_{index:04d}.png", distinct_png(index)) for index in range(count)]
    write(folder / "img_0003.txt", "a caption that comes along")
    paths.append(folder / "img_0003.txt")
    paths.append(write(folder / "again.png", distinct_png(5)))  # same bytes as img_0005.png
    return paths


def outcome(report: ImportReport) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(r.source, r.status.value, r.reason, r.final_path, r.caption_path) for r in report.rows]


def dataset_files(settings: Settings, name: str) -> dict[str, bytes]:
    root = settings.datasets_dir / name
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_processes_and_threads_give_the_same_import(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files (hostile ones among them), captions, a duplicate and a zip: the processes' import is
    the one this process makes by itself, file for file."""
    inputs = many_files(tmp_path / "in", POOL_MIN_FILES + 8)
    for name, (data, _) in hostile_files().items():
        inputs.append(write(tmp_path / "hostile" / name, data))
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("2_dogs/dog.png", image_bytes(color=(1, 2, 3)))
        zipped.writestr("img_0001.png", distinct_png(1))  # a duplicate of a loose file
    inputs.append(archive)
    submitted: list[int] = []
    real_submit = check_pool.submit

    def counting_submit(tasks: list[tuple[str, str, str]]) -> object:
        submitted.append(len(tasks))
        return real_submit(tasks)

    monkeypatch.setattr(check_pool, "submit", counting_submit)
    reports, contents = [], []
    for use_processes, name in ((True, "procs"), (False, "threads")):
        service = DatasetService(settings)
        service.prepare_imports()  # as the app does at launch
        service._importer.processes = use_processes
        service.create_dataset(name, concept="cat")
        reports.append(outcome(service.import_files(name, inputs)))
        contents.append(dataset_files(settings, name))
    assert sum(submitted) >= POOL_MIN_FILES + 8, "the files on disk went to the checking processes"
    assert reports[0] == reports[1]
    assert contents[0] == contents[1]
    assert "10_cat/img_0003.txt" in contents[0]
    assert any(row[1] == "duplicate" for row in reports[0])


def test_a_checking_process_that_dies_fails_the_import_and_leaves_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    service = DatasetService(settings)
    service.create_dataset("set", concept="cat")
    inputs = many_files(tmp_path / "in", 1000)
    pool = check_pool.warm()
    check_pool.submit([]).result()  # every process is up

    killed: list[int] = []

    def kill_one(fraction: float, message: str) -> None:
        # The first outcome is in, the other batches are still queued or running: one process dies.
        if not killed:
            killed.append(next(iter(pool._processes)))
            os.kill(killed[0], signal.SIGKILL)

    with pytest.raises(ImportFailed, match="stopped"):
        service.import_files("set", inputs, on_progress=kill_one)
    root = settings.datasets_dir / "set"
    assert sorted(path.name for path in root.iterdir()) == ["10_cat"], "no staging folder left"
    assert dataset_files(settings, "set") == {}
    report = service.import_files("set", inputs)  # a fresh pool takes over
    assert sum(row.status.value == "accepted" for row in report.rows) == 1000


def test_a_one_off_import_does_not_start_the_processes_for_a_few_files(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI imports once and exits: starting the processes would cost more than they save."""
    monkeypatch.setattr(check_pool, "started", lambda: False)
    monkeypatch.setattr(check_pool, "submit", lambda tasks: pytest.fail("processes used"))
    service = DatasetService(settings)
    service.create_dataset("set", concept="cat")
    report = service.import_files("set", many_files(tmp_path / "in", POOL_MIN_FILES + 8))
    assert sum(row.status.value == "accepted" for row in report.rows) == POOL_MIN_FILES + 8

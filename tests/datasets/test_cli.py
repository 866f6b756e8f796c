"""``python -m lora_studio dataset ...`` as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.datasets.corpus import distinct_png, write, zip_bytes

ROOT = Path(__file__).resolve().parents[2]


def cli(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LORA_STUDIO_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "lora_studio", "--workspace", str(workspace), "dataset", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dataset_commands_end_to_end(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    created = cli(workspace, "create", "cats", "--concept", "cat", "--repeats", "6")
    assert created.returncode == 0, created.stderr
    inputs = [
        write(tmp_path / "in" / "a.png", distinct_png(1)),
        write(tmp_path / "in" / "a.txt", "a cat"),
        write(tmp_path / "in" / "bad.png", "<html></html>"),
        write(
            tmp_path / "in" / "pack.zip",
            zip_bytes({"2_dog/d.png": distinct_png(2), "../x.png": distinct_png(3)}),
        ),
    ]
    imported = cli(workspace, "import", "cats", *map(str, inputs))
    assert imported.returncode == 1, imported.stdout + imported.stderr  # some files were rejected
    assert "2 accepted, 0 duplicates skipped, 2 rejected" in imported.stdout
    listed = cli(workspace, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [dataset] = json.loads(listed.stdout)
    assert dataset["image_count"] == 2
    assert {(c["concept"], c["repeats"]) for c in dataset["concepts"]} == {("cat", 6), ("dog", 2)}
    stats = cli(workspace, "stats", "cats", "--resolution", "512", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["buckets"]["buckets"][0]["images"] == 2
    table = cli(workspace, "stats", "cats", "--resolution", "512x512")
    assert "Buckets for 512x512" in table.stdout
    refused = cli(workspace, "delete", "cats")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert cli(workspace, "delete", "cats", "--yes").returncode == 0
    assert json.loads(cli(workspace, "list", "--json").stdout) == []


def test_errors_are_typed_and_exit_2(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    missing = cli(workspace, "import", "nope", str(tmp_path))
    assert missing.returncode == 2
    assert "No dataset named 'nope'" in missing.stderr
    hostile = cli(workspace, "create", "../escape")
    assert hostile.returncode == 2
    assert "not a usable name" in hostile.stderr
    assert not (tmp_path / "escape").exists()
    created = cli(workspace, "import", "fresh", str(write(tmp_path / "a.png", distinct_png(1))), "--create")
    assert created.returncode == 0, created.stderr

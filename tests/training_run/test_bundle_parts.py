"""Pure parts of the run folder and its outputs: commit reading, versions, file and sample names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from lora_studio.config.launch import TrainerPaths
from lora_studio.core.errors import InvalidInput
from lora_studio.core.types import JobKind
from lora_studio.jobs.model import JobRecord, JobSpec
from lora_studio.services.training.bundle import new_run_name, sd_scripts_commit, versions, versions_argv
from lora_studio.services.training.outputs import lora_files, read_prompts, sample_grid, saved_states
from lora_studio.services.training.runs import AREA, run_folders

SHA = "48d368fa557731ad0488c07304dfeba8c07910eb"


def test_commit_from_a_branch_ref_packed_refs_or_a_gitdir_file(tmp_path: Path) -> None:
    git = tmp_path / "co" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    assert sd_scripts_commit(tmp_path / "co") is None
    (git / "packed-refs").write_text(f"# pack-refs\n{SHA} refs/heads/main\n")
    assert sd_scripts_commit(tmp_path / "co") == SHA
    (git / "refs" / "heads" / "main").write_text("f" * 40 + "\n")
    assert sd_scripts_commit(tmp_path / "co") == "f" * 40
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: ../co/.git\n")
    assert sd_scripts_commit(tmp_path / "wt") == "f" * 40
    assert sd_scripts_commit(tmp_path / "missing") is None


def test_versions_never_raise(tmp_path: Path) -> None:
    paths = TrainerPaths(tmp_path, tmp_path / "python")

    def broken(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, 60)

    result = versions(paths, run=broken)
    assert result["sd_scripts"]["commit"] is None and "could not list" in result["packages_error"]
    assert versions_argv(Path("/v/bin/python"))[:2] == ["/v/bin/python", "-c"]
    assert new_run_name("my lora", 0).startswith("my lora-19")


def test_lora_files_samples_and_states(tmp_path: Path) -> None:
    out = tmp_path / "output"
    (out / "sample").mkdir(parents=True)
    for name in ("x.safetensors", "x-000002.safetensors", "x-000001.safetensors", "x-step00000500.safetensors",
                 "x_other.safetensors", "xy-000001.safetensors", "x.json"):  # fmt: skip
        (out / name).write_bytes(b"12345678")
    assert [f.label for f in lora_files(out, "x")] == ["step 500", "epoch 1", "epoch 2", "final"]
    for name in ("x_e000001_00_20260101120000.png", "x_e000001_01_20260101120001_42.png",
                 "x_e000002_00_20260101120500.png", "000100_00_20260101120000.png", "junk.png"):  # fmt: skip
        Image.new("RGB", (4, 4)).save(out / "sample" / name)
    prompts = tmp_path / "p.txt"
    prompts.write_text("# comment\nohwx, a cat --n blurry --w 512\n\nohwx, a dog\n")
    grid = sample_grid(out / "sample", read_prompts(prompts))
    assert grid.prompts == ["ohwx, a cat", "ohwx, a dog"]
    assert [(row.label, sorted(row.images)) for row in grid.rows] == [
        ("epoch 1", [0, 1]), ("epoch 2", [0]), ("step 100", [0]),
    ]  # fmt: skip
    assert saved_states(out) == []
    (out / "x-000001-state").mkdir()
    (out / "x-000001-state" / "train_state.json").write_text("{}")
    assert saved_states(out) == [out / "x-000001-state"]


def test_run_folders_for_new_and_old_records_stay_inside_the_workspace(tmp_path: Path) -> None:
    runs_dir, outputs_dir = tmp_path / "runs", tmp_path / "outputs"

    def record(**meta: str) -> JobRecord:
        spec = JobSpec(kind=JobKind.TRAIN, title="t", argv=("x",), meta={"area": AREA, **meta})
        return JobRecord(id="20260101-000000-train-abcdef", spec=spec, created_at=0.0, stop_grace_s=1.0)

    new = run_folders(record(output_dir=str(outputs_dir / "a-1")), runs_dir=runs_dir, outputs_dir=outputs_dir)
    assert (new.bundle, new.output) == (runs_dir / "20260101-000000-train-abcdef", outputs_dir / "a-1")
    # Records written before bundles moved to runs/<id>/ kept everything in outputs/<run>/.
    old = run_folders(record(run_dir=str(outputs_dir / "a-0")), runs_dir=runs_dir, outputs_dir=outputs_dir)
    assert (old.bundle, old.output) == (outputs_dir / "a-0", outputs_dir / "a-0" / "output")
    for meta in ({"output_dir": "/etc"}, {"run_dir": str(tmp_path / "elsewhere")}, {}):
        with pytest.raises(InvalidInput):
            run_folders(record(**meta), runs_dir=runs_dir, outputs_dir=outputs_dir)

"""What the Models tab shows: catalog/local/LoRA rows, form parsing, how a download ended, LoRA exports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from lora_studio.config.catalog import ModelKind
from lora_studio.core.errors import InvalidInput, ModelNotFound, PathEscape
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus, ModelFamily
from lora_studio.services.models import ModelService, download_outcome, hub_request, url_request
from lora_studio.services.models.exports import export_file, prune_exports
from lora_studio.services.models.rows import format_size
from tests.models import model_files as mf


def test_catalog_rows_mark_gated_entries_with_their_licence_page(settings: Settings) -> None:
    rows = {row.id: row for row in ModelService(settings).catalog_rows()}
    gated = rows["flux1-dev"]
    assert gated.gated == "[yes: accept the licence](https://huggingface.co/black-forest-labs/FLUX.1-dev)"
    assert gated.family == "flux" and gated.kind == "checkpoint" and gated.size == "23.80 GB"
    assert "](https://huggingface.co/black-forest-labs/FLUX.1-dev)" in gated.licence
    open_row = rows["sdxl-vae-fp16-fix"]
    assert (open_row.gated, open_row.licence, open_row.size) == ("no", "mit", "335.0 MB")


def test_local_rows_show_family_kind_size_and_usage(settings: Settings, tmp_path: Path) -> None:
    base = mf.write(settings.models_dir / "sd15" / "v1-5-pruned-emaonly.safetensors", mf.SD15)
    mf.write(settings.models_dir / "other" / "broken.safetensors", {}).write_bytes(b"\x01\x00")
    mf.write(settings.outputs_dir / "mychar.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    run = settings.runs_dir / "job-1"
    run.mkdir(parents=True)
    (run / "job.json").write_text(json.dumps({"argv": ["--pretrained_model_name_or_path", str(base)]}))
    fetched = settings.runs_dir / "job-0-download"  # the job that downloaded it does not "use" it
    fetched.mkdir()
    (fetched / "job.json").write_text(
        json.dumps({"spec": {"kind": "download", "argv": ["--dest", str(base)]}})
    )
    extra = mf.write(tmp_path / "comfy" / "ae.safetensors", mf.VAE_16CH).parent

    listed = ModelService(settings, extra_dirs=[extra]).local_rows()
    rows = {row.file: (row, path) for row, path in listed}

    row, path = rows["sd15/v1-5-pruned-emaonly.safetensors"]
    assert path == base.absolute()
    assert (row.family, row.kind) == ("sd15", "checkpoint")
    assert row.used_by == "run job-1, LoRA mychar.safetensors"
    assert row.size.endswith(("kB", "MB"))
    assert "too short" in rows["other/broken.safetensors"][0].note
    assert str(extra / "ae.safetensors") in rows  # extra folders show the full path
    assert rows[str(extra / "ae.safetensors")][0].kind == "vae"


def test_lora_rows_carry_the_training_metadata(settings: Settings) -> None:
    mf.write(settings.outputs_dir / "run1" / "mychar.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    mf.write(settings.outputs_dir / "bare.safetensors", mf.LORA_SDXL)
    rows = {row.file: row for row in ModelService(settings).lora_rows()}
    row = rows["run1/mychar.safetensors"]
    assert row.base_model == "v1-5-pruned-emaonly.safetensors"
    assert (row.family, row.dim_alpha, row.steps, row.resolution) == (
        "sd15",
        "8 / 4",
        "120 (epoch 3/3)",
        "(512, 512)",
    )
    assert row.tags == "1girl (13), mychar (12), smile (4), outdoors (2)"
    assert rows["bare.safetensors"].dim_alpha == "" and rows["bare.safetensors"].family == "sdxl"


def test_forms_turn_blanks_into_defaults_and_bad_fields_into_readable_errors() -> None:
    request = hub_request(" org/repo ", "sub/model.safetensors", kind="vae", family="")
    assert (request.repo_id, request.filename, request.kind, request.family) == (
        "org/repo",
        "sub/model.safetensors",
        ModelKind.VAE,
        None,
    )
    assert hub_request("org/repo", "m.safetensors", family="flux").family is ModelFamily.FLUX
    with pytest.raises(InvalidInput, match="repo_id is not valid") as bad:
        hub_request("not a repo", "m.safetensors")
    assert "owner/name" in str(bad.value)
    with pytest.raises(InvalidInput, match="filename is missing"):
        hub_request("org/repo", "  ")
    link = url_request(" https://civitai.com/api/download/models/1 ", filename="", kind="lora")
    assert (link.url, link.filename, link.kind) == (
        "https://civitai.com/api/download/models/1",
        None,
        ModelKind.LORA,
    )
    with pytest.raises(InvalidInput, match="url is missing"):
        url_request("")
    with pytest.raises(InvalidInput, match="kind is not valid"):
        url_request("https://example.com/x.safetensors", kind="weights")


@pytest.mark.parametrize(
    ("status", "reason", "lines", "expected"),
    [
        (JobStatus.RUNNING, None, [], ""),
        (JobStatus.SUCCEEDED, None, ["checksum: sha256 matches", "saved: /ws/models/vae/x.safetensors"],
         "**Downloaded** to `/ws/models/vae/x.safetensors`."),
        (JobStatus.FAILED, "exit code 3", ["download:  0%|", "ERROR: org/repo is gated: open https://hf.co/org/repo."],
         "**Download failed:** org/repo is gated: open https://hf.co/org/repo."),
        (JobStatus.FAILED, "killed by SIGKILL", ["something"], "**Download failed:** killed by SIGKILL"),
        (JobStatus.STOPPED, "stopped on request", [], "**Download stopped.** Start it again to resume where it stopped."),
    ],
)  # fmt: skip
def test_download_outcome_prefers_the_workers_explanation(
    status: JobStatus, reason: str | None, lines: list[str], expected: str
) -> None:
    assert download_outcome(status, reason, lines) == expected


def test_lora_download_is_a_checked_export_outside_the_workspace(settings: Settings) -> None:
    lora = mf.write(settings.outputs_dir / "run1" / "mychar.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    mf.write(settings.models_dir / "sd15" / "base.safetensors", mf.SD15)
    service = ModelService(settings)
    exported = service.lora_download("run1/mychar.safetensors")
    assert exported.name == "mychar.safetensors" and exported.read_bytes() == lora.read_bytes()
    assert not exported.is_relative_to(settings.workspace)
    for hostile in ("../models/sd15/base.safetensors", "/etc/passwd"):
        with pytest.raises(PathEscape):
            service.lora_download(hostile)
    with pytest.raises(ModelNotFound):
        service.lora_download("run1/missing.safetensors")


def test_old_exports_are_pruned(tmp_path: Path) -> None:
    source = tmp_path / "a.safetensors"
    source.write_bytes(b"x" * 10)
    root = tmp_path / "exports"
    first = export_file(source, root=root)
    old = time.time() - 7200
    os.utime(first.parent, (old, old))
    second = export_file(source, root=root)
    assert not first.exists() and second.read_bytes() == b"x" * 10
    assert prune_exports(root, now=time.time() + 7200) == 1


@pytest.mark.parametrize(
    ("size", "text"),
    [(None, ""), (512, "512 B"), (12_345, "12.3 kB"), (335_000_000, "335.0 MB"), (6.94e9, "6.94 GB")],
)
def test_format_size(size: int | None, text: str) -> None:
    assert format_size(None if size is None else int(size)) == text

"""``python -m lora_studio models list|download|inspect`` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fakes.hub_server import HubServer
from tests.models import model_files as mf
from tests.models.conftest import ROOT, worker_env


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "lora_studio", "--workspace", str(tmp_path / "ws"), "models", *args]
    return subprocess.run(
        argv, cwd=ROOT, env=env or worker_env(tmp_path), capture_output=True, text=True, timeout=60
    )


def test_list_catalog_and_local_models_and_inspect(tmp_path: Path) -> None:
    catalog = cli(tmp_path, "list", "--catalog", "--family", "flux")
    assert catalog.returncode == 0, catalog.stderr
    assert "flux1-dev" in catalog.stdout and "[gated]" in catalog.stdout
    mf.write(tmp_path / "ws" / "models" / "sdxl" / "base.safetensors", mf.SDXL)
    mf.write(tmp_path / "ws" / "outputs" / "run" / "l.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    listed = cli(tmp_path, "list", "--json")
    assert [(m["relative"], m["family"], m["kind"]) for m in json.loads(listed.stdout)] == [
        ("sdxl/base.safetensors", "sdxl", "checkpoint")
    ]
    loras = cli(tmp_path, "list", "--loras", "--json")
    assert json.loads(loras.stdout)[0]["lora"]["dim"] == 8
    shown = cli(tmp_path, "inspect", "run/l.safetensors", "--metadata")
    assert shown.returncode == 0, shown.stderr
    assert (
        "lora sd15" in shown.stdout and "1girl (13)" in shown.stdout and "ss_network_dim = 8" in shown.stdout
    )
    escaped = cli(tmp_path, "inspect", "/etc/passwd")
    assert escaped.returncode == 2 and "outside" in escaped.stderr


def test_download_from_the_hub_in_the_foreground(tmp_path: Path) -> None:
    with HubServer(files={"org/repo": {"m.safetensors": b"weights"}}) as hub:
        result = cli(
            tmp_path,
            "download",
            "--repo-id",
            "org/repo",
            "--filename",
            "m.safetensors",
            env=worker_env(tmp_path, endpoint=hub.url),
        )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ws" / "models" / "other" / "org--repo" / "m.safetensors").read_bytes() == b"weights"
    missing = cli(tmp_path, "download", "nope")
    assert missing.returncode == 2 and "No model named 'nope'" in missing.stderr

"""Hub downloads through the real worker subprocess, against the local stand-in for the Hub."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings
from lora_studio.services.models import CatalogDownload, HubDownload, ModelService
from tests.fakes.hub_server import HubServer
from tests.models.conftest import ROOT, closed_port_url, run_spec, worker_env

MODEL = os.urandom(3_000_000)
GATED_FILE = b"gated weights"


@pytest.fixture
def hub() -> Iterator[HubServer]:
    files = {
        "org/repo": {"model.safetensors": MODEL, "sub/tags.csv": b"tag,count\n"},
        "black-forest-labs/FLUX.1-dev": {"ae.safetensors": GATED_FILE},
    }
    with HubServer(files=files, gated={"black-forest-labs/FLUX.1-dev"}, tokens={"hf_good"}) as server:
        yield server


def hub_spec(settings: Settings, filename: str = "model.safetensors", repo_id: str = "org/repo", **kw):
    return ModelService(settings).download_spec(HubDownload(repo_id=repo_id, filename=filename), **kw)


def test_hf_hub_download_accepts_the_fake_hub(hub: HubServer, tmp_path: Path) -> None:
    code = (
        "import sys; from huggingface_hub import hf_hub_download; "
        "print(hf_hub_download('org/repo', 'sub/tags.csv', cache_dir=sys.argv[1]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")],
        env=worker_env(tmp_path, endpoint=hub.url), capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).read_bytes() == b"tag,count\n"


def test_success_with_progress_and_checksum(hub: HubServer, settings: Settings, tmp_path: Path) -> None:
    spec = hub_spec(settings, keep_free_bytes=0)
    result = run_spec(spec, worker_env(tmp_path, endpoint=hub.url))
    assert result.returncode == 0, result.stdout + result.stderr
    target = Path(spec.meta["target"])
    assert target.read_bytes() == MODEL
    assert "checksum: sha256 matches" in result.stdout
    assert "download: 100%" in result.stderr  # the tqdm bar the job engine parses
    again = run_spec(spec, worker_env(tmp_path, endpoint=hub.url))
    assert again.returncode == 0 and "already downloaded" in again.stdout


def test_resumes_after_a_cut_connection(hub: HubServer, settings: Settings, tmp_path: Path) -> None:
    # huggingface_hub writes in 10 MiB chunks, so a resume needs a file bigger than one chunk.
    big = bytes(range(256)) * (24 * 4096)
    hub.files["org/repo"]["big.safetensors"] = big
    hub.cut_connection("org/repo", "big.safetensors", after_bytes=15 * 2**20)
    spec = hub_spec(settings, "big.safetensors", keep_free_bytes=0)
    result = run_spec(spec, worker_env(tmp_path, endpoint=hub.url))
    assert result.returncode == 0, result.stdout + result.stderr
    assert Path(spec.meta["target"]).read_bytes() == big
    ranges = [
        seen.headers.get("range") for seen in hub.requests if seen.method == "GET" and "resolve" in seen.path
    ]
    assert ranges == [None, f"bytes={10 * 2**20}-"]


def test_gated_without_token_explains_what_to_do(hub: HubServer, settings: Settings, tmp_path: Path) -> None:
    spec = ModelService(settings).download_spec(CatalogDownload(entry_id="flux1-dev-ae"), keep_free_bytes=0)
    result = run_spec(spec, worker_env(tmp_path, endpoint=hub.url))
    assert result.returncode == 3
    assert "black-forest-labs/FLUX.1-dev is gated" in result.stderr
    assert (
        "https://huggingface.co/black-forest-labs/FLUX.1-dev" in result.stderr and "HF_TOKEN" in result.stderr
    )
    assert not Path(spec.meta["target"]).exists()
    wrong = run_spec(spec, worker_env(tmp_path, endpoint=hub.url, HF_TOKEN="hf_wrong"))
    assert wrong.returncode == 3
    allowed = run_spec(spec, worker_env(tmp_path, endpoint=hub.url, HF_TOKEN="hf_good"))
    assert allowed.returncode == 0, allowed.stderr
    assert Path(spec.meta["target"]).read_bytes() == GATED_FILE


@pytest.mark.parametrize(
    ("repo_id", "filename", "message"),
    [
        ("org/repo", "missing.safetensors", "has no file missing.safetensors"),
        ("org/none", "x.bin", "no repository"),
    ],
)
def test_not_found(
    hub: HubServer, settings: Settings, tmp_path: Path, repo_id: str, filename: str, message: str
) -> None:
    result = run_spec(hub_spec(settings, filename, repo_id), worker_env(tmp_path, endpoint=hub.url))
    assert result.returncode == 4
    assert message in result.stderr


@pytest.mark.parametrize("mode", ["no server", "HF_HUB_OFFLINE"])
def test_offline(settings: Settings, tmp_path: Path, mode: str) -> None:
    extra = {"HF_HUB_OFFLINE": "1"} if mode == "HF_HUB_OFFLINE" else {}
    result = run_spec(hub_spec(settings), worker_env(tmp_path, endpoint=closed_port_url(), **extra))
    assert result.returncode == 5, result.stderr
    assert "Cannot reach the Hugging Face Hub" in result.stderr


def test_disk_full_is_refused_before_downloading(hub: HubServer, settings: Settings, tmp_path: Path) -> None:
    spec = hub_spec(settings, keep_free_bytes=10**18)  # "keep 1 EB free": no disk can hold the file
    result = run_spec(spec, worker_env(tmp_path, endpoint=hub.url))
    assert result.returncode == 6
    assert "Not enough disk space" in result.stderr
    assert not any(seen.method == "GET" and "resolve" in seen.path for seen in hub.requests)


def test_checksum_mismatch_deletes_the_file(hub: HubServer, settings: Settings, tmp_path: Path) -> None:
    hub.serve_wrong_bytes("org/repo", "model.safetensors")
    spec = hub_spec(settings, keep_free_bytes=0)
    result = run_spec(spec, worker_env(tmp_path, endpoint=hub.url))
    assert result.returncode == 7
    assert "does not match the Hub's sha256" in result.stderr
    assert not Path(spec.meta["target"]).exists()


def test_a_token_entered_in_the_app_is_checked_and_kept_in_huggingface_hubs_store(
    hub: HubServer, tmp_path: Path
) -> None:
    code = (
        "import sys; from pathlib import Path; from lora_studio.core.settings import Settings; "
        "from lora_studio.core.errors import InvalidInput; from lora_studio.services.models import ModelService; "
        "s = ModelService(Settings(workspace=Path(sys.argv[1]))); print(s.hf_token_available()); "
        "print(s.save_hf_token('hf_good')); print(s.hf_token_available())\n"
        "try:\n    s.save_hf_token('hf_bad')\nexcept InvalidInput as e:\n    print('refused:', e)"
    )
    env = worker_env(tmp_path, endpoint=hub.url)
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ws")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-4:] == [
        "False",
        "tester",
        "True",
        "refused: The Hugging Face Hub rejected this token. Create a read token at huggingface.co/settings/tokens.",
    ]
    assert "hf_good" in (tmp_path / "hf-home" / "stored_tokens").read_text()
    assert not list((tmp_path / "ws").rglob("*token*"))

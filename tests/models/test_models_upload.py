"""Uploading a trained LoRA to a Hub repository: the CLI and the worker against the stand-in Hub."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio.core.errors import InvalidInput, UploadFailed
from lora_studio.core.settings import Settings
from lora_studio.services.models import HubUpload, ModelService
from lora_studio.services.models.upload import check_path_in_repo, model_card
from tests.fakes.hub_server import HubServer
from tests.models import model_files as mf
from tests.models.conftest import ROOT, closed_port_url, worker_env
from tests.models.test_models_cli import cli


@pytest.fixture
def hub() -> Iterator[HubServer]:
    files = {"someone/else": {"README.md": b"theirs"}, "tester/has-card": {"README.md": b"# mine\n"}}
    with HubServer(files=files, writers={"hf_write": "tester"}, tokens={"hf_read"}) as server:
        yield server


@pytest.fixture
def lora(tmp_path: Path) -> Path:
    path = tmp_path / "ws" / "outputs" / "run1" / "my-lora.safetensors"
    return mf.write(path, mf.LORA_SD15, mf.kohya_metadata())


def test_upload_puts_the_exact_bytes_and_a_model_card(hub: HubServer, lora: Path, tmp_path: Path) -> None:
    env = worker_env(tmp_path, endpoint=hub.url, HF_TOKEN="hf_write")
    result = cli(tmp_path, "upload", "run1/my-lora.safetensors", "tester/my-lora", "--private", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    stored = hub.files["tester/my-lora"]
    assert stored["my-lora.safetensors"] == lora.read_bytes()
    card = stored["README.md"].decode()
    assert card.startswith("---\ntags: ") and "| dim / alpha | 8 / " in card and "1girl" in card
    assert hub.private == {"tester/my-lora": True}
    assert [(repo, paths) for repo, _summary, paths in hub.commits] == [
        ("tester/my-lora", ["README.md", "my-lora.safetensors"])
    ]
    # The weights went through the LFS protocol (batch + PUT), not inline in the commit.
    assert any(seen.method == "PUT" and seen.path.startswith("/lfs-upload/") for seen in hub.requests)
    assert f"uploaded: {hub.url}/tester/my-lora/blob/main/my-lora.safetensors" in result.stdout
    assert not list((tmp_path / "ws").rglob("*.md"))  # the temporary card file is gone
    assert "hf_write" not in result.stdout + result.stderr


def test_an_existing_readme_is_left_alone_and_a_folder_path_works(
    hub: HubServer, lora: Path, tmp_path: Path
) -> None:
    env = worker_env(tmp_path, endpoint=hub.url, HF_TOKEN="hf_write")
    args = ("upload", str(lora), "tester/has-card", "--path-in-repo", "v2/my-lora.safetensors")
    result = cli(tmp_path, *args, env=env)
    assert result.returncode == 0, result.stderr
    assert hub.files["tester/has-card"]["README.md"] == b"# mine\n"
    assert hub.files["tester/has-card"]["v2/my-lora.safetensors"] == lora.read_bytes()
    assert "left as it is" in result.stdout


@pytest.mark.parametrize(
    ("token", "repo", "status", "hint"),
    [
        ("hf_bad", "tester/my-lora", "HTTP 401", "huggingface.co/settings/tokens"),
        ("hf_read", "tester/my-lora", "HTTP 403", "Read role"),
        ("hf_write", "someone/else", "HTTP 403", "your own account name"),
    ],
)
def test_refused_uploads_say_why(
    hub: HubServer, lora: Path, tmp_path: Path, token: str, repo: str, status: str, hint: str
) -> None:
    env = worker_env(tmp_path, endpoint=hub.url, HF_TOKEN=token)
    result = cli(tmp_path, "upload", "run1/my-lora.safetensors", repo, env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert status in result.stderr and hint in result.stderr
    assert "my-lora.safetensors" not in hub.files.get(repo, {}) and not hub.commits


def test_no_token_is_refused_before_any_request(hub: HubServer, lora: Path, tmp_path: Path) -> None:
    result = cli(
        tmp_path, "upload", "run1/my-lora.safetensors", "tester/x", env=worker_env(tmp_path, endpoint=hub.url)
    )
    assert result.returncode == 2
    assert "No Hugging Face token" in result.stderr and "HF_TOKEN" in result.stderr
    assert not [seen for seen in hub.requests if seen.method != "GET"]


def test_the_worker_checks_the_token_itself_and_reports_offline(lora: Path, tmp_path: Path) -> None:
    def worker(**env: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "lora_studio.workers.upload", "--file", str(lora)]
        argv += ["--repo-id", "tester/x", "--path-in-repo", "x.safetensors"]
        full = worker_env(tmp_path, endpoint=closed_port_url(), **env)
        return subprocess.run(argv, env=full, cwd=ROOT, capture_output=True, text=True, timeout=60)

    missing = worker()
    assert missing.returncode == 3 and "No Hugging Face token" in missing.stderr
    offline = worker(HF_TOKEN="hf_write")
    assert offline.returncode == 5 and "Cannot reach the Hugging Face Hub" in offline.stderr


def test_upload_spec_keeps_the_token_out_and_refuses_non_loras(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = ModelService(settings)
    mf.write(settings.outputs_dir / "r" / "l.safetensors", mf.LORA_SD15, mf.kohya_metadata())
    mf.write(settings.outputs_dir / "r" / "base.safetensors", mf.SDXL)
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    spec = service.upload_spec(HubUpload(lora="r/l.safetensors", repo_id="me/lora", private=True))
    assert "hf_secret" not in spec.model_dump_json()
    assert spec.meta["path_in_repo"] == "l.safetensors" and "--private" in spec.argv
    with pytest.raises(UploadFailed, match="not a LoRA"):
        service.upload_spec(HubUpload(lora="r/base.safetensors", repo_id="me/lora"))
    with pytest.raises(InvalidInput):
        service.upload_spec(HubUpload(lora="../../etc/passwd", repo_id="me/lora"))
    for bad in ("../x.safetensors", "/abs.safetensors", ".hidden", ""):
        with pytest.raises(InvalidInput):
            check_path_in_repo(bad)
    assert check_path_in_repo("loras//v1.safetensors") == "loras/v1.safetensors"
    card = model_card(service.inspect(settings.outputs_dir / "r" / "l.safetensors"), "l.safetensors")
    assert "| steps |" in card and "library_name: kohya-ss" in card

"""A Hub download whose process dies (or is stopped) resumes from its kept partial file in the next run."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings
from lora_studio.services.models import HubDownload, ModelService
from tests.fakes.hub_server import HubServer
from tests.models.conftest import ROOT, run_spec, worker_env

CHUNK = 10 * 2**20  # huggingface_hub's http_get writes in chunks of this size
BIG = hashlib.sha256(b"seed").digest() * (24 * 2**20 // 32)


def wait_for_partial(dest: Path, at_least: int, proc: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for part in dest.glob(".*.part"):
            if part.stat().st_size >= at_least:
                return part
        time.sleep(0.05)
    raise AssertionError("the partial file never grew")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "stopped"])
def test_a_dead_download_resumes_with_a_range(
    settings: Settings, tmp_path: Path, how: signal.Signals
) -> None:
    with HubServer(files={"org/repo": {"big.safetensors": BIG}}) as hub:
        hub.stall("org/repo", "big.safetensors", after_bytes=CHUNK + 2**20)
        spec = ModelService(settings).download_spec(
            HubDownload(repo_id="org/repo", filename="big.safetensors"), keep_free_bytes=0
        )
        env = worker_env(tmp_path, endpoint=hub.url)
        target = Path(spec.meta["target"])
        proc = subprocess.Popen(
            list(spec.argv), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        part = wait_for_partial(target.parent, CHUNK, proc)
        proc.send_signal(how)
        _out, err = proc.communicate(timeout=30)
        hub.release()
        assert proc.returncode != 0 and not target.exists()
        assert part.stat().st_size == CHUNK  # what huggingface_hub wrote before the stall is kept
        if how is signal.SIGINT:
            assert "The partial download is kept" in err

        again = run_spec(spec, env)
        later = run_spec(spec, env)

    assert again.returncode == 0, again.stdout + again.stderr
    assert f"resuming a partial download at {CHUNK / 1e9:.3f} GB" in again.stdout
    ranges = [seen.headers.get("range") for seen in hub.requests if seen.method == "GET"]
    assert ranges == [None, f"bytes={CHUNK}-"]
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(BIG).hexdigest()
    assert "checksum: sha256 matches" in again.stdout
    assert not list(target.parent.glob(".*.part*"))  # no partial or lock file left behind
    assert later.returncode == 0 and "already downloaded" in later.stdout

"""The stand-in trainer prints sd-scripts' formats, writes a real .safetensors, fails on request."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "fake_trainer.py"
# The tested progress regex of shared/reference/sd-scripts.md §6.3.
BAR = re.compile(
    r"(?<![A-Za-z] )steps:\s+(\d+)%\|[^|]*\|\s*(\d+)/(\d+) \[([\d:]+)<([\d:?]+),\s*([\d.?]+)(it/s|s/it)(?:, ([^\]]*))?\]"
)
RICH = re.compile(
    r"^(?:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) | {20})(DEBUG|INFO|WARNING|ERROR|CRITICAL) +(.*?) +(\S+\.py:\d+) *$"
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    images = tmp_path / "data" / "2_x"
    images.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(images / "a.png")
    (tmp_path / "config.toml").write_text(
        f'[saving]\noutput_dir = "{tmp_path / "out"}"\noutput_name = "t"\n[training]\nmax_train_steps = 3\n'
        "[network]\nnetwork_dim = 4\n",
        encoding="utf-8",
    )
    (tmp_path / "dataset.toml").write_text(
        f'[[datasets]]\n[[datasets.subsets]]\nimage_dir = "{images}"\nnum_repeats = 2\n', encoding="utf-8"
    )
    return tmp_path


def start(run_dir: Path, **env: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(FAKE), "--config_file", "config.toml", "--dataset_config", "dataset.toml"]
    return subprocess.Popen(
        argv, cwd=run_dir, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(run_dir: Path, **env: str) -> tuple[int, str, bytes]:
    process = start(run_dir, **env)
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout.decode(), stderr


def read_safetensors(path: Path) -> tuple[dict, dict]:
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    meta = header.pop("__metadata__")
    assert max(t["data_offsets"][1] for t in header.values()) == len(raw) - 8 - size
    return header, meta


def test_a_normal_run_prints_the_real_formats_and_writes_a_lora(run_dir: Path) -> None:
    status, stdout, stderr = finish(run_dir)
    assert status == 0
    assert "epoch 1/2" in stdout and f"saving checkpoint: {run_dir / 'out' / 't.safetensors'}" in stdout
    segments = re.split(r"[\r\n]", stderr.decode())
    bars = [match for segment in segments for match in BAR.finditer(segment)]
    assert bars[0].group(2, 3) == ("0", "3") and bars[-1].group(2, 3) == ("3", "3")
    assert b"\rsteps:" in stderr and bars[-1].group(8).startswith("avr_loss=")
    assert any(RICH.match(line) and "Loading settings" in line for line in segments)
    tensors, meta = read_safetensors(run_dir / "out" / "t.safetensors")
    assert all(key.startswith("lora_unet_") for key in tensors) and meta["ss_steps"] == "3"


def test_no_data_exits_zero_without_a_file(run_dir: Path) -> None:
    status, stdout, stderr = finish(run_dir, FAKE_TRAINER_FAIL="no_data")
    assert status == 0 and stdout == ""
    assert b"No data found. Please verify arguments" in stderr
    assert not (run_dir / "out").exists()


@pytest.mark.parametrize(
    ("fail", "last_line"),
    [
        ("oom", "torch.OutOfMemoryError: CUDA out of memory."),
        ("bad_module", "ModuleNotFoundError: No module named 'networks.no_such_module'"),
        ("dataset_schema", "voluptuous.error.MultipleInvalid: extra keys not allowed"),
        ("missing_checkpoint", "is neither a valid local path nor a valid repo id"),
        ("fp16_cpu", "RuntimeError: expected m1 and m2 to have the same dtype"),
        ("image_too_large", "AssertionError: image too large"),
    ],
)
def test_failures_end_like_the_real_logs(run_dir: Path, fail: str, last_line: str) -> None:
    status, _stdout, stderr = finish(run_dir, FAKE_TRAINER_FAIL=fail)
    text = stderr.decode()
    assert status == 1
    assert last_line in text and text.count("Traceback (most recent call last):") == 2
    assert "returned non-zero exit status 1." in text


def test_nan_loss_shows_in_the_postfix(run_dir: Path) -> None:
    status, _stdout, stderr = finish(run_dir, FAKE_TRAINER_FAIL="nan", FAKE_TRAINER_FAIL_AT_STEP="2")
    assert status == 0 and b"avr_loss=nan" in stderr


def test_sigint_prints_a_line_and_exits_130(run_dir: Path) -> None:
    process = start(run_dir, FAKE_TRAINER_STEP_SECONDS="0.5")
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + 20
    while b"steps:" not in seen and time.monotonic() < deadline:
        seen += os.read(process.stderr.fileno(), 4096)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=20)
    assert process.returncode == 130 and b"interrupted by SIGINT" in stdout

"""``python -m lora_studio`` as a real subprocess, over the same jobs as the app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lora_studio.core.settings import Settings
from lora_studio.core.types import JobStatus
from lora_studio.services import build_services
from tests.fakes.children import PRINTER, STUBBORN, spec

ROOT = Path(__file__).resolve().parents[2]


def cli(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lora_studio", "--workspace", str(workspace), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = cli(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("serve", "jobs"):
        assert command in result.stdout
    for sub in ("list", "show", "logs", "stop"):
        assert cli(tmp_path, "jobs", sub, "--help").returncode == 0
    serve_help = cli(tmp_path, "serve", "--help").stdout
    assert "--share" in serve_help and "LORA_STUDIO_AUTH" in serve_help


def test_jobs_started_by_the_service_show_in_the_cli(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    services = build_services(Settings(workspace=workspace))
    record = services.jobs.submit(spec(PRINTER, "3", "0", title="cli visible"))
    services.jobs.engine.wait(record.id, timeout=60)
    listing = cli(workspace, "jobs", "list")
    assert listing.returncode == 0
    assert record.id in listing.stdout and "succeeded" in listing.stdout and "cli visible" in listing.stdout
    shown = json.loads(cli(workspace, "jobs", "show", record.id).stdout)
    assert shown["status"] == "succeeded" and shown["exit_code"] == 0
    logs = cli(workspace, "jobs", "logs", record.id)
    assert "LINE 2" in logs.stdout


def test_stop_from_the_cli(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    services = build_services(Settings(workspace=workspace, stop_grace_s=0.5))
    record = services.jobs.submit(spec(STUBBORN, str(tmp_path / "pids")))
    services.jobs.engine.wait(record.id, timeout=3)  # let it start
    result = cli(workspace, "jobs", "stop", record.id, "--wait")
    assert result.returncode == 0, result.stderr
    assert f"{record.id}: stopped" in result.stdout
    assert services.jobs.get(record.id).status == JobStatus.STOPPED


def test_unknown_job_is_a_clear_error(tmp_path: Path) -> None:
    result = cli(tmp_path, "jobs", "show", "20260101-000000-train-abcdef")
    assert result.returncode == 2
    assert "No job named '20260101-000000-train-abcdef'" in result.stderr

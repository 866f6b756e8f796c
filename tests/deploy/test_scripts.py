"""Deployment scripts: they parse, and what they pass to the app and the trainer installer is accepted.

``scripts/onstart.sh`` runs for real in a stand-in checkout whose venv set-up, Python and ``run.sh``
only record their arguments; the recorded ``run.sh`` argv then goes through the app's own parser.
The Docker image itself is not built here (no Docker daemon and no registry in the test machine).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lora_studio.core.settings import DEFAULT_PORT, SETTINGS_HELP, add_arguments, load_settings
from lora_studio.services.access import resolve_access

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [
    "run.sh",
    "test.sh",
    ".ci/run",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scripts").glob("*.sh")),
]
RECORDER = '#!/usr/bin/env bash\nprintf "%s\\n" "$(basename "$0")" "$@" >> "$RECORD"; printf -- "--\\n" >> "$RECORD"\n'


def help_flags(*argv: str) -> set[str]:
    """The long flags a command's ``--help`` lists."""
    result = subprocess.run(
        [sys.executable, *argv, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", result.stdout))


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_parse(script: str) -> None:
    assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"
    result = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def run_onstart(tmp_path: Path, env: dict[str, str]) -> list[list[str]]:
    """Run onstart.sh in a stand-in checkout; returns each recorded call as [program, *args]."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "onstart.sh", checkout / "scripts" / "onstart.sh")
    (checkout / "app.py").write_text("")
    for stub in ("scripts/setup_venv.sh", ".venv/bin/python", "run.sh"):
        (checkout / stub).write_text(RECORDER)
        (checkout / stub).chmod(0o755)
    record = tmp_path / "calls"
    child_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RECORD": str(record), **env}
    result = subprocess.run(
        ["bash", str(checkout / "scripts" / "onstart.sh")],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = record.read_text().split("--\n")
    return [call.splitlines() for call in calls if call.strip()]


def test_onstart_passes_flags_the_app_and_the_installer_accept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"LORA_STUDIO_HOME": str(data), "PORT": "9911", "LORA_STUDIO_SHARE": "1"}
    calls = run_onstart(tmp_path, env)
    programs = [call[0] for call in calls]
    assert programs == ["setup_venv.sh", "python", "run.sh"], calls
    assert calls[0][1:] == ["app"]
    installer = calls[1][1:]
    assert installer[:2] == ["-m", "trainer.install"]
    assert set(installer[2:]) <= help_flags("-m", "trainer.install")
    app_argv = calls[2][1:]
    assert {arg for arg in app_argv if arg.startswith("--")} <= help_flags("app.py")

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = load_settings(parser.parse_args(app_argv), env)
    assert (settings.host, settings.port, settings.share) == ("0.0.0.0", 9911, True)
    assert settings.workspace == data and data.is_dir()
    assert resolve_access(settings).generated  # public: a login is printed in the instance log


def test_onstart_defaults_to_the_standard_port_without_a_share_link(tmp_path: Path) -> None:
    calls = run_onstart(tmp_path, {"LORA_STUDIO_HOME": str(tmp_path / "data")})
    assert calls[-1][1:] == ["--host", "0.0.0.0", "--port", str(DEFAULT_PORT)]


def test_dockerfile_matches_the_app() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM nvidia/cuda:\S+-runtime-", text, re.MULTILINE)  # a CUDA runtime base
    assert f"EXPOSE {DEFAULT_PORT}" in text
    assert 'CMD ["./run.sh"]' in text and os.access(ROOT / "run.sh", os.X_OK)
    for script in re.findall(r"(scripts/[\w.]+\.sh)", text):
        assert (ROOT / script).is_file(), script
    known = {env for _, envs, _ in SETTINGS_HELP for env in envs}
    known |= {"DEBIAN_FRONTEND", "PYTHONUNBUFFERED", "GRADIO_TEMP_DIR"}
    env_block = re.search(r"^ENV ((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert env_block
    names = set(re.findall(r"(\w+)=", env_block.group(1)))
    assert names and names <= known, names - known
    assert "-m trainer.install" in text
    assert help_flags("-m", "trainer.install")  # the installer the image runs exists and parses


def test_make_space_builds_a_space_folder(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("make_space.sh archives the git checkout; this copy has no .git")
    out = tmp_path / "space"
    result = subprocess.run(
        [str(ROOT / "scripts" / "make_space.sh"), str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    readme = (out / "README.md").read_text()
    assert "sdk: gradio" in readme and "app_file: app.py" in readme and (out / "app.py").is_file()
    pinned = re.search(r"^gradio==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned and f"sdk_version: {pinned.group(1)}" in readme  # the Space runs the gradio we test

"""Build a stand-in sd-scripts installation: a checkout whose scripts run the fake, and a "trainer
Python" that finds a stand-in ``accelerate`` launcher, so the studio's real argv runs unchanged."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
SCRIPTS = ("train_network.py", "sdxl_train_network.py", "flux_train_network.py", "sd3_train_network.py")
_STUB = f"""import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.training_run.fake_sdscripts import main
sys.exit(main())
"""


@dataclass(frozen=True)
class FakeTrainer:
    checkout: Path
    python: Path


def build_fake_trainer(folder: Path) -> FakeTrainer:
    checkout = folder / "sd-scripts"
    checkout.mkdir(parents=True)
    for script in SCRIPTS:
        (checkout / script).write_text(_STUB, encoding="utf-8")
    (checkout / ".git").mkdir()
    (checkout / ".git" / "HEAD").write_text(FAKE_COMMIT + "\n")
    launcher = folder / "shim" / "accelerate" / "commands"
    launcher.mkdir(parents=True)
    (folder / "shim" / "accelerate" / "__init__.py").write_text("")
    (launcher / "__init__.py").write_text("")
    shutil.copyfile(HERE / "accelerate_launch_shim.py", launcher / "launch.py")
    python = folder / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(
        f'#!/bin/sh\nPYTHONPATH="{folder / "shim"}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" "$@"\n'
    )
    python.chmod(0o755)
    return FakeTrainer(checkout, python)

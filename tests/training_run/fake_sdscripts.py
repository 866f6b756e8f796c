"""The stand-in trainer plus what a run folder test needs: samples, saved state, resume.

Wraps ``tests/fakes/fake_trainer.py`` (the sd-scripts output formats) and adds, after a successful
run, sample PNGs per epoch and prompt (``sample_every_n_epochs``) and a ``<name>-state`` folder
(``save_state``), named as sd-scripts names them. ``resume = <dir>`` must point at a saved state.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from PIL import Image

from tests.fakes import fake_trainer


def _prompts(config: dict) -> list[str]:
    path = config.get("sample_prompts")
    if not path or not Path(path).is_file():
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _after_training(config: dict) -> None:
    output = Path(config["output_dir"])
    name = config.get("output_name") or "last"
    per_epoch = int(os.environ.get("FAKE_TRAINER_STEPS_PER_EPOCH", "2"))
    epochs = config.get("max_train_epochs") or math.ceil(int(config.get("max_train_steps", 4)) / per_epoch)
    every = config.get("sample_every_n_epochs")
    if every:
        stamp = time.strftime("%Y%m%d%H%M%S")
        for epoch in range(int(every), int(epochs) + 1, int(every)):
            for index, _prompt in enumerate(_prompts(config)):
                path = output / "sample" / f"{name}_e{epoch:06d}_{index:02d}_{stamp}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (8, 8), (epoch * 40 % 255, index * 80 % 255, 0)).save(path)
                fake_trainer.out(f"sample saved: {path}")
    if config.get("save_state"):
        state = output / f"{name}-state"
        state.mkdir(parents=True, exist_ok=True)
        (state / "train_state.json").write_text(json.dumps({"current_epoch": epochs, "current_step": 4}))
        fake_trainer.log("INFO", f"save train state to {state}/train_state.json", "train_network.py:947")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config_file", required=True)
    parser.add_argument("--dataset_config")
    args, _unknown = parser.parse_known_args(argv)
    config = fake_trainer.read_toml(args.config_file)
    resume = config.get("resume")
    if resume:
        if not (Path(resume) / "train_state.json").is_file():
            return fake_trainer.fail_with([f"FileNotFoundError: no saved state in {resume}"])
        fake_trainer.log("INFO", f"resume training from local state: {resume}", "train_network.py:960")
    status = fake_trainer.main(argv)
    if status == 0 and os.environ.get("FAKE_TRAINER_FAIL", "") == "":
        _after_training(config)
    return status


if __name__ == "__main__":
    sys.exit(main())

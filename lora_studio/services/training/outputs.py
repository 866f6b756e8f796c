"""What a run produced: saved LoRA files, sample images as an epoch x prompt grid, the loss series.

sd-scripts' names (shared/reference/sd-scripts.md §7-8): ``<name>.<ext>`` (final), ``<name>-000003.<ext>``
(epoch 3), ``<name>-step00000500.<ext>`` (step 500), ``<name>-...-state/`` (saved state), and samples
``sample/<name>_<e000001|000100>_<NN>_<YYYYmmddHHMMSS>[_<seed>].png``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lora_studio.jobs.progress import BAR, parse_bar

LORA_EXTENSIONS = (".safetensors", ".ckpt", ".pt")
_EPOCH_FILE = re.compile(r"-(\d{6})$")
_STEP_FILE = re.compile(r"-step(\d{8})$")
_SAMPLE = re.compile(
    r"^(?:.*_)?(?P<when>e\d{6}|\d{6})_(?P<prompt>\d{2})_(?P<stamp>\d{14})(?:_(?P<seed>\d+))?\.png$"
)
_BREAK = re.compile(r"[\r\n]+")


@dataclass(frozen=True)
class LoraFile:
    path: Path
    size_bytes: int
    epoch: int | None = None
    step: int | None = None

    @property
    def label(self) -> str:
        if self.epoch is not None:
            return f"epoch {self.epoch}"
        if self.step is not None:
            return f"step {self.step}"
        return "final"


@dataclass(frozen=True)
class SampleRow:
    """The samples of one moment of training: ``label`` is "epoch 2" or "step 500"."""

    label: str
    epoch: int | None
    step: int | None
    images: dict[int, Path] = field(default_factory=dict)  # prompt index -> newest image


@dataclass(frozen=True)
class SampleGrid:
    prompts: list[str]
    rows: list[SampleRow]

    @property
    def columns(self) -> list[int]:
        seen = {index for row in self.rows for index in row.images} | set(range(len(self.prompts)))
        return sorted(seen)


@dataclass(frozen=True)
class LossPoint:
    step: int
    loss: float


def lora_files(output_dir: Path, output_name: str) -> list[LoraFile]:
    """The run's saved LoRA files: epoch and step checkpoints in order, the final file last."""
    found = []
    for path in sorted(output_dir.glob("*")) if output_dir.is_dir() else []:
        if not path.is_file() or path.suffix.lower() not in LORA_EXTENSIONS:
            continue
        rest = path.stem.removeprefix(output_name) if path.stem.startswith(output_name) else None
        if rest is None:
            continue
        epoch, step = _EPOCH_FILE.fullmatch(rest), _STEP_FILE.fullmatch(rest)
        if rest and not (epoch or step):
            continue  # another output's file that shares our name's prefix
        found.append(
            LoraFile(
                path,
                path.stat().st_size,
                epoch=int(epoch.group(1)) if epoch else None,
                step=int(step.group(1)) if step else None,
            )
        )
    return sorted(found, key=lambda f: (f.epoch is None and f.step is None, f.epoch or 0, f.step or 0))


def saved_states(output_dir: Path) -> list[Path]:
    """Saved training states (``*-state`` folders holding ``train_state.json``), oldest first."""
    if not output_dir.is_dir():
        return []
    states = [path for path in output_dir.glob("*-state") if (path / "train_state.json").is_file()]
    return sorted(states, key=lambda path: (path / "train_state.json").stat().st_mtime)


def read_prompts(prompts_file: Path) -> list[str]:
    """The prompt texts of a ``.txt`` prompt file (comments and options left out)."""
    if not prompts_file.is_file():
        return []
    lines = prompts_file.read_text("utf-8", errors="replace").splitlines()
    return [line.split(" --")[0].strip() for line in lines if line.strip() and not line.startswith("#")]


def sample_grid(sample_dir: Path, prompts: list[str]) -> SampleGrid:
    """Samples grouped by epoch (or step) and prompt; rows in training order."""
    rows: dict[str, SampleRow] = {}
    for path in sorted(sample_dir.glob("*.png")) if sample_dir.is_dir() else []:
        match = _SAMPLE.match(path.name)
        if match is None:
            continue
        when = match["when"]
        epoch = int(when[1:]) if when.startswith("e") else None
        step = None if epoch is not None else int(when)
        label = f"epoch {epoch}" if epoch is not None else f"step {step}"
        row = rows.setdefault(label, SampleRow(label, epoch, step))
        row.images[int(match["prompt"])] = path  # sorted names: a later timestamp wins
    ordered = sorted(rows.values(), key=lambda row: (row.epoch is None, row.epoch or 0, row.step or 0))
    return SampleGrid(prompts, ordered)


def loss_series(log_path: Path, desc: str = "steps") -> list[LossPoint]:
    """``avr_loss`` per step from the training bar's frames in the log (the last frame of a step wins)."""
    try:
        text = log_path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    losses: dict[int, float] = {}
    for segment in _BREAK.split(text):
        if "avr_loss=" not in segment:
            continue
        for match in BAR.finditer(segment):
            progress = parse_bar(match.group(0))
            if progress is None or progress.desc != desc or progress.loss is None or progress.step is None:
                continue
            losses[int(progress.step)] = progress.loss
    return [LossPoint(step, loss) for step, loss in sorted(losses.items())]

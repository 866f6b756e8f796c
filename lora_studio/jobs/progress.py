"""Parse tqdm progress bars and epoch lines into one progress state.

Bars look like ``steps:  10%|█ | 100/1000 [01:00<09:00,  1.66it/s, avr_loss=0.123]`` (or
``12.5s/it``, or byte counts such as ``45.0M/100M [00:01<00:02, 30.1MB/s]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# Any tqdm frame: optional description, percent, bar, n/total, [elapsed<remaining, rate(, postfix)].
BAR = re.compile(
    r"(?:(?P<desc>[^\r\n|:]{0,80}?):\s*)?"
    r"(?P<pct>\d{1,3})%\|[^|\r\n]*\|\s*"
    r"(?P<n>[\d.]+[kMGTPE]?)/(?P<total>[\d.]+[kMGTPE]?)\s*"
    r"\[(?P<elapsed>[\d:]+)<(?P<remaining>[\d:?]+)"
    r"(?:,\s*(?P<rate>[\d.?]+)\s*(?P<unit>[A-Za-z/]+))?"
    r"(?:,\s*(?P<postfix>[^\]\r\n]*))?\]"
)
EPOCH = re.compile(r"^\s*epoch (\d+)/(\d+)\s*$")
_SCALE = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


@dataclass(frozen=True)
class Progress:
    """What a person wants to know about a running job."""

    step: float | None = None
    total: float | None = None
    fraction: float | None = None
    rate: float | None = None  # units per second
    unit: str = "it"
    eta_s: float | None = None
    elapsed_s: float | None = None
    loss: float | None = None
    epoch: int | None = None
    epochs: int | None = None
    desc: str | None = None


def _number(text: str) -> float:
    suffix = text[-1] if text and text[-1] in _SCALE else ""
    return float(text[: len(text) - len(suffix)] or 0) * _SCALE[suffix]


def _seconds(text: str) -> float | None:
    if "?" in text:
        return None
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def _unit_scale(unit: str) -> tuple[float, str]:
    """ "MB" → (1e6, "B"); "it" → (1, "it")."""
    if len(unit) > 1 and unit[0] in _SCALE and unit[1:].isalpha() and unit[0] != "":
        return _SCALE[unit[0]], unit[1:]
    return 1.0, unit


def _rate(number: str | None, unit: str | None) -> tuple[float | None, str]:
    """Rate in units per second, and the unit ("12.5s/it" → (0.08, "it"); "30MB/s" → (3e7, "B"))."""
    unit = unit or "it/s"
    per_unit = unit.startswith("s/")
    base = unit[2:] if per_unit else unit.removesuffix("/s")
    scale, name = _unit_scale(base)
    if not number or "?" in number:
        return None, name
    value = float(number)
    if per_unit:
        return (scale / value if value else None), name
    return value * scale, name


def _postfix(text: str | None) -> dict[str, str]:
    values = {}
    for item in (text or "").split(","):
        key, sep, value = item.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def parse_bar(segment: str) -> Progress | None:
    """The progress of the last tqdm frame in ``segment``, or None when there is none."""
    matches = list(BAR.finditer(segment)) if "%|" in segment else []
    if not matches:
        return None
    m = matches[-1]
    step, total = _number(m["n"]), _number(m["total"])
    rate, unit = _rate(m["rate"], m["unit"])
    loss_text = _postfix(m["postfix"]).get("avr_loss") or _postfix(m["postfix"]).get("loss")
    try:
        loss = float(loss_text) if loss_text else None
    except ValueError:
        loss = None
    return Progress(
        step=step,
        total=total,
        fraction=min(1.0, step / total) if total else int(m["pct"]) / 100,
        rate=rate,
        unit=unit,
        eta_s=_seconds(m["remaining"]),
        elapsed_s=_seconds(m["elapsed"]),
        loss=loss,
        desc=(m["desc"] or "").strip() or None,
    )


def parse_epoch(line: str) -> tuple[int, int] | None:
    """``epoch 3/10`` (sd-scripts' stdout) → (3, 10)."""
    m = EPOCH.match(line)
    return (int(m.group(1)), int(m.group(2))) if m else None


class ProgressTracker:
    """Folds bars and epoch lines, in log order, into the job's current Progress.

    ``desc`` picks the job's main bar (sd-scripts' "steps"); other bars (caching latents,
    reading captions) are ignored then. With ``desc=None`` every bar counts.
    """

    def __init__(self, desc: str | None = None) -> None:
        self.desc = desc
        self.state = Progress()

    def bar(self, segment: str) -> bool:
        progress = parse_bar(segment)
        if progress is None or (self.desc is not None and progress.desc != self.desc):
            return False
        loss = progress.loss if progress.loss is not None else self.state.loss
        self.state = replace(progress, loss=loss, epoch=self.state.epoch, epochs=self.state.epochs)
        return True

    def line(self, line: str) -> bool:
        epoch = parse_epoch(line)
        if epoch is None:
            return False
        self.state = replace(self.state, epoch=epoch[0], epochs=epoch[1])
        return True

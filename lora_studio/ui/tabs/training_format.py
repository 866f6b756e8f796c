"""Text and tables the Training tab shows, made from what the training service returns (no gradio here)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from lora_studio.services.system import Gpu, describe_gpus
from lora_studio.services.training import (
    CheckResult,
    FailureExplanation,
    LoraFile,
    LossPoint,
    Preview,
    Severity,
)

LORA_HEADERS = ["file", "saved at", "size"]
NO_CHECK = "Press **Check** to run the pre-flight doctor and see the TOML and the command."


def trainer_markdown(problems: Sequence[str], checkout: str, python: str) -> str:
    """The trainer status line: found, or what is missing and what to do."""
    if not problems:
        return f"✅ **sd-scripts found** at `{checkout}` (trainer Python `{python}`)."
    missing = "; ".join(problems)
    return (
        f"⚠️ **sd-scripts is not installed**: {missing}.  \nPress **Install sd-scripts** (or run "
        "`python -m trainer.install`). Until then Check still renders and checks configs (a dry run)."
    )


def gpu_markdown(gpus: Sequence[Gpu]) -> str:
    if gpus:
        return f"GPU: {describe_gpus(tuple(gpus))}. Presets marked ★ fit it."
    return (
        "**No NVIDIA GPU found: training needs one.** Check and the preview work here (a dry run); only "
        "the CPU smoke preset (sd15-cpu-smoke) can actually start on a CPU."
    )


def doctor_markdown(result: CheckResult) -> str:
    """The doctor's findings as a list with severities, the step math, then what stops the preview."""
    report = result.report
    errors, warnings = len(report.errors), len(report.warnings)
    if errors:
        head = f"### ❌ Pre-flight: {errors} problem(s) to fix before Start"
    elif warnings:
        head = f"### ⚠️ Pre-flight: ready, with {warnings} warning(s)"
    else:
        head = "### ✅ Pre-flight: ready to start"
    lines = [head, ""]
    for item in report.findings:
        lines.append(f"- {item.severity.icon} **{item.check}**: {_escape(item.message)}")
        if item.items and item.severity is not Severity.OK:
            shown = ", ".join(f"`{name}`" for name in item.items[:8])
            more = f" and {len(item.items) - 8} more" if len(item.items) > 8 else ""
            lines.append(f"  <small>{shown}{more}</small>")
    if report.steps is not None and report.steps.estimate_s is None:
        lines.append(
            "- ⏱️ **time**: the estimate appears once a run with these settings has measured its speed."
        )
    if result.preview is not None and result.preview.notes:
        lines += ["", "**Start would be refused:**", *(f"- {_escape(note)}" for note in result.preview.notes)]
    if result.preview_error:
        lines += ["", f"**No preview:** {_escape(result.preview_error)}"]
    return "\n".join(lines)


def preview_texts(preview: Preview | None) -> tuple[str, str, str, str]:
    """(training TOML, dataset TOML, sample prompts, command) for the preview boxes."""
    if preview is None:
        return "", "", "", ""
    return (
        preview.train_toml,
        preview.dataset_toml,
        preview.prompts or "# no sample prompts",
        preview.command,
    )


def loss_frame(points: Sequence[LossPoint]) -> pd.DataFrame:
    return pd.DataFrame({"step": [p.step for p in points], "loss": [p.loss for p in points]})


def loss_note(points: Sequence[LossPoint]) -> str:
    if not points:
        return "No loss yet: it appears with the first training steps."
    last = points[-1]
    return f"{len(points)} loss points · latest avr_loss {last.loss:g} at step {last.step}"


def lora_rows(files: Sequence[LoraFile]) -> list[list[object]]:
    return [[lora.path.name, lora.label, _size(lora.size_bytes)] for lora in files]


def _size(size_bytes: int) -> str:
    for scale, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} B"


def explanation_markdown(explanation: FailureExplanation | None) -> str:
    if explanation is None:
        return ""
    text = f"### ❌ {_escape(explanation.title)}\n\n**Fix:** {_escape(explanation.fix)}"
    if explanation.evidence:
        text += f"\n\n<small>From the log: <code>{html.escape(explanation.evidence)}</code></small>"
    return text


def _escape(text: str) -> str:
    """Keep file names with underscores or asterisks from turning into Markdown emphasis."""
    return text.replace("*", r"\*").replace("_", r"\_")

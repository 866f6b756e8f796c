"""How the Tagging tab shows a finished run: a headline, skipped images with reasons, top tags."""

from __future__ import annotations

from typing import Any

import gradio as gr

from lora_studio.core.types import JobStatus
from lora_studio.jobs.model import JobRecord
from lora_studio.jobs.outcome import last_error_line
from lora_studio.services.tagging_summary import TaggingSummary

SKIPPED_HEADERS = ["image", "reason"]
TAG_HEADERS = ["tag", "count"]
MAX_SKIPPED_ROWS = 1000  # the table is for reading; the job log lists every one
ERROR_MARK = "ERROR: "  # how the worker reports a problem it understood
NO_RESULT = "No tagging run yet. Pick a dataset and press **Start tagging**."


def _headline(summary: TaggingSummary) -> str:
    parts = [
        f"**{summary.tagged} tagged** of {summary.images} images "
        f"({summary.written} written, {summary.merged} merged)",
        f"**{summary.skipped_count} skipped**",
    ]
    if summary.elapsed_s is not None:
        rate = f", {summary.images_per_s:g} images/s" if summary.images_per_s else ""
        parts.append(f"{summary.elapsed_s:g} s{rate}")
    parts.append(f"`{summary.model}` on {summary.provider}")
    return " · ".join(parts)


def _outcome_line(record: JobRecord) -> str:
    if record.status is JobStatus.STOPPED:
        return "Stopped before the end; this is what was done until then."
    if record.status is JobStatus.FAILED:
        return f"The run failed: {record.reason or 'see the log'}."
    return ""


def _worker_error(tail: list[str]) -> str | None:
    """The worker's own "ERROR: ..." explanation, else a traceback's last line."""
    mine = [line.strip()[len(ERROR_MARK) :] for line in tail if line.strip().startswith(ERROR_MARK)]
    return mine[-1].rstrip(".") if mine else last_error_line(tail)


def result_markdown(record: JobRecord, summary: TaggingSummary | None, tail: list[str]) -> str:
    """The result text for an ended job; ``tail`` (its last log lines) explains a run with no summary."""
    title = f"**{record.status.value}** · {record.title} · job `{record.id}`"
    if summary is None:
        error = _worker_error(tail) or record.reason or "the worker ended before printing its summary"
        return f"{title}\n\nNo summary: {error}. The log above has the details."
    lines = [title, "", _headline(summary)]
    if outcome := _outcome_line(record):
        lines += ["", outcome]
    if summary.skipped:
        reasons = "; ".join(f"{count} × {reason}" for reason, count in summary.skip_reasons()[:5])
        lines += ["", f"Skipped: {reasons}"]
    return "\n".join(lines)


def result_outputs(record: JobRecord, summary: TaggingSummary | None, tail: list[str]) -> tuple[Any, ...]:
    """Values for (result text, skipped table, top tags table)."""
    skipped = [[item.image, item.reason] for item in summary.skipped[:MAX_SKIPPED_ROWS]] if summary else []
    tags = [[tag, count] for tag, count in summary.top_tags] if summary else []
    return (
        result_markdown(record, summary, tail),
        gr.Dataframe(value=skipped, visible=bool(skipped)),
        gr.Dataframe(value=tags, visible=bool(tags)),
    )


def empty_outputs(text: str = NO_RESULT) -> tuple[Any, ...]:
    return text, gr.Dataframe(value=[], visible=False), gr.Dataframe(value=[], visible=False)

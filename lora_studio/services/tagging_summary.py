"""The end-of-run summary of a tagging job, read back from the ``LORA_STUDIO_SUMMARY {json}`` log line.

The worker prints that line last (also after a Stop, with what was done so far); this module finds
it in a job's log and checks it into ``TaggingSummary``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SUMMARY_PREFIX = "LORA_STUDIO_SUMMARY "  # the worker's marker (lora_studio.workers.wd14.summary)
_TAIL_BYTES = 8 * 1024 * 1024  # the line lists every skipped image, so it can be long


class SkippedImage(BaseModel):
    # The worker may add fields later; an older app still reads the ones it knows.
    model_config = ConfigDict(extra="ignore", frozen=True)

    image: str
    reason: str


class TaggingSummary(BaseModel):
    """What a tagging run did: counts, every skipped image with its reason, the most frequent tags."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str
    provider: str
    images: int = Field(ge=0)
    tagged: int = Field(ge=0)
    written: int = Field(ge=0)
    merged: int = Field(ge=0)
    skipped_count: int = Field(ge=0)
    skipped: tuple[SkippedImage, ...] = ()
    top_tags: tuple[tuple[str, int], ...] = ()
    elapsed_s: float | None = None
    images_per_s: float | None = None

    def skip_reasons(self) -> list[tuple[str, int]]:
        """Each distinct reason with how many images it covers, most frequent first."""
        return Counter(item.reason for item in self.skipped).most_common()


def parse_summary_line(line: str) -> TaggingSummary | None:
    """The summary in one log line (the marker may follow a progress bar fragment); None if absent or bad."""
    index = line.find(SUMMARY_PREFIX)
    if index < 0:
        return None
    try:
        return TaggingSummary.model_validate(json.loads(line[index + len(SUMMARY_PREFIX) :]))
    except (ValueError, ValidationError):  # a line cut short by a crash is just "no summary"
        return None


def read_summary(log_path: Path, *, max_bytes: int = _TAIL_BYTES) -> TaggingSummary | None:
    """The last valid summary line in the last ``max_bytes`` of ``log_path``; None when there is none."""
    try:
        with log_path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return None
    marker = SUMMARY_PREFIX.encode()
    end = len(data)
    while (start := data.rfind(marker, 0, end)) >= 0:
        line_end = data.find(b"\n", start)
        line = data[start : line_end if line_end >= 0 else len(data)].decode("utf-8", "replace")
        summary = parse_summary_line(line.split("\r")[0])
        if summary is not None:
            return summary
        end = start
    return None

"""The end-of-run summary: human lines and one ``LORA_STUDIO_SUMMARY {json}`` line for machines."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

SUMMARY_PREFIX = "LORA_STUDIO_SUMMARY "
TOP_TAGS = 50
LISTED_SKIPS = 20

Log = Callable[[str], None]


@dataclass
class RunStats:
    """What happened to every image of the run."""

    total: int = 0
    written: int = 0
    merged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (image, reason)
    tag_counts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    @property
    def tagged(self) -> int:
        return self.written + self.merged

    def skip(self, image: str, reason: str) -> None:
        self.skipped.append((image, reason))

    def as_json(self, model: str, provider: str) -> dict[str, object]:
        elapsed = time.perf_counter() - self.started
        return {
            "model": model,
            "provider": provider,
            "images": self.total,
            "tagged": self.tagged,
            "written": self.written,
            "merged": self.merged,
            "skipped_count": len(self.skipped),
            "skipped": [{"image": image, "reason": reason} for image, reason in self.skipped],
            "top_tags": [[tag, count] for tag, count in self.tag_counts.most_common(TOP_TAGS)],
            "elapsed_s": round(elapsed, 3),
            "images_per_s": round(self.tagged / elapsed, 3) if elapsed > 0 else None,
        }


def print_summary(stats: RunStats, model: str, provider: str, log: Log) -> None:
    data = stats.as_json(model, provider)
    log(
        f"done: {stats.tagged} tagged ({stats.written} written, {stats.merged} merged), "
        f"{len(stats.skipped)} skipped, {data['elapsed_s']} s"
    )
    if len(stats.skipped) > LISTED_SKIPS:
        for reason, count in Counter(reason for _, reason in stats.skipped).most_common():
            log(f"  skipped {count}x: {reason}")
    for image, reason in stats.skipped[:LISTED_SKIPS]:
        log(f"  skipped {image}: {reason}")
    if len(stats.skipped) > LISTED_SKIPS:
        log(f"  ... and {len(stats.skipped) - LISTED_SKIPS} more (all listed in the summary line)")
    if stats.tag_counts:
        top = ", ".join(f"{tag} ({count})" for tag, count in stats.tag_counts.most_common(20))
        log(f"top tags: {top}")
    log(SUMMARY_PREFIX + json.dumps(data, ensure_ascii=False))

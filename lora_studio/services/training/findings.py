"""What the pre-flight doctor reports: one finding per check, each with a severity and the files involved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# A finding lists at most this many file names; the message carries the full count.
MAX_ITEMS = 20


class Severity(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"

    @property
    def icon(self) -> str:
        return {"ok": "✅", "warning": "⚠️", "error": "❌"}[self.value]


@dataclass(frozen=True)
class Finding:
    """The result of one check: ``check`` names it (layout, images, captions, ...)."""

    check: str
    severity: Severity
    message: str
    items: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.severity.icon} {self.check}: {self.message}"


def finding(check: str, severity: Severity, message: str, items: Sequence[str] = ()) -> Finding:
    return Finding(check, severity, message, tuple(items[:MAX_ITEMS]))


def some(items: Sequence[str], count: int = 3) -> str:
    """ "a.png, b.png, c.png and 4 more" for a message."""
    shown = ", ".join(items[:count])
    return shown + (f" and {len(items) - count} more" if len(items) > count else "")

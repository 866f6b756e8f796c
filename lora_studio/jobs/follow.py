"""Follow a job's log: the state behind a live log view, and when to send it.

``LogFollower`` tails ``runs/<id>/log`` by byte offset, collapses progress redraws and keeps a
bounded tail of lines plus the parsed progress. ``UpdatePacer`` decides when a viewer gets an
update: at once when it has been quiet, else at most every ``min_interval`` seconds, and a
keepalive at least every ``keepalive`` seconds. Both are free of any UI library.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import BinaryIO

from lora_studio.jobs.logs import LogCollapser, tail_start
from lora_studio.jobs.progress import Progress, ProgressTracker


class LogFollower:
    """The tail of one job's log, kept up to date by ``poll()``."""

    def __init__(
        self,
        log_path: Path,
        *,
        progress_desc: str | None = None,
        max_lines: int = 2000,
        initial_bytes: int = 512 * 1024,
    ) -> None:
        self.log_path = log_path
        self.max_lines = max_lines
        self._lines: deque[str] = deque()
        self.dropped_lines = 0
        self._tracker = ProgressTracker(progress_desc)
        self._collapser = LogCollapser(self._add_line, self._tracker.bar)
        self.offset = tail_start(log_path, initial_bytes)
        self.skipped_bytes = self.offset
        self.version = 0  # bumps whenever what a viewer sees changes
        self._handle: BinaryIO | None = None  # kept open: a viewer polls many times a second

    def _add_line(self, line: str) -> None:
        self._tracker.line(line)
        self._lines.append(line)
        # Trim in chunks so most updates stay pure appends (cheap diffs for the browser).
        if len(self._lines) > self.max_lines * 1.5:
            for _ in range(len(self._lines) - self.max_lines):
                self._lines.popleft()
                self.dropped_lines += 1

    def poll(self) -> bool:
        """Read what was appended since the last call; True when the view changed."""
        changed = False
        if self._handle is None:
            try:
                self._handle = self.log_path.open("rb")
            except FileNotFoundError:
                return False
            self._handle.seek(self.offset)
        while True:
            data = self._handle.read(4 * 1024 * 1024)
            if not data:
                break
            self.offset += len(data)
            self._collapser.feed(data)
            changed = True
        if changed:
            self.version += 1
        return changed

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    @property
    def progress(self) -> Progress:
        return self._tracker.state

    @property
    def current(self) -> str:
        """The in-progress (carriage-return) line, e.g. the live tqdm bar."""
        return self._collapser.current

    @property
    def truncated(self) -> bool:
        return self.skipped_bytes > 0 or self.dropped_lines > 0

    def text(self) -> str:
        """The bounded tail as one string (what the log box shows)."""
        body = "\n".join(self._lines)
        if self.truncated:
            return "[… earlier output not shown here; download the full log …]\n" + body
        return body


class UpdatePacer:
    """Decides when to send an update: leading edge, then at most every ``min_interval`` seconds."""

    def __init__(self, *, min_interval: float = 0.1, keepalive: float = 1.0) -> None:
        self.min_interval = min_interval
        self.keepalive = keepalive
        self._last = float("-inf")
        self._dirty = False

    def mark_dirty(self) -> None:
        self._dirty = True

    def decide(self, now: float) -> str | None:
        """ "send" (content changed and allowed), "keepalive", or None (wait)."""
        since = now - self._last
        if self._dirty and since >= self.min_interval:
            self._dirty = False
            self._last = now
            return "send"
        if since >= self.keepalive:
            self._last = now
            return "keepalive"
        return None

    def next_wake(self, now: float, poll: float) -> float:
        """How long to sleep before looking again."""
        if self._dirty:
            return max(0.0, min(poll, self._last + self.min_interval - now))
        return poll

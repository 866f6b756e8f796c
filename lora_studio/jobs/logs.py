"""Read a job's log by byte offset and collapse carriage-return redraws into lines.

tqdm redraws a bar with ``\\r`` and no newline thousands of times; rich may glue a log line
right after a bar fragment. ``LogCollapser`` turns that byte stream into committed lines (a bar
is committed once, in its final state) plus the current in-progress bar.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from lora_studio.jobs.progress import BAR

_BREAK = re.compile(r"[\r\n]")


def read_from(path: Path, offset: int, limit: int = 4 * 1024 * 1024) -> tuple[bytes, int]:
    """The bytes appended to ``path`` since ``offset`` (at most ``limit``), and the new offset."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(limit)
    except FileNotFoundError:
        return b"", offset
    return data, offset + len(data)


def tail_start(path: Path, max_bytes: int) -> int:
    """An offset at most ``max_bytes`` before the end of ``path``, moved to the start of a line."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size <= max_bytes:
        return 0
    start = size - max_bytes
    with path.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read(min(max_bytes, 64 * 1024))
    newline = chunk.find(b"\n")
    return start + newline + 1 if newline >= 0 else start


class LogCollapser:
    """Incrementally turns raw log bytes into committed lines and a current progress segment.

    ``on_line`` receives every committed line in order; ``on_bar`` every bar frame (for progress).
    """

    def __init__(
        self, on_line: Callable[[str], object], on_bar: Callable[[str], object] | None = None
    ) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._on_line = on_line
        self._on_bar = on_bar
        self.current = ""  # the latest \\r-redrawn state of the unfinished line
        self._line_has_bar = False

    def feed(self, data: bytes) -> None:
        self._pending += self._decoder.decode(data)
        self._drain()

    def _drain(self) -> None:
        text = self._pending
        pos = 0
        while True:
            match = _BREAK.search(text, pos)
            if match is None:
                break
            index = match.start()
            if text[index] == "\r" and index == len(text) - 1:
                break  # could be half of "\r\n": wait for the next byte
            ends_line = text[index] == "\n" or text[index + 1] == "\n"
            self._segment(text[pos:index], ends_line)
            pos = index + (2 if text[index] == "\r" and ends_line else 1)
        self._pending = text[pos:]
        frames = list(BAR.finditer(self._pending)) if "%|" in self._pending else []
        if frames:
            self._bar_state(frames[-1].group(0))

    def _bar_state(self, segment: str) -> None:
        self.current = segment.strip()
        if self._on_bar is not None:
            self._on_bar(segment)

    def _segment(self, segment: str, ends_line: bool) -> None:
        rest = segment
        while "%|" in rest:  # cheap test first: most lines hold no bar
            match = BAR.search(rest)
            if match is None:
                break
            before = rest[: match.start()]
            if before.strip():
                self._on_line(before.rstrip())
            self._line_has_bar = True
            self._bar_state(match.group(0))
            rest = rest[match.end() :]
        if rest.strip():
            if ends_line or self._line_has_bar:
                self._on_line(rest.rstrip())
            else:
                self.current = rest.strip()  # a plain "\\r" status line: show its latest state
        if ends_line:
            if not rest.strip() and self.current:
                self._on_line(self.current)
            self.current = ""
            self._line_has_bar = False

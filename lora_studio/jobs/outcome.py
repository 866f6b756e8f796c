"""Decide how a finished job ended, from its exit code and its log (pure apart from reading files)."""

from __future__ import annotations

import glob
import re
import signal
from pathlib import Path

from lora_studio.core.types import JobStatus
from lora_studio.jobs.model import SuccessRules

_ERROR_LINE = re.compile(r"^(?:[\w.]+(?:Error|Exception|Interrupt)|[\w.]*Error)\b.*")
_TAIL_BYTES = 256 * 1024


def read_tail_lines(log_path: Path, max_bytes: int = _TAIL_BYTES) -> list[str]:
    """The last lines of a log (split on both newline and carriage return), decoded leniently."""
    try:
        with log_path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return []
    return [line.rstrip() for line in re.split(r"[\r\n]+", data.decode("utf-8", "replace")) if line.strip()]


def last_error_line(lines: list[str]) -> str | None:
    """The last line that names an exception (a traceback's final line), if any."""
    for line in reversed(lines):
        stripped = line.strip()
        if _ERROR_LINE.match(stripped) and not stripped.startswith("subprocess.CalledProcessError"):
            return stripped[:400]
    return None


def _scan_fail_patterns(log_path: Path, rules: SuccessRules) -> str | None:
    if not rules.fail_patterns:
        return None
    patterns = [(re.compile(rule.pattern), rule.reason) for rule in rules.fail_patterns]
    with log_path.open("rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace")
            for pattern, reason in patterns:
                if pattern.search(line):
                    return reason
    return None


def _missing_outputs(cwd: Path, rules: SuccessRules) -> str | None:
    for pattern in rules.require_files:
        # Relative patterns are under the job's cwd; absolute ones (already glob-escaped) stand alone.
        full = pattern if pattern.startswith("/") else glob.escape(str(cwd)) + "/" + pattern
        if not glob.glob(full):
            return f"finished without writing its expected output ({pattern})"
    return None


def decide(
    *, exit_code: int, stopped: bool, log_path: Path, cwd: Path, rules: SuccessRules
) -> tuple[JobStatus, str | None]:
    """(final status, short reason) for a job that exited with ``exit_code``."""
    if stopped:
        return JobStatus.STOPPED, "stopped on request"
    if exit_code == 0:
        reason = _scan_fail_patterns(log_path, rules) or _missing_outputs(cwd, rules)
        return (JobStatus.FAILED, reason) if reason else (JobStatus.SUCCEEDED, None)
    if exit_code < 0:
        name = signal.Signals(-exit_code).name if -exit_code in signal.valid_signals() else str(-exit_code)
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return JobStatus.FAILED, f"killed by {name}{hint}"
    error = last_error_line(read_tail_lines(log_path))
    return JobStatus.FAILED, f"exit code {exit_code}" + (f": {error}" if error else "")

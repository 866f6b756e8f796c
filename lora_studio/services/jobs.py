"""The jobs facade the UI and the CLI call: list, inspect, follow, stop, delete."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.types import JobKind, JobStatus
from lora_studio.jobs.engine import JobEngine
from lora_studio.jobs.follow import LogFollower
from lora_studio.jobs.model import JobRecord, JobSpec
from lora_studio.jobs.outcome import read_tail_lines
from lora_studio.jobs.progress import Progress


@dataclass(frozen=True)
class JobRow:
    """One line of the jobs table."""

    id: str
    kind: str
    title: str
    status: str
    progress: str
    started: str
    duration: str
    reason: str


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe_progress(progress: Progress, *, active: bool = True) -> str:
    """ "step 10/100 (10%) · epoch 1/2 · 1.66 it/s · ETA 0:54 · loss 0.123" (only the known parts)."""
    parts = []
    if progress.total:
        done = f"{progress.step:g}/{progress.total:g}" if progress.unit == "it" else ""
        percent = f"{100 * (progress.fraction or 0):.0f}%"
        parts.append(f"{done} ({percent})" if done else percent)
    if progress.epochs:
        parts.append(f"epoch {progress.epoch}/{progress.epochs}")
    if progress.rate and active:
        rate = progress.rate
        if rate >= 1 or progress.unit != "it":
            parts.append(_rate_text(rate, progress.unit))
        else:
            parts.append(f"{1 / rate:.2f} s/{progress.unit}")
    if active and progress.eta_s is not None and progress.fraction is not None and progress.fraction < 1:
        parts.append(f"ETA {format_duration(progress.eta_s)}")
    if progress.loss is not None:
        parts.append(f"loss {progress.loss:g}")
    return " · ".join(parts)


def _rate_text(rate: float, unit: str) -> str:
    if unit == "B":
        for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
            if rate >= scale:
                return f"{rate / scale:.1f} {name}/s"
        return f"{rate:.0f} B/s"
    return f"{rate:.2f} {unit}/s"


class JobsService:
    """Jobs as a person sees them; wraps the engine."""

    def __init__(self, engine: JobEngine) -> None:
        self.engine = engine
        self._progress_cache: dict[str, tuple[float, str]] = {}

    def submit(self, spec: JobSpec) -> JobRecord:
        return self.engine.submit(spec)

    def submit_prepared(self, kind: JobKind, build: Callable[[str, Path], JobSpec]) -> JobRecord:
        """Submit a job whose files ``build(job_id, folder)`` writes into its own run folder first."""
        return self.engine.submit_prepared(kind, build)

    def get(self, job_id: str) -> JobRecord:
        return self.engine.get(job_id)

    def list_jobs(self) -> list[JobRecord]:
        return self.engine.list_jobs()

    def active(self) -> list[JobRecord]:
        return [record for record in self.engine.list_jobs() if record.status.is_active]

    def stop(self, job_id: str) -> JobRecord:
        return self.engine.stop(job_id)

    def delete(self, job_id: str) -> None:
        self.engine.delete(job_id)

    def follower(self, job_id: str, *, max_lines: int = 2000) -> LogFollower:
        record = self.engine.get(job_id)
        return LogFollower(
            self.engine.log_path(job_id), progress_desc=record.spec.progress_desc, max_lines=max_lines
        )

    def log_path(self, job_id: str) -> Path:
        self.engine.get(job_id)
        return self.engine.log_path(job_id)

    def log_copy(self, job_id: str) -> Path:
        """A copy of the full log in the temp folder, for a download button (never the run folder itself)."""
        source = self.log_path(job_id)
        folder = Path(tempfile.mkdtemp(prefix="lora-studio-log-"))
        target = folder / f"{job_id}.log"
        shutil.copyfile(source, target)
        return target

    def tail(self, job_id: str, lines: int = 40) -> list[str]:
        return read_tail_lines(self.log_path(job_id))[-lines:]

    def rows(self) -> list[JobRow]:
        return [self._row(record) for record in self.engine.list_jobs()]

    def _row(self, record: JobRecord) -> JobRow:
        started = record.started_at or record.created_at
        return JobRow(
            id=record.id,
            kind=record.kind.value,
            title=record.title,
            status=record.status.value,
            progress=self._progress_text(record),
            started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
            duration=format_duration(record.duration_s),
            reason=record.reason or "",
        )

    def _progress_text(self, record: JobRecord) -> str:
        if record.status == JobStatus.QUEUED:
            return "waiting for the GPU" if record.spec.uses_gpu else "starting"
        # Parsing a whole log for every table refresh is wasteful: cache by log size.
        path = self.engine.log_path(record.id)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return ""
        cached = self._progress_cache.get(record.id)
        if cached and cached[0] == size:
            return cached[1]
        follower = LogFollower(
            path, progress_desc=record.spec.progress_desc, max_lines=1, initial_bytes=256 * 1024
        )
        follower.poll()
        text = describe_progress(follower.progress, active=record.status.is_active)
        self._progress_cache[record.id] = (size, text)
        return text

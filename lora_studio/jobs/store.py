"""Job records on disk: ``runs/<id>/job.json`` beside the job's ``log``.

Both the app and each job's supervisor process update a record, so every read-modify-write
holds an exclusive ``flock`` on ``runs/<id>/.lock`` and writes atomically.
"""

from __future__ import annotations

import fcntl
import json
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from lora_studio.core.atomic import write_json_atomic
from lora_studio.core.errors import JobNotFound
from lora_studio.jobs.model import JobRecord, JobSpec

JOB_FILE = "job.json"
LOG_FILE = "log"
SUPERVISOR_LOG = "supervisor.log"
_ID = re.compile(r"^\d{8}-\d{6}-[a-z]+-[0-9a-f]{6}$")


def new_job_id(kind: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{kind}-{secrets.token_hex(3)}"


class JobStore:
    """Reads and writes job records under one ``runs/`` folder."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        runs_dir.mkdir(parents=True, exist_ok=True)

    def run_dir(self, job_id: str) -> Path:
        """The run folder of ``job_id``; ids that are not ours are refused before touching disk."""
        if not _ID.match(job_id):
            raise JobNotFound(job_id)
        return self.runs_dir / job_id

    def log_path(self, job_id: str) -> Path:
        return self.run_dir(job_id) / LOG_FILE

    def reserve(self, kind: str) -> str:
        """A new job id whose folder exists but holds no record yet; ``create(job_id=...)`` completes it.

        Until then ``list_jobs`` does not see it, so a caller can fill the folder first.
        """
        for _attempt in range(5):
            job_id = new_job_id(kind)
            try:
                self.run_dir(job_id).mkdir(parents=True)
                return job_id
            except FileExistsError:
                continue
        raise FileExistsError(f"no free job id for {kind} in {self.runs_dir}")

    def create(self, spec: JobSpec, *, stop_grace_s: float, job_id: str | None = None) -> JobRecord:
        """Write a new queued record (into the folder of a reserved ``job_id``, if given)."""
        now = time.time()
        record = JobRecord(
            id=job_id or new_job_id(spec.kind.value, now),
            spec=spec,
            created_at=now,
            stop_grace_s=stop_grace_s,
        )
        folder = self.run_dir(record.id)
        folder.mkdir(parents=True, exist_ok=job_id is not None)
        (folder / LOG_FILE).touch()
        write_json_atomic(folder / JOB_FILE, record.model_dump(mode="json"))
        return record

    def get(self, job_id: str) -> JobRecord:
        path = self.run_dir(job_id) / JOB_FILE
        try:
            return JobRecord.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise JobNotFound(job_id) from None

    def list_jobs(self) -> list[JobRecord]:
        """Every readable record, newest first; unreadable folders are skipped."""
        records = []
        for path in self.runs_dir.glob(f"*/{JOB_FILE}"):
            try:
                records.append(JobRecord.model_validate_json(path.read_bytes()))
            except (OSError, ValueError, ValidationError):
                continue  # a folder being deleted or written by hand; not a job we can show
        records.sort(key=lambda record: (record.created_at, record.id), reverse=True)
        return records

    @contextmanager
    def _locked(self, job_id: str) -> Iterator[None]:
        lock_path = self.run_dir(job_id) / ".lock"
        if not lock_path.parent.exists():
            raise JobNotFound(job_id)
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord | None]) -> JobRecord:
        """Apply ``change`` to the current record under the lock; ``None`` means leave it as is."""
        with self._locked(job_id):
            record = self.get(job_id)
            updated = change(record)
            if updated is None:
                return record
            write_json_atomic(self.run_dir(job_id) / JOB_FILE, updated.model_dump(mode="json"))
            return updated

    def delete(self, job_id: str) -> None:
        folder = self.run_dir(job_id)
        if not folder.exists():
            raise JobNotFound(job_id)
        for attempt in range(3):
            try:
                shutil.rmtree(folder)
                return
            except OSError:  # a file appeared while deleting (a process still closing up): try again
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def raw(self, job_id: str) -> dict[str, object]:
        """The record as plain JSON (for ``jobs show``)."""
        data: dict[str, object] = json.loads((self.run_dir(job_id) / JOB_FILE).read_text())
        return data

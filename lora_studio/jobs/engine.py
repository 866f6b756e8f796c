"""The job engine: submit, list, stop, delete and reconcile detached jobs.

Each job runs under its own supervisor process (``lora_studio.jobs.supervisor``), so a job and
the record of its outcome outlive the app. The engine only starts supervisors, signals them and
repairs records whose supervisor died (machine restart, ``kill -9``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import lora_studio
from lora_studio.core.errors import JobStartFailed, JobStateError
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.jobs import processes
from lora_studio.jobs.liveness import supervisor_alive
from lora_studio.jobs.model import JobRecord, JobSpec
from lora_studio.jobs.secrets import split_secrets, write_secret_env
from lora_studio.jobs.store import SUPERVISOR_LOG, JobStore

RESTARTED_REASON = "app restarted while running"
_PACKAGE_ROOT = str(Path(lora_studio.__file__).resolve().parent.parent)


def package_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment with this checkout first on PYTHONPATH, so ``python -m lora_studio...`` works anywhere."""
    env = dict(os.environ)
    env.update(extra or {})
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + path if path else "")
    return env


class JobEngine:
    """Runs jobs as detached subprocesses whose state lives in ``runs_dir``."""

    def __init__(self, runs_dir: Path, *, python: str = sys.executable, stop_grace_s: float = 10.0) -> None:
        self.store = JobStore(runs_dir)
        self.python = python
        self.stop_grace_s = stop_grace_s

    def submit(self, spec: JobSpec, *, job_id: str | None = None) -> JobRecord:
        """Record ``spec`` as a queued job and start its supervisor; returns at once.

        ``job_id`` is one from ``reserve`` (see ``submit_prepared``).

        Raises:
            JobStartFailed: the supervisor process could not be started.
        """
        base_env = package_env_overrides() if spec.imports_lora_studio else {}
        public_env, secret_env = split_secrets({**base_env, **spec.env})
        record = self.store.create(
            spec.model_copy(update={"env": public_env}), stop_grace_s=self.stop_grace_s, job_id=job_id
        )
        run_dir = self.store.run_dir(record.id)
        if secret_env:
            write_secret_env(run_dir, secret_env)
        try:
            with (run_dir / SUPERVISOR_LOG).open("ab") as errors:
                supervisor = subprocess.Popen(
                    [self.python, "-m", "lora_studio.jobs.supervisor", str(run_dir)],
                    cwd=run_dir,
                    env=package_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=errors,
                    stderr=errors,
                    start_new_session=True,
                )
        except OSError as error:
            self._mark(record.id, JobStatus.FAILED, f"could not start the job supervisor: {error}")
            raise JobStartFailed(f"Could not start job {record.id}: {error}") from error
        # Reap the supervisor when it exits so the app never collects zombies.
        threading.Thread(target=supervisor.wait, daemon=True, name=f"reap-{record.id}").start()
        return record

    def submit_prepared(self, kind: JobKind, build: Callable[[str, Path], JobSpec]) -> JobRecord:
        """Reserve a job id and its folder, let ``build(job_id, folder)`` fill the folder and return the
        spec, then submit it. The job's files (a training run's bundle) thus live in its own ``runs/<id>/``.

        Raises:
            whatever ``build`` raises (the reserved folder is removed first), JobStartFailed.
        """
        job_id = self.store.reserve(kind.value)
        folder = self.store.run_dir(job_id)
        try:
            spec = build(job_id, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # no half-prepared folder without a record
            raise
        return self.submit(spec, job_id=job_id)

    def get(self, job_id: str) -> JobRecord:
        return self.store.get(job_id)

    def list_jobs(self) -> list[JobRecord]:
        return self.store.list_jobs()

    def log_path(self, job_id: str) -> Path:
        return self.store.log_path(job_id)

    def stop(self, job_id: str) -> JobRecord:
        """Ask a job to stop: its supervisor escalates SIGINT → grace → SIGTERM → SIGKILL on the group."""
        record = self.store.get(job_id)
        if not record.status.is_active:
            return record
        record = self.store.update(
            job_id, lambda r: r.model_copy(update={"stop_requested_at": r.stop_requested_at or time.time()})
        )
        if processes.is_alive(record.supervisor_pid, record.supervisor_started):
            os.kill(record.supervisor_pid or 0, 15)
        elif record.pid and processes.group_alive(record.pid):
            # The supervisor is gone but its child runs on: stop the group ourselves.
            threading.Thread(target=self._stop_orphan, args=(record,), daemon=True).start()
        elif not supervisor_alive(record):
            self._mark(job_id, JobStatus.STOPPED, "stopped on request")
        return self.store.get(job_id)

    def _stop_orphan(self, record: JobRecord) -> None:
        if record.pid:
            processes.stop_group(record.pid, record.stop_grace_s)
        self._mark(record.id, JobStatus.STOPPED, "stopped on request")

    def delete(self, job_id: str) -> None:
        """Delete a finished job's run folder (log included)."""
        record = self.store.get(job_id)
        if record.status.is_active:
            raise JobStateError(job_id, record.status.value, "delete")
        # The record turns final a moment before its supervisor exits; let it close its files first.
        deadline = time.monotonic() + 5.0
        while processes.is_alive(record.supervisor_pid, record.supervisor_started):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.store.delete(job_id)

    def wait(self, job_id: str, timeout: float | None = None, poll_s: float = 0.1) -> JobRecord:
        """Block until the job ends (or ``timeout`` passes); returns the latest record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            record = self.store.get(job_id)
            if not record.status.is_active or (deadline is not None and time.monotonic() > deadline):
                return record
            time.sleep(poll_s)

    def reconcile(self) -> list[str]:
        """Repair records of jobs whose supervisor died; returns the ids it changed.

        A live supervisor keeps its job (the UI re-attaches by tailing the log). A dead
        supervisor whose child still runs is watched until the child ends. Otherwise the
        job becomes ``failed`` with reason "app restarted while running"; its log stays.
        """
        changed = []
        now = time.time()
        for record in self.store.list_jobs():
            if not record.status.is_active:
                continue
            if supervisor_alive(record, now):
                continue
            if record.status == JobStatus.RUNNING and record.pid and processes.group_alive(record.pid):
                threading.Thread(target=self._watch_orphan, args=(record,), daemon=True).start()
                continue
            self._mark(record.id, JobStatus.FAILED, RESTARTED_REASON)
            changed.append(record.id)
        return changed

    def _watch_orphan(self, record: JobRecord) -> None:
        while record.pid and processes.group_alive(record.pid):
            time.sleep(0.5)
        current = self.store.get(record.id)
        if current.status.is_active:
            stopped = current.stop_requested_at is not None
            reason = "stopped on request" if stopped else f"{RESTARTED_REASON}; its exit status is unknown"
            self._mark(record.id, JobStatus.STOPPED if stopped else JobStatus.FAILED, reason)

    def _mark(self, job_id: str, status: JobStatus, reason: str) -> None:
        def change(record: JobRecord) -> JobRecord | None:
            if not record.status.is_active:
                return None
            return record.model_copy(update={"status": status, "reason": reason, "ended_at": time.time()})

        self.store.update(job_id, change)
        with self.store.log_path(job_id).open("ab") as log:
            log.write(f"\n[lora-studio] job {status.value}: {reason}\n".encode())


def package_env_overrides() -> dict[str, str]:
    """What a job's child needs from us: this checkout importable (workers run as ``python -m``)."""
    return {"PYTHONPATH": package_env()["PYTHONPATH"]}

"""The per-job supervisor: ``python -m lora_studio.jobs.supervisor RUN_DIR``.

Started detached by the engine, it owns the job's child process for its whole life, so the
outcome is recorded even when the app is gone: it waits for its turn on the GPU, starts the
child in its own process group with stdout and stderr going straight into ``runs/<id>/log``,
escalates a stop (SIGTERM to the supervisor) to the child's group, reaps the child, decides the
outcome and writes the final record.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO

import lora_studio
from lora_studio.core.types import JobStatus
from lora_studio.jobs import outcome, processes
from lora_studio.jobs.liveness import supervisor_alive
from lora_studio.jobs.model import JobRecord
from lora_studio.jobs.secrets import take_secret_env
from lora_studio.jobs.store import JobStore

GPU_LOCK = ".gpu.lock"
_QUEUE_POLL_S = 0.2


def child_env(record: JobRecord, secrets: dict[str, str]) -> dict[str, str]:
    """The child's environment: ours, the spec's overrides, unbuffered output and wide rich lines."""
    env = dict(os.environ)
    if not record.spec.imports_lora_studio:
        # We run with this checkout on PYTHONPATH; a foreign program gets the path it would have had.
        ours = str(Path(lora_studio.__file__).resolve().parent.parent)
        kept = [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part and part != ours]
        env["PYTHONPATH"] = os.pathsep.join(kept)
        if not kept:
            del env["PYTHONPATH"]
    env.update(record.spec.env)
    env.update(secrets)
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "250"
    return env


def _first_in_line(store: JobStore, job_id: str) -> bool:
    """True when ``job_id`` is the oldest queued GPU job whose supervisor is alive."""
    for record in sorted(store.list_jobs(), key=lambda r: (r.created_at, r.id)):
        if record.status != JobStatus.QUEUED or not record.spec.uses_gpu:
            continue
        if record.id == job_id:
            return True
        if supervisor_alive(record):
            return False
    return False


def _wait_for_gpu(store: JobStore, job_id: str, stop: threading.Event) -> IO[str] | None:
    """Block until this job may use the GPU; returns the held lock (released when we exit)."""
    handle = (store.runs_dir / GPU_LOCK).open("a")
    while not stop.is_set():
        if _first_in_line(store, job_id):
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                pass
        stop.wait(_QUEUE_POLL_S)
    handle.close()
    return None


def _finish(store: JobStore, job_id: str, status: JobStatus, reason: str | None, code: int | None) -> None:
    def change(record: JobRecord) -> JobRecord:
        return record.model_copy(
            update={"status": status, "reason": reason, "exit_code": code, "ended_at": time.time()}
        )

    store.update(job_id, change)
    with store.log_path(job_id).open("ab") as log:
        suffix = f": {reason}" if reason else ""
        log.write(f"\n[lora-studio] job {status.value}{suffix}\n".encode())


def run(run_dir: Path) -> int:
    store = JobStore(run_dir.parent)
    job_id = run_dir.name
    stop = threading.Event()

    def on_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    me = os.getpid()
    record = store.update(
        job_id,
        lambda r: r.model_copy(update={"supervisor_pid": me, "supervisor_started": processes.start_time(me)}),
    )
    if record.status != JobStatus.QUEUED:
        return 0
    gpu_lock = _wait_for_gpu(store, job_id, stop) if record.spec.uses_gpu else None
    if stop.is_set() or store.get(job_id).stop_requested_at is not None:
        _finish(store, job_id, JobStatus.STOPPED, "stopped before it started", None)
        return 0
    try:
        return _run_child(store, store.get(job_id), stop)
    finally:
        if gpu_lock is not None:
            gpu_lock.close()


def _run_child(store: JobStore, record: JobRecord, stop: threading.Event) -> int:
    cwd = Path(record.spec.cwd) if record.spec.cwd else store.run_dir(record.id)
    log_path = store.log_path(record.id)
    with log_path.open("ab") as log:
        log.write(f"[lora-studio] $ {shlex.join(record.argv)}\n".encode())
        log.flush()
        try:
            child = subprocess.Popen(
                record.argv,
                cwd=cwd,
                env=child_env(record, take_secret_env(store.run_dir(record.id))),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        except OSError as error:
            _finish(store, record.id, JobStatus.FAILED, f"could not start {record.argv[0]}: {error}", None)
            return 0
    store.update(
        record.id,
        lambda r: r.model_copy(
            update={"status": JobStatus.RUNNING, "pid": child.pid, "started_at": time.time()}
        ),
    )
    stopped = False
    while child.poll() is None:
        if stop.wait(0.2) or stop.is_set():
            stopped = True
            processes.stop_group(child.pid, record.stop_grace_s, reap=child.poll)
            break
    code = child.wait()
    # Whatever the child left behind in its group (dataloader workers, accelerate ranks) goes too.
    processes.signal_group(child.pid, signal.SIGKILL)
    status, reason = outcome.decide(
        exit_code=code, stopped=stopped, log_path=log_path, cwd=cwd, rules=record.spec.success
    )
    _finish(store, record.id, status, reason, code)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lora_studio.jobs.supervisor RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(args[0]).absolute())


if __name__ == "__main__":
    raise SystemExit(main())

"""The job engine with real subprocesses: records, logs, stop, queueing, restarts."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from lora_studio.core.errors import JobNotFound, JobStateError
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.jobs.engine import RESTARTED_REASON, JobEngine
from lora_studio.jobs.follow import LogFollower
from lora_studio.jobs.model import FailRule, SuccessRules
from tests.fakes.children import CRASHER, PRINTER, SLEEPER, STUBBORN, spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(tmp_path: Path) -> JobEngine:
    return JobEngine(tmp_path / "runs", stop_grace_s=1.0)


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_job_runs_logs_and_succeeds(engine: JobEngine) -> None:
    record = engine.submit(spec(PRINTER, "5", "0.01", progress_desc="steps"))
    assert record.status == JobStatus.QUEUED
    done = engine.wait(record.id, timeout=30)
    assert done.status == JobStatus.SUCCEEDED, done.reason
    assert done.exit_code == 0
    assert done.started_at is not None and done.ended_at is not None and done.pid
    log = engine.log_path(record.id).read_bytes()
    assert b"LINE 0\n" in log and b"LINE 4\n" in log
    assert b"\r" in log  # the tqdm bar arrived raw
    follower = LogFollower(engine.log_path(record.id), progress_desc="steps")
    follower.poll()
    assert follower.progress.step == 5 and follower.progress.total == 5
    assert follower.progress.epoch == 1
    assert "job succeeded" in follower.text()


def test_status_goes_queued_running_succeeded(engine: JobEngine, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    record = engine.submit(spec(SLEEPER, str(marks), "1.5"))
    running = wait_for(lambda: engine.get(record.id).status == JobStatus.RUNNING, what="running")
    assert running
    assert psutil.pid_exists(engine.get(record.id).pid or 0)
    assert engine.wait(record.id, timeout=30).status == JobStatus.SUCCEEDED


def test_record_is_valid_json_with_every_field(engine: JobEngine) -> None:
    record = engine.submit(spec(PRINTER, "1", "0"))
    engine.wait(record.id, timeout=30)
    raw = engine.store.raw(record.id)
    for key in ("id", "spec", "status", "pid", "exit_code", "created_at", "started_at", "ended_at", "reason"):
        assert key in raw
    assert raw["spec"]["argv"][0] == sys.executable  # type: ignore[index]


def test_stop_escalates_and_kills_the_whole_group(engine: JobEngine, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    record = engine.submit(spec(STUBBORN, str(pids_file)))
    wait_for(lambda: pids_file.exists() and pids_file.read_text().strip(), what="child pids")
    child, grandchild = (int(pid) for pid in pids_file.read_text().split())
    assert psutil.pid_exists(grandchild)
    engine.stop(record.id)
    done = engine.wait(record.id, timeout=30)
    assert done.status == JobStatus.STOPPED
    for pid in (child, grandchild):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # The child is reaped: it is no zombie of the supervisor (which has exited and been reaped too).
    wait_for(lambda: not psutil.pid_exists(child), what="child reaped")
    assert b"job stopped" in engine.log_path(record.id).read_bytes()


def test_exit_zero_with_a_failure_line_is_a_failure(engine: JobEngine) -> None:
    rules = SuccessRules(fail_patterns=(FailRule(pattern=r"No data found", reason="no images were found"),))
    code = "print('ERROR    No data found. Please verify arguments')"
    done = engine.wait(engine.submit(spec(code, success=rules)).id, timeout=30)
    assert done.status == JobStatus.FAILED
    assert done.exit_code == 0
    assert done.reason == "no images were found"


def test_missing_expected_output_is_a_failure(engine: JobEngine) -> None:
    rules = SuccessRules(require_files=("*.safetensors",))
    done = engine.wait(engine.submit(spec("print('done')", success=rules)).id, timeout=30)
    assert done.status == JobStatus.FAILED
    assert "*.safetensors" in (done.reason or "")


def test_an_absolute_expected_output_is_checked_where_it_points(engine: JobEngine, tmp_path: Path) -> None:
    out = tmp_path / "out [1]"  # glob characters in the folder name are escaped by the caller
    out.mkdir()
    rules = SuccessRules(require_files=(f"{glob.escape(str(out))}/*.safetensors",))
    code = f"open({str(out / 'x.safetensors')!r}, 'w').close()"
    assert engine.wait(engine.submit(spec(code, success=rules)).id, timeout=30).status == JobStatus.SUCCEEDED
    (out / "x.safetensors").unlink()
    assert engine.wait(engine.submit(spec("pass", success=rules)).id, timeout=30).status == JobStatus.FAILED


def test_a_prepared_job_writes_its_files_into_its_own_run_folder_first(engine: JobEngine) -> None:
    seen: list[tuple[str, bool]] = []

    def build(job_id: str, folder: Path):  # type: ignore[no-untyped-def]
        seen.append((job_id, any(record.id == job_id for record in engine.list_jobs())))
        (folder / "bundle.toml").write_text("x = 1\n")
        return spec("import pathlib; print(pathlib.Path('bundle.toml').read_text())").model_copy(
            update={"cwd": str(folder)}
        )

    record = engine.submit_prepared(JobKind.OTHER, build)
    assert seen == [(record.id, False)]  # not listed while being prepared
    done = engine.wait(record.id, timeout=30)
    assert done.status == JobStatus.SUCCEEDED, done.reason
    assert "x = 1" in engine.log_path(record.id).read_text()
    assert (engine.store.run_dir(record.id) / "bundle.toml").is_file()


def test_a_prepared_job_whose_build_fails_leaves_nothing(engine: JobEngine) -> None:
    def build(job_id: str, folder: Path):  # type: ignore[no-untyped-def]
        (folder / "half.toml").write_text("")
        raise ValueError("render failed")

    with pytest.raises(ValueError, match="render failed"):
        engine.submit_prepared(JobKind.OTHER, build)
    assert engine.list_jobs() == [] and list(engine.store.runs_dir.iterdir()) == []


def test_a_crash_reports_the_exception_line(engine: JobEngine) -> None:
    done = engine.wait(engine.submit(spec(CRASHER)).id, timeout=30)
    assert done.status == JobStatus.FAILED
    assert done.exit_code == 1
    assert "ValueError: the model file is not a checkpoint" in (done.reason or "")


def test_a_command_that_does_not_exist_fails_clearly(engine: JobEngine) -> None:
    from lora_studio.jobs.model import JobSpec

    record = engine.submit(JobSpec(kind=JobKind.OTHER, title="x", argv=("/no/such/program",)))
    done = engine.wait(record.id, timeout=30)
    assert done.status == JobStatus.FAILED
    assert "could not start /no/such/program" in (done.reason or "")


def read_marks(path: Path) -> dict[str, float]:
    marks = {}
    for line in path.read_text().split("\n"):
        if line:
            key, value = line.split()
            marks[key] = float(value)
    return marks


def test_gpu_jobs_run_one_at_a_time_in_order(engine: JobEngine, tmp_path: Path) -> None:
    first_marks, second_marks, other_marks = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    first = engine.submit(spec(SLEEPER, str(first_marks), "1.5", kind=JobKind.TRAIN))
    second = engine.submit(spec(SLEEPER, str(second_marks), "0.2", kind=JobKind.TAG))
    other = engine.submit(spec(SLEEPER, str(other_marks), "0.2", kind=JobKind.DOWNLOAD))
    wait_for(lambda: engine.get(first.id).status == JobStatus.RUNNING, what="first running")
    assert engine.get(second.id).status == JobStatus.QUEUED
    # A download does not wait for the GPU.
    assert engine.wait(other.id, timeout=30).status == JobStatus.SUCCEEDED
    assert engine.get(first.id).status == JobStatus.RUNNING
    assert engine.wait(second.id, timeout=60).status == JobStatus.SUCCEEDED
    assert read_marks(second_marks)["start"] >= read_marks(first_marks)["end"]


def test_stopping_a_queued_job_never_runs_it(engine: JobEngine, tmp_path: Path) -> None:
    first = engine.submit(spec(SLEEPER, str(tmp_path / "a"), "1.0", kind=JobKind.TRAIN))
    queued = engine.submit(spec(SLEEPER, str(tmp_path / "b"), "0.1", kind=JobKind.TRAIN))
    wait_for(lambda: engine.get(queued.id).supervisor_pid, what="supervisor of the queued job")
    engine.stop(queued.id)
    assert engine.wait(queued.id, timeout=30).status == JobStatus.STOPPED
    assert not (tmp_path / "b").exists()
    assert engine.wait(first.id, timeout=30).status == JobStatus.SUCCEEDED


APP_SCRIPT = """
import sys, time
from pathlib import Path
from lora_studio.jobs.engine import JobEngine
from lora_studio.jobs.model import JobSpec
from lora_studio.core.types import JobKind
engine = JobEngine(Path(sys.argv[1]))
code = "import time\\nfor i in range(30):\\n    print('tick', i, flush=True)\\n    time.sleep(0.1)"
record = engine.submit(JobSpec(kind=JobKind.TRAIN, title="survivor", argv=(sys.executable, "-c", code)))
print(record.id, flush=True)
time.sleep(600)
"""


def test_a_job_outlives_the_app_and_its_outcome_is_recorded(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    app = subprocess.Popen(
        [sys.executable, "-c", APP_SCRIPT, str(runs)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert app.stdout is not None
    job_id = app.stdout.readline().strip()
    engine = JobEngine(runs)
    wait_for(lambda: engine.get(job_id).status == JobStatus.RUNNING, what="running")
    app.kill()  # the app dies hard, mid-run
    app.wait()
    restarted = JobEngine(runs)
    assert restarted.reconcile() == []  # the supervisor is alive: the job is re-attached, not failed
    assert restarted.get(job_id).status == JobStatus.RUNNING
    done = restarted.wait(job_id, timeout=30)
    assert done.status == JobStatus.SUCCEEDED
    assert b"tick 29" in restarted.log_path(job_id).read_bytes()


def test_a_dead_job_becomes_failed_on_restart_and_keeps_its_log(engine: JobEngine, tmp_path: Path) -> None:
    record = engine.submit(spec(PRINTER, "1000", "0.05"))
    running = wait_for(lambda: (r := engine.get(record.id)).status == JobStatus.RUNNING and r, what="running")
    wait_for(lambda: b"LINE 1" in engine.log_path(record.id).read_bytes(), what="output")
    # Simulate a machine restart: supervisor and child vanish without recording anything.
    os.kill(running.supervisor_pid, signal.SIGKILL)
    os.killpg(running.pid, signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(running.pid) or psutil.Process(running.pid).status() == "zombie")
    time.sleep(0.2)
    fresh = JobEngine(tmp_path / "runs")
    assert fresh.reconcile() == [record.id]
    failed = fresh.get(record.id)
    assert failed.status == JobStatus.FAILED
    assert failed.reason == RESTARTED_REASON
    log = fresh.log_path(record.id).read_bytes()
    assert b"LINE 0" in log and RESTARTED_REASON.encode() in log


def test_a_running_child_without_supervisor_is_reattached(engine: JobEngine, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    record = engine.submit(spec(SLEEPER, str(marks), "1.0"))
    running = wait_for(lambda: (r := engine.get(record.id)).status == JobStatus.RUNNING and r, what="running")
    os.kill(running.supervisor_pid, signal.SIGKILL)
    time.sleep(0.2)
    fresh = JobEngine(tmp_path / "runs")
    assert fresh.reconcile() == []
    assert fresh.get(record.id).status == JobStatus.RUNNING
    done = fresh.wait(record.id, timeout=30)
    assert done.status == JobStatus.FAILED  # nobody could collect its exit code
    assert "exit status is unknown" in (done.reason or "")
    assert "end" in read_marks(marks)


def test_delete_refuses_active_jobs_and_removes_finished_ones(engine: JobEngine, tmp_path: Path) -> None:
    record = engine.submit(spec(SLEEPER, str(tmp_path / "m"), "1.0"))
    with pytest.raises(JobStateError):
        engine.delete(record.id)
    engine.wait(record.id, timeout=30)
    engine.delete(record.id)
    with pytest.raises(JobNotFound):
        engine.get(record.id)


@pytest.mark.parametrize("bad_id", ["../etc", "x", "", "20260101-000000-train-zzzzzz", "/abs"])
def test_unknown_or_hostile_job_ids(engine: JobEngine, bad_id: str) -> None:
    with pytest.raises(JobNotFound):
        engine.get(bad_id)


def test_no_zombies_are_left_behind(engine: JobEngine) -> None:
    ids = [engine.submit(spec(PRINTER, "1", "0")).id for _ in range(3)]
    for job_id in ids:
        engine.wait(job_id, timeout=30)
    time.sleep(0.5)
    zombies = [child for child in psutil.Process().children() if child.status() == psutil.STATUS_ZOMBIE]
    assert zombies == []


def test_tokens_reach_the_child_but_never_the_record(engine: JobEngine) -> None:
    from lora_studio.jobs.model import JobSpec

    code = "import os; print('token is', os.environ['CIVITAI_TOKEN'], os.environ['PLAIN'])"
    job = JobSpec(
        kind=JobKind.DOWNLOAD,
        title="secret",
        argv=(sys.executable, "-c", code),
        env={"CIVITAI_TOKEN": "s3cr3t-value", "PLAIN": "visible"},
    )
    record = engine.submit(job)
    done = engine.wait(record.id, timeout=30)
    assert done.status == JobStatus.SUCCEEDED
    assert b"token is s3cr3t-value visible" in engine.log_path(record.id).read_bytes()
    run_dir = engine.store.run_dir(record.id)
    assert "s3cr3t-value" not in (run_dir / "job.json").read_text()
    assert done.spec.env.get("PLAIN") == "visible"
    assert not any("secret" in path.name for path in run_dir.iterdir())


def test_foreign_programs_do_not_get_our_checkout_on_their_path(engine: JobEngine) -> None:
    from lora_studio.jobs.model import JobSpec

    code = "import os; print('PATH=' + os.environ.get('PYTHONPATH', '<none>'))"
    ours = engine.submit(JobSpec(kind=JobKind.OTHER, title="ours", argv=(sys.executable, "-c", code)))
    foreign = engine.submit(
        JobSpec(
            kind=JobKind.OTHER, title="foreign", argv=(sys.executable, "-c", code), imports_lora_studio=False
        )
    )
    for record in (ours, foreign):
        engine.wait(record.id, timeout=30)
    assert str(ROOT) in engine.log_path(ours.id).read_text()
    assert str(ROOT) not in engine.log_path(foreign.id).read_text().split("PATH=")[-1]


def test_required_outputs_in_a_folder_with_glob_characters(tmp_path: Path) -> None:
    from lora_studio.jobs.model import JobSpec

    folder = tmp_path / "odd [name]"
    folder.mkdir()
    engine = JobEngine(tmp_path / "runs")
    code = "open('lora.safetensors', 'w').write('x')"
    spec = JobSpec(
        kind=JobKind.OTHER,
        title="glob",
        argv=(sys.executable, "-c", code),
        cwd=str(folder),
        success=SuccessRules(require_files=("*.safetensors",)),
    )
    assert engine.wait(engine.submit(spec).id, timeout=30).status == JobStatus.SUCCEEDED

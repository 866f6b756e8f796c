"""What a job is: the spec a service submits and the record kept in ``runs/<id>/job.json``."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from lora_studio.core.types import JobKind, JobStatus

RECORD_VERSION = 1


class FailRule(BaseModel):
    """A log pattern that turns an exit code 0 into a failure (sd-scripts exits 0 on "No data found")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(description="regular expression searched in each log line")
    reason: str = Field(description="what the person is told when it matches")


class SuccessRules(BaseModel):
    """Conditions beyond exit code 0 that a job must meet to count as succeeded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fail_patterns: tuple[FailRule, ...] = ()
    # Glob patterns, relative to the job's cwd, of which each must match at least one file.
    require_files: tuple[str, ...] = ()


class JobSpec(BaseModel):
    """Everything needed to start a job; built by services, frozen into the record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: JobKind
    title: str
    argv: tuple[str, ...]
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    needs_gpu: bool | None = None  # None: decided by the kind
    success: SuccessRules = SuccessRules()
    # The tqdm description of the bar that is the job's progress ("steps" for sd-scripts); None: any bar.
    progress_desc: str | None = None
    # Free-form facts a feature keeps with its job (dataset name, output folder, ...).
    meta: dict[str, str] = Field(default_factory=dict)
    # Our workers run as ``python -m lora_studio...`` and need this checkout on PYTHONPATH; a foreign
    # program (sd-scripts) must not see our top-level folders (trainer/, tests/) shadowing its imports.
    imports_lora_studio: bool = True

    @property
    def uses_gpu(self) -> bool:
        return self.kind.needs_gpu if self.needs_gpu is None else self.needs_gpu


class JobRecord(BaseModel):
    """The on-disk record of one job; the supervisor process and the app update it under a lock."""

    model_config = ConfigDict(extra="forbid")

    version: int = RECORD_VERSION
    id: str
    spec: JobSpec
    status: JobStatus = JobStatus.QUEUED
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    pid: int | None = None
    supervisor_pid: int | None = None
    supervisor_started: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    stop_requested_at: float | None = None
    stop_grace_s: float = 10.0

    @property
    def kind(self) -> JobKind:
        return self.spec.kind

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def argv(self) -> tuple[str, ...]:
        return self.spec.argv

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.ended_at or time.time()) - self.started_at

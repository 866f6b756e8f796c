"""Closed choice sets shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class JobKind(StrEnum):
    TRAIN = "train"
    TAG = "tag"
    DOWNLOAD = "download"
    INSTALL = "install"
    UPLOAD = "upload"
    OTHER = "other"

    @property
    def needs_gpu(self) -> bool:
        """GPU work runs one job at a time; the rest start at once."""
        return self in (JobKind.TRAIN, JobKind.TAG)


class ModelFamily(StrEnum):
    SD15 = "sd15"
    SDXL = "sdxl"
    SD3 = "sd3"
    FLUX = "flux"

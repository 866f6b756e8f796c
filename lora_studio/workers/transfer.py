"""What the download and upload workers share: exit codes, the error they end with, log lines, the
progress bar the job engine reads, free-space and checksum checks. Worker processes only.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

EXIT_FAILED, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_OFFLINE, EXIT_DISK, EXIT_CHECKSUM = 1, 3, 4, 5, 6, 7
CHUNK = 1024 * 1024
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX40 = re.compile(r"^[0-9a-f]{40}$")


class WorkerError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class DownloadBar(tqdm):  # type: ignore[misc]  # tqdm ships no type hints
    """A plain tqdm bar named "download": renders even when stderr is a log file (the job's progress)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["desc"] = "download"
        kwargs.setdefault("mininterval", 1.0)
        kwargs["file"] = sys.stderr
        kwargs.pop("name", None)
        super().__init__(*args, **kwargs)


def log(message: str) -> None:
    print(message, flush=True)


def ensure_space(folder: Path, needed: int | None, keep_free: int) -> None:
    if not needed:
        return
    free = shutil.disk_usage(folder).free
    if free - needed < keep_free:
        raise WorkerError(
            f"Not enough disk space in {folder}: the download needs {needed / 1e9:.2f} GB, {free / 1e9:.2f} GB "
            f"are free and {keep_free / 1e9:.2f} GB are kept in reserve. Free some space and start it again.",
            EXIT_DISK,
        )


def file_digest(path: Path, algorithm: str, *, git_blob: bool = False) -> str:
    digest = hashlib.new(algorithm)
    size = path.stat().st_size
    if git_blob:  # git hashes "blob <size>\0" + content
        digest.update(f"blob {size}\0".encode())
    with (
        path.open("rb") as handle,
        DownloadBar(total=size, unit="B", unit_scale=True, disable=size < 1e8) as bar,
    ):
        bar.set_description("verify")
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def check_etag(path: Path, etag: str | None) -> None:
    """Compare the file with the Hub's ETag when it is a content hash; delete it on a mismatch."""
    etag = (etag or "").strip('"').lower()
    if HEX64.match(etag):
        actual, what = file_digest(path, "sha256"), "sha256"
    elif HEX40.match(etag):
        actual, what = file_digest(path, "sha1", git_blob=True), "git sha1"
    else:
        log("checksum: the server gives none for this file; skipped")
        return
    if actual != etag:
        path.unlink(missing_ok=True)
        raise WorkerError(
            f"The downloaded {path.name} does not match the Hub's {what} ({actual} instead of {etag}); "
            "it was deleted. Start the download again.",
            EXIT_CHECKSUM,
        )
    log(f"checksum: {what} matches")


def os_error(error: OSError) -> WorkerError:
    if error.errno == errno.ENOSPC:
        return WorkerError(
            "The disk is full; the download stopped. Free some space and start it again.", EXIT_DISK
        )
    return WorkerError(f"The download failed: {error}")

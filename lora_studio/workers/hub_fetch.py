"""Hub downloads that survive the death of their process: a partial file we keep, resumed with HTTP Range.

huggingface_hub 2.4.0 cannot resume across processes: ``file_download._download_to_tmp_and_move`` writes
every download to a process-unique ``<etag>.<uuid8>.incomplete`` file and unlinks it in a ``finally``
(huggingface_hub PR #4228), so a stopped job leaves nothing and a killed one leaves an orphan that no later
call reuses. Its ``http_get`` does take ``resume_size`` (and retries dropped connections within one
process), so we hand it a partial file of our own: ``.<name>.<etag16>.part`` next to the target. The etag
in the name means a file that changed on the Hub never resumes a stale partial.

Run only inside the download worker process (imports huggingface_hub and filelock).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PART_SUFFIX = ".part"


class FetchBusy(Exception):
    """Another process is downloading the same file right now."""


def partial_path(target: Path, etag: str) -> Path:
    """Where the bytes of ``target`` collect until they are complete and checked."""
    return target.parent / f".{target.name}.{etag[:16]}{PART_SUFFIX}"


def fetch_resumable(
    url: str,
    location: str,
    part: Path,
    *,
    size: int | None,
    tqdm_class: type[Any],
) -> None:
    """Download ``location`` into ``part``, continuing from the bytes already there.

    ``url`` is the ``/resolve/`` address asked for; the token is sent to ``location`` only when it is on
    the same host (a signed CDN address must not receive it).

    Raises:
        FetchBusy: another process holds this partial file.
        huggingface_hub errors / httpx2 errors / OSError: as ``huggingface_hub.file_download.http_get``.
    """
    from filelock import FileLock, Timeout
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]  # lazily re-exported

    headers = build_hf_headers()
    if urlsplit(location).netloc != urlsplit(url).netloc:
        headers.pop("authorization", None)
    part.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(part) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout as error:
        raise FetchBusy(f"another download of {part.parent} is writing {part.name}") from error
    try:
        done = part.stat().st_size if part.exists() else 0
        if size is not None and done > size:  # not ours to trust: start over
            done = 0
        with part.open("r+b" if part.exists() else "wb") as handle:
            handle.truncate(done)
            handle.seek(done)
            http_get(
                location, handle, resume_size=done, headers=headers, expected_size=size, tqdm_class=tqdm_class
            )
    finally:
        lock.release()
        Path(lock.lock_file).unlink(missing_ok=True)

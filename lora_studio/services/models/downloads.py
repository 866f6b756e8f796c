"""Download requests → job specs for ``python -m lora_studio.workers.download``.

Pure apart from one injected free-space probe: nothing here touches the network. Tokens never go into
argv or meta (both are saved in the job record): a URL token travels in the job's environment under
``TOKEN_ENV``, and Hub tokens stay in huggingface_hub's own store / ``HF_TOKEN``, which the worker
inherits.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from lora_studio.config.catalog import Catalog, CatalogEntry, ModelKind, models_subfolder
from lora_studio.core.errors import InsufficientDiskSpace, InvalidInput
from lora_studio.core.paths import relative_inside, safe_name
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind, ModelFamily
from lora_studio.jobs.model import JobSpec

WORKER_MODULE = "lora_studio.workers.download"
TOKEN_ENV = "LORA_STUDIO_DOWNLOAD_TOKEN"
PROGRESS_DESC = "download"
# Never fill the disk to the last byte: the app, logs and training outputs need room too.
DEFAULT_KEEP_FREE_BYTES = 512 * 1024 * 1024
# Query parameters that carry credentials in download links (Civitai uses ?token=).
_SECRET_QUERY_KEYS = frozenset({"token", "api_key", "apikey", "access_token"})

FreeBytes = Callable[[Path], int]


class CatalogDownload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["catalog"] = "catalog"
    entry_id: str


class HubDownload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["hub"] = "hub"
    repo_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    filename: str = Field(min_length=1)
    revision: str | None = None
    kind: ModelKind = ModelKind.UNKNOWN
    family: ModelFamily | None = None


class UrlDownload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["url"] = "url"
    url: str = Field(min_length=8)
    filename: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    kind: ModelKind = ModelKind.UNKNOWN
    family: ModelFamily | None = None


DownloadRequest = CatalogDownload | HubDownload | UrlDownload


def disk_free_bytes(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def download_job_spec(
    settings: Settings,
    request: DownloadRequest,
    *,
    catalog: Catalog,
    token: str | None = None,
    python: str = sys.executable,
    keep_free_bytes: int = DEFAULT_KEEP_FREE_BYTES,
    free_bytes: FreeBytes = disk_free_bytes,
) -> JobSpec:
    """The job that downloads ``request`` into ``settings.models_dir/<family or kind>/``.

    Raises:
        ModelNotFound: a catalog id that is not in the catalog.
        InvalidInput / InvalidName / PathEscape: a bad URL, repo file name or target name.
        InsufficientDiskSpace: the size is known and the disk cannot hold it plus ``keep_free_bytes``.
    """
    if isinstance(request, CatalogDownload):
        entry = catalog.get(request.entry_id)
        check_free_space(settings.models_dir, entry.size_bytes, keep_free_bytes, free_bytes)
        return _hub_spec(settings, entry, python=python, keep_free_bytes=keep_free_bytes, catalog_id=entry.id)
    if isinstance(request, HubDownload):
        relative_inside(settings.models_dir, request.filename)  # a clear error before the schema's
        entry = CatalogEntry(
            id="adhoc",
            name=request.filename,
            kind=request.kind,
            family=request.family,
            repo_id=request.repo_id,
            filename=request.filename,
            revision=request.revision,
            licence="see the repository page",
        )
        return _hub_spec(settings, entry, python=python, keep_free_bytes=keep_free_bytes, catalog_id=None)
    return _url_spec(settings, request, token=token, python=python, keep_free_bytes=keep_free_bytes)


def check_free_space(
    folder: Path, size_bytes: int | None, keep_free_bytes: int, free_bytes: FreeBytes
) -> None:
    """Refuse to start a download that cannot fit.

    Raises:
        InsufficientDiskSpace: ``size_bytes + keep_free_bytes`` exceeds the free space.
    """
    if size_bytes is None:
        return
    free = free_bytes(folder)
    if free - size_bytes < keep_free_bytes:
        raise InsufficientDiskSpace(
            f"Not enough disk space: the download needs about {_gb(size_bytes)} and {folder} has "
            f"{_gb(free)} free (keeping {_gb(keep_free_bytes)} in reserve).",
            hint="Delete unused models or point the workspace at a bigger disk.",
        )


def hub_dest_dir(settings: Settings, entry: CatalogEntry) -> Path:
    """``models/<family or kind>/<org>--<repo>/``: one folder per repository, so same-named files never clash."""
    return settings.models_dir / entry.subfolder / entry.repo_id.replace("/", "--")


def _hub_spec(
    settings: Settings,
    entry: CatalogEntry,
    *,
    python: str,
    keep_free_bytes: int,
    catalog_id: str | None,
) -> JobSpec:
    dest = hub_dest_dir(settings, entry)
    target = relative_inside(dest, entry.filename)  # refuses "..", absolute and hidden names
    argv = [python, "-m", WORKER_MODULE, "hub", "--repo-id", entry.repo_id, "--filename", entry.filename]
    argv += ["--dest", str(dest), "--keep-free", str(keep_free_bytes)]
    if entry.revision:
        argv += ["--revision", entry.revision]
    argv += ["--licence-url", entry.page_url]
    meta = {"source": "hub", "repo_id": entry.repo_id, "filename": entry.filename, "target": str(target)}
    if catalog_id is not None:
        meta["catalog_id"] = catalog_id
    return JobSpec(
        kind=JobKind.DOWNLOAD,
        title=f"Download {Path(entry.filename).name} from {entry.repo_id}",
        argv=tuple(argv),
        progress_desc=PROGRESS_DESC,
        meta=meta,
    )


def _url_spec(
    settings: Settings, request: UrlDownload, *, token: str | None, python: str, keep_free_bytes: int
) -> JobSpec:
    url, url_token = split_url_token(request.url)
    token = token or url_token
    dest = settings.models_dir / models_subfolder(request.kind, request.family)
    argv = [python, "-m", WORKER_MODULE, "url", "--url", url, "--dest", str(dest)]
    argv += ["--keep-free", str(keep_free_bytes)]
    if request.filename is not None:
        argv += ["--filename", safe_name(request.filename)]
    if request.sha256:
        argv += ["--sha256", request.sha256.lower()]
    env = {}
    if token:
        argv += ["--token-env", TOKEN_ENV]
        env[TOKEN_ENV] = token
    host = urlsplit(url).hostname or "?"
    return JobSpec(
        kind=JobKind.DOWNLOAD,
        title=f"Download {request.filename or Path(urlsplit(url).path).name or 'file'} from {host}",
        argv=tuple(argv),
        env=env,
        progress_desc=PROGRESS_DESC,
        meta={"source": "url", "url": url, "dest_dir": str(dest)},
    )


def split_url_token(url: str) -> tuple[str, str | None]:
    """Check a download URL and move a credential in its query (``?token=``) out of it.

    Raises:
        InvalidInput: not an http(s) URL with a host.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{url!r} is not an http(s) download link.", hint="Paste the full https:// address."
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    secrets = [value for key, value in query if key.lower() in _SECRET_QUERY_KEYS and value]
    kept = [(key, value) for key, value in query if key.lower() not in _SECRET_QUERY_KEYS]
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))
    return clean, (secrets[0] if secrets else None)


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB"

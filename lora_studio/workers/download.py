"""Download worker, run as a job: ``python -m lora_studio.workers.download hub|url ...``.

- ``hub``: a new file goes into a kept ``.<name>.<etag16>.part`` through huggingface_hub's ``http_get``
  (its token store / ``HF_TOKEN``, its retries with HTTP Range), so a later run after a crash or a stop
  resumes it (see ``hub_fetch``); an existing file goes through ``hf_hub_download(local_dir=--dest)``,
  which checks it is current. A free-space check from the Hub's file size before, and a checksum check
  after (the Hub's ETag is the sha256 of LFS files and the git blob sha1 of small ones).
- ``url``: any http(s) link into a hidden ``.<hash>.part`` file, resumed with HTTP Range (also in a later
  run), an optional bearer token read from an environment variable, the name from Content-Disposition.

Plain lines go to stdout, the tqdm bar (desc ``download``) to stderr. Exit codes: 0 done, 1 failed,
3 unauthorised or gated, 4 not found, 5 offline, 6 disk full, 7 checksum mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lora_studio.core.errors import InvalidName
from lora_studio.core.paths import safe_name
from lora_studio.core.settings import load_settings
from lora_studio.workers.hub_fetch import FetchBusy, fetch_resumable, partial_path
from lora_studio.workers.transfer import (
    CHUNK,
    EXIT_AUTH,
    EXIT_CHECKSUM,
    EXIT_NOT_FOUND,
    EXIT_OFFLINE,
    HEX64,
    DownloadBar,
    WorkerError,
    check_etag,
    ensure_space,
    file_digest,
    log,
    os_error,
)

# --- Hub -------------------------------------------------------------------------------------------


def run_hub(args: argparse.Namespace) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / args.filename
    log(f"Hub download: {args.repo_id} / {args.filename} (revision {args.revision or 'main'})")
    log(f"into: {target}")
    before = _stamp(target)
    url = hf_hub_url(args.repo_id, args.filename, revision=args.revision)
    with hub_errors(args.repo_id, args.filename, args.licence_url):
        meta = get_hf_file_metadata(url)
        if meta.size is not None:
            log(f"size: {meta.size / 1e9:.3f} GB")
        if before is None and meta.etag and not _in_hf_cache(args, meta.commit_hash):
            fetch_new_file(args, target, url, meta)
            return
        ensure_space(dest, (meta.size or 0) - (target.stat().st_size if before else 0), args.keep_free)
        # An existing file: huggingface_hub decides whether it is up to date (and replaces it if not).
        path = Path(
            hf_hub_download(
                args.repo_id, args.filename, revision=args.revision, local_dir=dest, tqdm_class=DownloadBar
            )
        )
    if before is None or _stamp(path) != before or args.verify:
        check_etag(path, meta.etag)
    else:
        log("already downloaded and up to date")
    log(f"saved: {path}")


def fetch_new_file(args: argparse.Namespace, target: Path, url: str, meta: Any) -> None:
    """Download into a kept partial file (resumed by a later run after a crash), check it, move it in place."""
    part = partial_path(target, meta.etag)
    done = part.stat().st_size if part.exists() else 0
    if done:
        log(f"resuming a partial download at {done / 1e9:.3f} GB")
    ensure_space(target.parent, (meta.size or 0) - done, args.keep_free)
    try:
        fetch_resumable(url, meta.location, part, size=meta.size, tqdm_class=DownloadBar)
    except FetchBusy as error:
        raise WorkerError(
            f"The same file is already being downloaded ({error}); wait for that job."
        ) from error
    check_etag(part, meta.etag)
    part.replace(target)
    _record_for_hub(args, meta)
    log(f"saved: {target}")


def _in_hf_cache(args: argparse.Namespace, commit: str | None) -> bool:
    """Whether huggingface_hub's own cache holds this file (then it copies it rather than download it)."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(args.repo_id, args.filename, revision=commit) if commit else None
    return isinstance(cached, str)


def _record_for_hub(args: argparse.Namespace, meta: Any) -> None:
    """Leave the note ``hf_hub_download(local_dir=...)`` leaves, so a later run knows the file is current."""
    try:  # a private helper of huggingface_hub; without it a later run re-hashes the file once
        from huggingface_hub._local_folder import write_download_metadata
    except ImportError:
        return
    if meta.commit_hash:
        write_download_metadata(
            local_dir=Path(args.dest), filename=args.filename, commit_hash=meta.commit_hash, etag=meta.etag
        )


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


@contextmanager
def hub_errors(repo_id: str, filename: str, licence_url: str | None) -> Iterator[None]:
    """Turn huggingface_hub's errors into one clear line and an exit code."""
    import httpx2
    from huggingface_hub import errors as hf

    page = licence_url or f"https://huggingface.co/{repo_id}"
    token_help = "set HF_TOKEN (or save a token in the Models tab) to a token of an account that has access"
    try:
        yield
    except hf.GatedRepoError as error:
        raise WorkerError(
            f"{repo_id} is gated: open {page}, log in and accept its licence, then {token_help}.", EXIT_AUTH
        ) from error
    except hf.RepositoryNotFoundError as error:
        if _status(error) == 404:
            raise WorkerError(
                f"There is no repository {repo_id} on the Hub; check the id.", EXIT_NOT_FOUND
            ) from error
        raise WorkerError(
            f"{repo_id} was not found or is private/gated (HTTP {_status(error)}): check the id; if it is "
            f"private or gated, accept its terms at {page} and {token_help}.",
            EXIT_AUTH,
        ) from error
    except hf.RevisionNotFoundError as error:
        raise WorkerError(
            f"{repo_id} has no such revision; check the branch or commit.", EXIT_NOT_FOUND
        ) from error
    except hf.LocalEntryNotFoundError as error:
        raise WorkerError(_offline_message(error), EXIT_OFFLINE) from error
    except hf.RemoteEntryNotFoundError as error:
        raise WorkerError(
            f"{repo_id} has no file {filename}; check the file name.", EXIT_NOT_FOUND
        ) from error
    except hf.OfflineModeIsEnabled as error:
        raise WorkerError(_offline_message(error), EXIT_OFFLINE) from error
    except hf.HfHubHTTPError as error:
        if _status(error) in (401, 403):
            raise WorkerError(
                f"The Hub refused {repo_id} (HTTP {_status(error)}): accept its licence at {page} and {token_help}.",
                EXIT_AUTH,
            ) from error
        raise WorkerError(
            f"The Hub answered HTTP {_status(error)} for {repo_id}/{filename}: {error}"
        ) from error
    except httpx2.TransportError as error:
        raise WorkerError(_offline_message(error), EXIT_OFFLINE) from error
    except OSError as error:
        raise os_error(error) from error


def _status(error: Any) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _offline_message(error: BaseException) -> str:
    return (
        f"Cannot reach the Hugging Face Hub ({error.__class__.__name__}). Check the internet connection, a proxy "
        "or HF_ENDPOINT; HF_HUB_OFFLINE=1 turns downloads off."
    )


# --- URL -------------------------------------------------------------------------------------------


def run_url(args: argparse.Namespace) -> None:
    token = load_settings().env.get(args.token_env) if args.token_env else None
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    part = dest / f".{hashlib.sha1(args.url.encode()).hexdigest()[:16]}.part"
    log(f"URL download: {args.url}")
    holder: list[Any] = [None]  # the one progress bar, kept across resumes
    try:
        for attempt in range(args.retries + 1):
            try:
                final, expected_sha = _fetch_once(args, part, token, dest, holder)
                break
            except (http.client.IncompleteRead, ConnectionError, TimeoutError) as error:
                if attempt >= args.retries:
                    raise WorkerError(
                        f"The connection kept dropping ({error!r}); start the download again to resume."
                    ) from error
                log(f"connection lost after {part.stat().st_size if part.exists() else 0} bytes; resuming")
                time.sleep(args.retry_wait)
    finally:
        if holder[0] is not None:
            holder[0].close()
    sha = args.sha256 or expected_sha
    if sha:
        actual = file_digest(part, "sha256")
        if actual != sha:
            part.unlink()
            raise WorkerError(
                f"The download does not match sha256 {sha} (got {actual}); it was deleted.", EXIT_CHECKSUM
            )
        log("checksum: sha256 matches")
    part.replace(final)
    log(f"saved: {final}")


def _fetch_once(
    args: argparse.Namespace, part: Path, token: str | None, dest: Path, bar_holder: list[Any]
) -> tuple[Path, str | None]:
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(
        args.url, headers={"User-Agent": "lora-studio", "Accept-Encoding": "identity"}
    )
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    if token:  # unredirected: the bearer token is not sent on to the CDN a link redirects to
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    try:
        response = urllib.request.urlopen(request, timeout=args.timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the part is already complete (or stale): start over once
            part.unlink()
            raise ConnectionError("range not satisfiable; restarting") from error
        raise _http_error(error, args.url) from error
    except urllib.error.URLError as error:
        raise WorkerError(
            f"Cannot reach {urlsplit(args.url).hostname}: {error.reason}. Check the connection.", EXIT_OFFLINE
        ) from error
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored Range: start from the beginning
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        final = dest / _target_name(args, response.headers)
        if final.exists():
            raise WorkerError(f"{final} already exists; delete it first or choose another file name.")
        ensure_space(dest, (total or 0) - offset, args.keep_free)
        if bar_holder[0] is None:
            log(f"to: {final}" + (f" ({total / 1e9:.3f} GB)" if total else ""))
            bar_holder[0] = DownloadBar(total=total, initial=offset, unit="B", unit_scale=True)
        bar = bar_holder[0]
        bar.n = offset
        linked = (response.headers.get("X-Linked-ETag") or "").strip('"').lower()
        try:
            with part.open("ab" if offset else "wb") as handle:
                while chunk := response.read(CHUNK):
                    handle.write(chunk)
                    bar.update(len(chunk))
        except OSError as error:
            if isinstance(error, ConnectionError | TimeoutError):
                raise
            raise os_error(error) from error
    if total is not None and part.stat().st_size < total:
        raise http.client.IncompleteRead(b"", total - part.stat().st_size)
    return final, (linked if HEX64.match(linked) else None)


def _target_name(args: argparse.Namespace, headers: Message) -> str:
    """--filename, else Content-Disposition, else the URL's last path part, made safe for the disk."""
    if args.filename:
        return safe_name(str(args.filename))
    message = Message()
    message["content-disposition"] = headers.get("Content-Disposition", "")
    raw = message.get_filename() or unquote(Path(urlsplit(args.url).path).name) or "download"
    raw = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r'[/\\:*?"<>|\x00-\x1f]', "_", raw).strip().lstrip(".") or "download"
    try:
        return safe_name(cleaned)
    except InvalidName:
        return f"download-{hashlib.sha1(raw.encode()).hexdigest()[:12]}{Path(cleaned).suffix[:16]}"


def _http_error(error: urllib.error.HTTPError, url: str) -> WorkerError:
    host = urlsplit(url).hostname or ""
    if error.code in (401, 403):
        hint = (
            "For Civitai, create an API key (Account settings → API keys) and give it as the download token."
            if "civitai" in host
            else "The link needs a login or an access token; give one as the download token."
        )
        return WorkerError(f"{host} refused the download (HTTP {error.code}). {hint}", EXIT_AUTH)
    if error.code == 404:
        return WorkerError(f"Nothing at {url} (HTTP 404); check the link.", EXIT_NOT_FOUND)
    return WorkerError(f"{host} answered HTTP {error.code} {error.reason}; try again later.")


# --- entry point -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lora_studio.workers.download", description=__doc__)
    sub = parser.add_subparsers(dest="source", required=True)
    hub = sub.add_parser("hub", help="a file of a Hugging Face Hub repository")
    hub.add_argument("--repo-id", required=True)
    hub.add_argument("--filename", required=True)
    hub.add_argument("--revision")
    hub.add_argument("--licence-url", help="where a gated licence is accepted (for the error message)")
    hub.add_argument(
        "--verify", action="store_true", help="check the checksum even if nothing was downloaded"
    )
    hub.set_defaults(run=run_hub)
    url = sub.add_parser("url", help="a direct http(s) link")
    url.add_argument("--url", required=True)
    url.add_argument("--filename", help="save under this name (default: the server's or the link's)")
    url.add_argument("--sha256", help="expected sha256 of the file")
    url.add_argument("--token-env", help="environment variable holding a bearer token")
    url.add_argument("--retries", type=int, default=5, help="resumes after a dropped connection")
    url.add_argument("--retry-wait", type=float, default=2.0, help="seconds between resumes")
    url.add_argument("--timeout", type=float, default=60.0, help="seconds without data before giving up")
    url.set_defaults(run=run_url)
    for each in (hub, url):
        each.add_argument("--dest", required=True, help="folder to save into")
        each.add_argument("--keep-free", type=int, default=0, help="bytes that must stay free on the disk")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except WorkerError as error:
        print(f"ERROR: {error.message}", file=sys.stderr, flush=True)
        return error.code
    except KeyboardInterrupt:
        print("Stopped. The partial download is kept and resumes next time.", file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

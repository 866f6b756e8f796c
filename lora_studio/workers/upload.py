"""Upload worker, run as a job: ``python -m lora_studio.workers.upload --file F --repo-id R ...``.

``HfApi.create_repo(exist_ok=True)`` (private if asked; an existing repo keeps its visibility), then one
``create_commit`` with the file (LFS for weights) and, when ``--card-file`` is given and the repository has
no README.md yet, that model card as README.md. The token is huggingface_hub's (``HF_TOKEN`` or its token
store), as for downloads. The card file is a temporary file the service wrote; it is deleted at the end.

Plain lines go to stdout, huggingface_hub's upload bar to stderr. Exit codes: 0 done, 1 failed,
3 no token / unauthorised / not allowed, 4 not found, 5 offline.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lora_studio.workers.transfer import (
    EXIT_AUTH,
    EXIT_NOT_FOUND,
    EXIT_OFFLINE,
    WorkerError,
    log,
    os_error,
)

TOKEN_PAGE = "https://huggingface.co/settings/tokens"
SET_TOKEN = (
    f"Create a token with the Write role at {TOKEN_PAGE}, then save it under Hugging Face token in the "
    "Models tab or set HF_TOKEN"
)


def upload(args: argparse.Namespace) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    file = Path(args.file)
    if not file.is_file():
        raise WorkerError(f"{file} is gone; pick the LoRA again.", EXIT_NOT_FOUND)
    if get_token() is None:
        raise WorkerError(
            f"No Hugging Face token is set, so the Hub would refuse the upload. {SET_TOKEN}.", EXIT_AUTH
        )
    log(f"Upload: {file} ({file.stat().st_size / 1e6:.1f} MB) → {args.repo_id}/{args.path_in_repo}")
    api = HfApi()
    with upload_errors(args.repo_id):
        url = api.create_repo(args.repo_id, private=args.private or None, exist_ok=True)
        log(f"repository: {url}")
        operations = [CommitOperationAdd(path_in_repo=args.path_in_repo, path_or_fileobj=str(file))]
        card = Path(args.card_file) if args.card_file else None
        if card is not None and not api.file_exists(args.repo_id, "README.md"):
            operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.read_bytes()))
            log("model card: README.md added")
        elif card is not None:
            log("model card: the repository has a README.md already; left as it is")
        commit = api.create_commit(
            args.repo_id, operations=operations, commit_message=f"Upload {args.path_in_repo} with LoRA Studio"
        )
    log(f"commit: {commit.commit_url}")
    log(f"uploaded: {url}/blob/main/{args.path_in_repo}")


@contextmanager
def upload_errors(repo_id: str) -> Iterator[None]:
    """Turn huggingface_hub's errors into one clear line and an exit code."""
    import httpx2
    from huggingface_hub import errors as hf

    try:
        yield
    except hf.OfflineModeIsEnabled as error:
        raise WorkerError(
            "HF_HUB_OFFLINE=1 is set, so nothing can be uploaded; unset it.", EXIT_OFFLINE
        ) from error
    except hf.HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status == 401:
            raise WorkerError(
                f"The Hub refused the token (HTTP 401): it is invalid, expired or revoked. {SET_TOKEN}.",
                EXIT_AUTH,
            ) from error
        if status == 403:
            raise WorkerError(
                f"The Hub refused to write to {repo_id} (HTTP 403): the namespace is another account's or an "
                f"organization you cannot write to, or the token has only the Read role. Use a repository "
                f"under your own account name, or: {SET_TOKEN}.",
                EXIT_AUTH,
            ) from error
        if status == 404:
            raise WorkerError(
                f"The Hub has no repository {repo_id} (HTTP 404); check the id.", EXIT_NOT_FOUND
            ) from error
        raise WorkerError(f"The Hub answered HTTP {status} for {repo_id}: {error}") from error
    except httpx2.TransportError as error:
        raise WorkerError(
            f"Cannot reach the Hugging Face Hub ({error.__class__.__name__}). Check the internet connection, a proxy "
            "or HF_ENDPOINT, then start the upload again.",
            EXIT_OFFLINE,
        ) from error
    except OSError as error:
        raise os_error(error) from error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lora_studio.workers.upload", description=__doc__)
    parser.add_argument("--file", required=True, help="the LoRA file to upload")
    parser.add_argument("--repo-id", required=True, help="owner/name of the model repository")
    parser.add_argument("--path-in-repo", required=True, help="where the file goes in the repository")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--card-file", help="a README.md to add when the repository has none (deleted after)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        upload(args)
    except WorkerError as error:
        print(f"ERROR: {error.message}", file=sys.stderr, flush=True)
        return error.code
    except KeyboardInterrupt:
        print("Stopped. Nothing was committed; start the upload again.", file=sys.stderr, flush=True)
        return 130
    finally:
        if args.card_file:
            Path(args.card_file).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

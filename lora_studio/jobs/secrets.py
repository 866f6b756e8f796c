"""Keep tokens out of job records: secret environment values travel in a private file the supervisor consumes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

SECRET_FILE = ".secret-env.json"
_SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY)", re.IGNORECASE)


def split_secrets(env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(values safe to record, secret values); secrets are named like ``HF_TOKEN`` or ``*_API_KEY``."""
    public = {key: value for key, value in env.items() if not _SECRET_NAME.search(key)}
    secret = {key: value for key, value in env.items() if _SECRET_NAME.search(key)}
    return public, secret


def write_secret_env(run_dir: Path, secrets: dict[str, str]) -> None:
    """Write ``secrets`` readable by this user only (created with mode 0600, never world-readable)."""
    path = run_dir / SECRET_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(secrets, handle)


def take_secret_env(run_dir: Path) -> dict[str, str]:
    """Read and delete the secrets file (once the child has them, no copy stays on disk)."""
    path = run_dir / SECRET_FILE
    try:
        secrets: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    path.unlink(missing_ok=True)
    return secrets

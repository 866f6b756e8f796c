"""Hand a file to a download button without exposing the folder it lives in.

The web server only serves files from the system temp folder (and its own cache), never from the
workspace, so a download gets a hard link (a copy across file systems) in a fresh temp folder. Old
exports are pruned on the next export.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)
EXPORT_DIR_NAME = "lora-studio-exports"
# The web server copies a returned file into its cache at once; an hour is plenty.
MAX_AGE_S = 3600.0


def export_root() -> Path:
    return Path(tempfile.gettempdir()) / EXPORT_DIR_NAME


def export_file(file: Path, *, root: Path | None = None, max_age_s: float = MAX_AGE_S) -> Path:
    """A link to (or copy of) ``file`` under ``root`` (default: the system temp folder), same name."""
    base = root if root is not None else export_root()
    base.mkdir(parents=True, exist_ok=True)
    prune_exports(base, max_age_s=max_age_s)
    target = Path(tempfile.mkdtemp(prefix="export-", dir=base)) / file.name
    try:
        os.link(file, target)
    except OSError:  # another file system, or links not allowed: copy instead
        shutil.copyfile(file, target)
    return target


def prune_exports(base: Path, *, max_age_s: float = MAX_AGE_S, now: float | None = None) -> int:
    """Delete export folders older than ``max_age_s``; returns how many were removed."""
    cutoff = (time.time() if now is None else now) - max_age_s
    removed = 0
    for folder in base.glob("export-*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed += 1
        except OSError as error:  # another process pruned it first, or it is in use: try next time
            log.warning("could not prune the old export %s: %s", folder, error)
    return removed

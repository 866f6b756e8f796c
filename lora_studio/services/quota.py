"""The workspace size limit of a shared demo (a Hugging Face Space)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.core.sizes import format_size


def folder_size(folder: Path) -> int:
    """Bytes of every file below ``folder`` (symlinks are not followed)."""
    total = 0
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def input_size(paths: Iterable[Path]) -> int:
    return sum(folder_size(path) if path.is_dir() else path.stat().st_size for path in paths if path.exists())


def ensure_room(settings: Settings, incoming: int) -> None:
    """Refuse work that would take the workspace past its limit (no limit: nothing to check).

    Raises:
        InvalidInput: the limit would be exceeded; the message says by how much.
    """
    if settings.workspace_limit is None:
        return
    used = folder_size(settings.workspace)
    if used + incoming > settings.workspace_limit:
        raise InvalidInput(
            f"This would take the workspace to {format_size(used + incoming)}, over its limit of "
            f"{format_size(settings.workspace_limit)} ({format_size(used)} already used).",
            hint="Delete datasets or models you no longer need, or upload fewer images.",
        )

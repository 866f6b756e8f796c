"""Which folder on this machine a person may import from ("import from a server folder").

People on rented GPUs often have their images on the server already. When the app is reachable
by others (a share link or a public bind), reading any folder of the server would let anyone with
the address copy files they should not see into a dataset and browse them; then only folders inside
the workspace are allowed.
"""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.errors import InvalidInput


def resolve_server_folder(text: str, *, workspace: Path, public: bool) -> Path:
    """The folder ``text`` names, resolved (symlinks followed); relative paths start at the workspace.

    Raises:
        InvalidInput: empty, not an existing folder, or (when ``public``) outside the workspace.
    """
    cleaned = text.strip()
    if not cleaned or "\x00" in cleaned:
        raise InvalidInput(
            "Type the path of a folder on the server.", hint="For example /workspace/my-images."
        )
    given = Path(cleaned).expanduser()
    root = workspace.resolve()
    folder = (given if given.is_absolute() else root / given).resolve()
    if public and not folder.is_relative_to(root):
        raise InvalidInput(
            f"Importing from {cleaned!r} is refused: this app is reachable from other machines (a share "
            f"link or a public address), so server folders are limited to the workspace {root}.",
            hint="Move or copy the folder into the workspace, or upload the images or a zip instead.",
        )
    if not folder.is_dir():
        raise InvalidInput(
            f"{cleaned!r} is not a folder on the server ({folder}).",
            hint="Check the path; relative paths start at the workspace.",
        )
    return folder

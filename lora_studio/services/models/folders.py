"""Extra model folders a person names (e.g. a ComfyUI models folder), saved in ``models/extra_folders.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from lora_studio.core.atomic import write_json_atomic
from lora_studio.core.errors import ConfigInvalid, InvalidInput

FOLDERS_FILE = "extra_folders.json"
FOLDERS_VERSION = 1


class ExtraFolders(BaseModel):
    """The saved list: absolute folder paths, in the order the person gave them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = FOLDERS_VERSION
    folders: tuple[str, ...] = ()


def load_extra_folders(models_dir: Path) -> tuple[Path, ...]:
    """The saved extra folders (none when nothing was saved).

    Raises:
        ConfigInvalid: the file exists but cannot be read as the schema.
    """
    path = models_dir / FOLDERS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigInvalid(f"{path} is not valid JSON ({error}); fix or delete the file.") from error
    try:
        saved = ExtraFolders.model_validate(data)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()]
        raise ConfigInvalid(f"{path} is invalid.", problems=problems) from error
    return tuple(Path(folder) for folder in saved.folders)


def check_folder(text: str, models_dir: Path) -> Path:
    """An existing absolute folder that is neither the file system root nor inside (or above) models/.

    Raises:
        InvalidInput: any of those is not the case.
    """
    folder = Path(text.strip()).expanduser()
    if not folder.is_absolute():
        raise InvalidInput(
            f"{text!r} is not an absolute path.", hint="Give the full path, e.g. /workspace/ComfyUI/models."
        )
    folder = folder.resolve()
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder on this machine.", hint="Check the path.")
    if folder == Path(folder.anchor):
        raise InvalidInput(
            "The whole file system cannot be listed.", hint="Name the folder that holds the models."
        )
    models = models_dir.resolve()
    if folder.is_relative_to(models) or models.is_relative_to(folder):
        raise InvalidInput(
            f"{folder} overlaps the workspace's models folder, which is always listed.",
            hint="Name a folder outside the workspace.",
        )
    return folder


def save_extra_folders(models_dir: Path, folders: Sequence[str]) -> tuple[Path, ...]:
    """Check and save the extra folders (blank entries and duplicates dropped); returns what was saved.

    Raises:
        InvalidInput: a folder that ``check_folder`` refuses; nothing is saved then.
    """
    checked = tuple(dict.fromkeys(check_folder(text, models_dir) for text in folders if text.strip()))
    saved = ExtraFolders(folders=tuple(str(folder) for folder in checked))
    write_json_atomic(models_dir / FOLDERS_FILE, saved.model_dump(mode="json"))
    return checked

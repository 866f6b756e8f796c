"""People's own training configs as files: import an uploaded .toml, export the current config.

Saving, loading and listing by name are ``config.presets``' ``save_user_config`` & co.; this module
adds what needs a temp folder or an upload.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from lora_studio.config.presets import config_from_toml, config_to_toml
from lora_studio.config.training import TrainingConfig
from lora_studio.core.atomic import write_text_atomic
from lora_studio.core.errors import ConfigInvalid, InvalidInput
from lora_studio.core.paths import safe_name

# A config is a few kB; anything much larger is not one.
MAX_IMPORT_BYTES = 1024 * 1024


def import_config(path: Path) -> TrainingConfig:
    """Read an uploaded config file (TOML, as exported or saved) through the migrations and the schema.

    Raises:
        InvalidInput: no such file, too large, or not UTF-8 text. ConfigInvalid: not a valid config.
    """
    try:
        size = path.stat().st_size
    except OSError:
        raise InvalidInput(f"The uploaded file {path.name} is gone; upload it again.") from None
    if size > MAX_IMPORT_BYTES:
        raise InvalidInput(
            f"{path.name} is {size // 1024} kB: too large for a training config.",
            hint="Import a .toml file exported or saved by LoRA Studio.",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigInvalid(f"{path.name} is not UTF-8 text; export it again as TOML.") from None
    return config_from_toml(text, source=path.name)


def export_config(config: TrainingConfig, name: str | None = None) -> Path:
    """The config as ``<name>.toml`` in a fresh temp folder, for a download button.

    Raises:
        InvalidName: ``name`` cannot be a file name.
    """
    stem = safe_name(name or config.saving.output_name)
    target = Path(tempfile.mkdtemp(prefix="lora-studio-config-")) / f"{stem}.toml"
    write_text_atomic(target, config_to_toml(config))
    return target

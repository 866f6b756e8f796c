"""The tagger registry: ``configs/taggers.toml`` loaded and checked."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lora_studio.core.errors import ConfigInvalid

TAGGERS_FILE = Path(__file__).resolve().parents[2] / "configs" / "taggers.toml"


class TaggerVersion(StrEnum):
    V2 = "v2"
    V3 = "v3"


class TaggerEntry(BaseModel):
    """One WD14 tagger repository and its defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,80}$")
    repo_id: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
    version: TaggerVersion
    architecture: str = Field(min_length=1)
    general_threshold: float = Field(ge=0.0, le=1.0)
    character_threshold: float = Field(ge=0.0, le=1.0)
    batch: Literal["dynamic", "fixed"]
    download_mb: int = Field(gt=0)
    notes: str = ""

    @property
    def label(self) -> str:
        return f"{self.id} ({self.version}, {self.architecture}, {self.download_mb} MB)"


class TaggerRegistry(BaseModel):
    """All known taggers; ``default`` names the one a new run starts with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    default: str
    taggers: tuple[TaggerEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_ids(self) -> TaggerRegistry:
        ids = [entry.id for entry in self.taggers]
        duplicates = sorted({tagger_id for tagger_id in ids if ids.count(tagger_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate tagger ids: {', '.join(duplicates)}")
        if self.default not in ids:
            raise ValueError(f"default {self.default!r} is not one of the taggers")
        return self

    def ids(self) -> list[str]:
        return [entry.id for entry in self.taggers]

    def get(self, tagger_id: str) -> TaggerEntry | None:
        return next((entry for entry in self.taggers if entry.id == tagger_id), None)

    def by_repo(self, repo_id: str) -> TaggerEntry | None:
        return next((entry for entry in self.taggers if entry.repo_id.lower() == repo_id.lower()), None)


def load_taggers(path: Path = TAGGERS_FILE) -> TaggerRegistry:
    """Read and validate the registry.

    Raises:
        ConfigInvalid: the file is missing, not TOML, or breaks the schema.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigInvalid(f"Cannot read the tagger registry {path}: {error}") from None
    try:
        return TaggerRegistry.model_validate(data)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        raise ConfigInvalid(f"The tagger registry {path} is not valid.", problems=problems) from None

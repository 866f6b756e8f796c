"""The model catalog: well-known base models, text encoders and VAEs, read from ``configs/models.toml``.

The catalog is data (repo id, file, family, kind, licence); this module only gives it a schema and
loads it. Services and the download worker read it; nothing here touches the network.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import toml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lora_studio.core.errors import ConfigInvalid, ModelNotFound
from lora_studio.core.types import ModelFamily

CATALOG_VERSION = 1
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parents[2] / "configs" / "models.toml"
HUB_URL = "https://huggingface.co"


class ModelKind(StrEnum):
    """What a model file is, as far as training needs to know."""

    CHECKPOINT = "checkpoint"
    VAE = "vae"
    CLIP_L = "clip_l"
    CLIP_G = "clip_g"
    T5XXL = "t5xxl"
    LORA = "lora"
    UNKNOWN = "unknown"

    @property
    def is_text_encoder(self) -> bool:
        return self in (ModelKind.CLIP_L, ModelKind.CLIP_G, ModelKind.T5XXL)

    @property
    def folder(self) -> str:
        """The models/ sub-folder for this kind (checkpoints go to their family's folder instead)."""
        if self.is_text_encoder:
            return "text_encoders"
        return {ModelKind.VAE: "vae", ModelKind.LORA: "loras"}.get(self, "other")


def models_subfolder(kind: ModelKind, family: ModelFamily | None) -> str:
    """``models/<family or kind>/``: checkpoints by family, everything else by kind."""
    if kind is ModelKind.CHECKPOINT and family is not None:
        return family.value
    return kind.folder


class CatalogEntry(BaseModel):
    """One downloadable file on the Hugging Face Hub."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="stable id used by the CLI and the UI")
    name: str = Field(min_length=1, description="what a person reads")
    kind: ModelKind
    family: ModelFamily | None = Field(default=None, description="the base family this file belongs to")
    repo_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    filename: str = Field(min_length=1, description="path of the file inside the repository")
    revision: str | None = None
    size_gb: float | None = Field(default=None, gt=0, description="approximate size, for the disk check")
    gated: bool = Field(default=False, description="the repository asks to accept a licence first")
    licence: str = Field(min_length=1)
    licence_url: str | None = None
    notes: str = ""

    @field_validator("filename")
    @classmethod
    def _relative_filename(cls, value: str) -> str:
        parts = value.split("/")
        if value.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError("filename must be a relative path inside the repository")
        return value

    @property
    def page_url(self) -> str:
        """Where a person accepts the licence of a gated repository."""
        return self.licence_url or f"{HUB_URL}/{self.repo_id}"

    @property
    def size_bytes(self) -> int | None:
        return None if self.size_gb is None else int(self.size_gb * 1e9)

    @property
    def subfolder(self) -> str:
        return models_subfolder(self.kind, self.family)


class Catalog(BaseModel):
    """The whole catalog file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = CATALOG_VERSION
    models: tuple[CatalogEntry, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        seen: set[str] = set()
        for entry in self.models:
            if entry.id in seen:
                raise ValueError(f"duplicate catalog id {entry.id!r}")
            seen.add(entry.id)
        return self

    def get(self, entry_id: str) -> CatalogEntry:
        """The entry with this id.

        Raises:
            ModelNotFound: no entry has that id.
        """
        for entry in self.models:
            if entry.id == entry_id:
                return entry
        known = ", ".join(entry.id for entry in self.models)
        raise ModelNotFound(entry_id, hint=f"Catalog ids: {known}.")

    def filter(
        self, *, family: ModelFamily | None = None, kind: ModelKind | None = None
    ) -> list[CatalogEntry]:
        return [
            entry
            for entry in self.models
            if (family is None or entry.family == family) and (kind is None or entry.kind == kind)
        ]


def load_catalog(path: Path = DEFAULT_CATALOG_PATH) -> Catalog:
    """Read and check the catalog TOML.

    Raises:
        ConfigInvalid: the file is missing, is not TOML, has a newer schema or breaks the schema.
    """
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigInvalid(f"The model catalog {path} does not exist.") from None
    except (toml.TomlDecodeError, UnicodeDecodeError) as error:
        raise ConfigInvalid(f"The model catalog {path} is not valid TOML: {error}") from error
    version = data.get("schema_version", CATALOG_VERSION)
    if not isinstance(version, int) or version > CATALOG_VERSION:
        raise ConfigInvalid(
            f"The model catalog {path} has schema_version {version!r}; this version reads up to {CATALOG_VERSION}."
        )
    try:
        return Catalog.model_validate(data)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()]
        raise ConfigInvalid(f"The model catalog {path} is invalid.", problems=problems) from error

"""Models: the catalog, downloads (as jobs), local model files, trained LoRA outputs, Hub token.

``ModelService(settings)`` is what the UI and the CLI call; the modules below it are plain functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from lora_studio.config.catalog import DEFAULT_CATALOG_PATH, Catalog, ModelKind, load_catalog
from lora_studio.core.errors import DownloadFailed, InvalidInput, UploadFailed
from lora_studio.core.paths import ensure_inside
from lora_studio.core.settings import Settings
from lora_studio.core.types import ModelFamily
from lora_studio.jobs.model import JobSpec
from lora_studio.services.models import downloads, exports, folders, local, rows, upload
from lora_studio.services.models.downloads import (
    DEFAULT_KEEP_FREE_BYTES,
    CatalogDownload,
    DownloadRequest,
    HubDownload,
    UrlDownload,
)
from lora_studio.services.models.family import Detection, LoraMetadata
from lora_studio.services.models.forms import hub_request, upload_request, url_request
from lora_studio.services.models.local import LocalModel
from lora_studio.services.models.rows import CatalogRow, LocalRow, LoraRow, download_outcome
from lora_studio.services.models.upload import HubUpload, upload_outcome

__all__ = [
    "CatalogDownload",
    "CatalogRow",
    "Detection",
    "DownloadRequest",
    "HubDownload",
    "HubUpload",
    "LocalModel",
    "LocalRow",
    "LoraMetadata",
    "LoraRow",
    "ModelService",
    "UrlDownload",
    "download_outcome",
    "hub_request",
    "upload_outcome",
    "upload_request",
    "url_request",
]

CIVITAI_TOKEN_ENV = "CIVITAI_API_TOKEN"


class ModelService:
    """The models area: what the Models tab, the Training tab's pickers and ``lora_studio models`` use."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_dirs: Sequence[Path] = (),
        catalog_path: Path = DEFAULT_CATALOG_PATH,
    ) -> None:
        self.settings = settings
        self.extra_dirs = tuple(Path(folder).absolute() for folder in extra_dirs)
        self._catalog_path = catalog_path
        self._catalog: Catalog | None = None
        self._index = local.ModelIndex()

    # --- catalog and downloads -------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        """The catalog, loaded on first use. Raises ConfigInvalid when ``configs/models.toml`` is broken."""
        if self._catalog is None:
            self._catalog = load_catalog(self._catalog_path)
        return self._catalog

    def download_spec(
        self,
        request: DownloadRequest,
        *,
        token: str | None = None,
        keep_free_bytes: int = DEFAULT_KEEP_FREE_BYTES,
    ) -> JobSpec:
        """The job to submit for a download (see ``downloads.download_job_spec`` for what it raises).

        A Civitai link without a token uses ``CIVITAI_API_TOKEN`` from the environment when it is set.
        """
        if isinstance(request, UrlDownload) and token is None:
            host = urlsplit(request.url).hostname or ""
            if host == "civitai.com" or host.endswith(".civitai.com"):
                token = self.settings.env.get(CIVITAI_TOKEN_ENV) or None
        return downloads.download_job_spec(
            self.settings, request, catalog=self.catalog, token=token, keep_free_bytes=keep_free_bytes
        )

    # --- local models ----------------------------------------------------------------------------

    @property
    def roots(self) -> tuple[Path, ...]:
        """The folders listed: the workspace's models/ first, then the extra folders (given, then saved).

        Raises:
            ConfigInvalid: the saved list of extra folders is broken.
        """
        saved = folders.load_extra_folders(self.settings.models_dir)
        return tuple(dict.fromkeys((self.settings.models_dir.absolute(), *self.extra_dirs, *saved)))

    def saved_folders(self) -> tuple[Path, ...]:
        """The extra model folders a person saved (``models/extra_folders.json``)."""
        return folders.load_extra_folders(self.settings.models_dir)

    def save_folders(self, paths: Sequence[str]) -> tuple[Path, ...]:
        """Check and save the extra model folders to list (replacing the saved list); returns them.

        Raises:
            InvalidInput: a path that is not an absolute existing folder, is the file system root, or
                overlaps models/; nothing is saved then.
        """
        return folders.save_extra_folders(self.settings.models_dir, paths)

    def list_models(
        self, *, kind: ModelKind | None = None, family: ModelFamily | None = None
    ) -> list[LocalModel]:
        """Model files in the models folders (LoRAs included), optionally of one kind and family."""
        models = self._index.scan(self.roots)
        return [
            model
            for model in models
            if (kind is None or model.kind is kind) and (family is None or model.family is family)
        ]

    def model_choices(self, kind: ModelKind, family: ModelFamily | None = None) -> list[tuple[str, str]]:
        """(label, absolute path) pairs for a dropdown; files of unknown family are offered too."""
        return [
            (f"{model.relative} ({_size(model.size_bytes)})", str(model.path))
            for model in self.list_models(kind=kind)
            if family is None or model.family in (family, None)
        ]

    def usage(self, models: Sequence[LocalModel]) -> dict[Path, list[str]]:
        """Where each model is used: training runs that name it, LoRA outputs trained on it."""
        return local.find_usage(models, self.settings.runs_dir, self.list_loras())

    def inspect(self, path: str | Path) -> LocalModel:
        """Describe a file in the models folders or the outputs folder.

        Raises:
            PathEscape: the path is outside those folders. ModelNotFound: no such file.
        """
        file, root = local.resolve_model_path(path, (*self.roots, self.settings.outputs_dir.absolute()))
        return local.inspect_file(file, root)

    def delete_model(self, path: str | Path, *, confirm: str) -> Path:
        """Delete a model file; ``confirm`` must be its file name. Returns the deleted path."""
        deleted = local.delete_model(path, self.roots, confirm=confirm)
        self._index.forget(deleted)
        return deleted

    # --- LoRA outputs ----------------------------------------------------------------------------

    def list_loras(self) -> list[LocalModel]:
        """Trained LoRA files under the outputs folder, with their ``ss_*`` metadata."""
        outputs = self.settings.outputs_dir.absolute()
        return [model for model in self._index.scan((outputs,)) if model.kind is ModelKind.LORA]

    def lora_file(self, relative: str) -> Path:
        """The absolute path of an output LoRA, for a download button.

        Raises:
            PathEscape / ModelNotFound: outside the outputs folder, or no such file.
        """
        outputs = self.settings.outputs_dir.absolute()
        file, _root = local.resolve_model_path(relative, (outputs,))
        ensure_inside(outputs, file)
        return file

    def lora_download(self, relative: str) -> Path:
        """A temporary link to (or copy of) an output LoRA that a download button may serve.

        Raises:
            PathEscape / ModelNotFound: as ``lora_file``.
        """
        return exports.export_file(self.lora_file(relative))

    def upload_spec(self, request: HubUpload) -> JobSpec:
        """The job that uploads an output LoRA to a Hub repository (created if missing, private if asked).

        Raises:
            UploadFailed: no Hugging Face token is set, or the file is not a LoRA.
            PathEscape / ModelNotFound: as ``lora_file``. InvalidInput: a bad path in the repository.
        """
        if not self.hf_token_available():
            raise UploadFailed(
                "No Hugging Face token is set, so the Hub would refuse the upload.",
                hint="Create a token with the Write role at https://huggingface.co/settings/tokens, then save "
                "it under Hugging Face token in the Models tab, or set HF_TOKEN before starting LoRA Studio.",
            )
        model = local.inspect_file(self.lora_file(request.lora), self.settings.outputs_dir.absolute())
        if model.kind is not ModelKind.LORA:
            raise UploadFailed(
                f"{model.relative} is not a LoRA ({model.detection.label}); only LoRAs are uploaded."
            )
        return upload.upload_job_spec(self.settings, request, model)

    # --- rows for the Models tab ------------------------------------------------------------------

    def catalog_rows(self) -> list[CatalogRow]:
        """One row per catalog entry: id, name, family, kind, size, gated (licence link), licence."""
        return [rows.catalog_row(entry) for entry in self.catalog.models]

    def local_rows(self) -> list[tuple[LocalRow, Path]]:
        """Each model file with its row (file, family, kind, size, used by, note) and absolute path."""
        models = self.list_models()
        usage = self.usage(models)
        main = self.settings.models_dir.absolute()
        return [(rows.local_row(model, main, usage.get(model.path, ())), model.path) for model in models]

    def lora_rows(self) -> list[LoraRow]:
        """Each trained LoRA in outputs/ with its ``ss_*`` facts (base model, dim, alpha, steps, tags)."""
        return [rows.lora_row(model) for model in self.list_loras()]

    # --- Hugging Face token ----------------------------------------------------------------------

    def hf_token_available(self) -> bool:
        """Whether huggingface_hub finds a token (``HF_TOKEN`` or its token store); no network."""
        from huggingface_hub import get_token

        return get_token() is not None

    def save_hf_token(self, token: str) -> str:
        """Check a token with the Hub and save it in huggingface_hub's own store (never in our files).

        Returns the account name. Raises InvalidInput for a rejected token, DownloadFailed when the Hub
        cannot be reached.
        """
        from huggingface_hub import login, whoami
        from huggingface_hub.errors import HfHubHTTPError

        token = token.strip()
        if not token:
            raise InvalidInput(
                "The token is empty.", hint="Paste a token from huggingface.co/settings/tokens."
            )
        try:
            info = whoami(token)
        except HfHubHTTPError as error:
            raise InvalidInput(
                "The Hugging Face Hub rejected this token.",
                hint="Create a read token at huggingface.co/settings/tokens.",
            ) from error
        except OSError as error:
            raise DownloadFailed(f"Cannot reach the Hugging Face Hub to check the token: {error}") from error
        login(token=token, add_to_git_credential=False)  # saves it and makes it the active token
        return str(info.get("name", "?"))


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1e9:.2f} GB" if size_bytes >= 1e8 else f"{size_bytes / 1e6:.1f} MB"

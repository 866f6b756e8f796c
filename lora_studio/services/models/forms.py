"""Download and upload requests from what a person typed: blanks become "not given", schema errors a readable InvalidInput."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lora_studio.core.errors import InvalidInput
from lora_studio.services.models.downloads import HubDownload, UrlDownload
from lora_studio.services.models.upload import HubUpload

RequestT = TypeVar("RequestT", bound=BaseModel)

_HINTS = {
    "repo_id": "A Hub repository id looks like owner/name, e.g. madebyollin/sdxl-vae-fp16-fix.",
    "filename": "Give the file's path inside the repository, e.g. sdxl_vae.safetensors.",
    "url": "Paste the full https:// download link.",
    "kind": "Pick a kind from the list.",
    "family": "Pick a family from the list, or leave it empty.",
    "lora": "Pick a trained LoRA from the list (click its row).",
}


def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _build(model: type[RequestT], fields: dict[str, Any], what: str = "download") -> RequestT:
    given = {key: value for key, value in fields.items() if value is not None}
    try:
        return model.model_validate(given)
    except ValidationError as error:
        names = [str(item["loc"][0]) if item["loc"] else "form" for item in error.errors()]
        missing = [name for name in names if name not in given]
        problem = f"{', '.join(dict.fromkeys(names))} {'is missing' if missing else 'is not valid'}"
        hints = " ".join(dict.fromkeys(_HINTS[name] for name in names if name in _HINTS))
        raise InvalidInput(f"Cannot start this {what}: {problem}.", hint=hints or None) from error


def hub_request(
    repo_id: str | None,
    filename: str | None,
    *,
    revision: str | None = None,
    kind: str | None = None,
    family: str | None = None,
) -> HubDownload:
    """A Hub download from form fields.

    Raises:
        InvalidInput: a missing or malformed repository id, file name, kind or family.
    """
    fields = {
        "repo_id": _clean(repo_id),
        "filename": _clean(filename),
        "revision": _clean(revision),
        "kind": _clean(kind),
        "family": _clean(family),
    }
    return _build(HubDownload, fields)


def url_request(
    url: str | None, *, filename: str | None = None, kind: str | None = None, family: str | None = None
) -> UrlDownload:
    """A direct-link download from form fields (the link is checked again when the job is built).

    Raises:
        InvalidInput: a missing link, or a bad kind or family.
    """
    fields = {
        "url": _clean(url),
        "filename": _clean(filename),
        "kind": _clean(kind),
        "family": _clean(family),
    }
    return _build(UrlDownload, fields)


def upload_request(
    lora: str | None,
    repo_id: str | None,
    *,
    path_in_repo: str | None = None,
    private: bool = False,
    model_card: bool = True,
) -> HubUpload:
    """A LoRA upload from form fields or CLI arguments.

    Raises:
        InvalidInput: no LoRA picked, or a missing or malformed repository id.
    """
    fields = {
        "lora": _clean(lora),
        "repo_id": _clean(repo_id),
        "path_in_repo": _clean(path_in_repo),
        "private": private,
        "model_card": model_card,
    }
    return _build(HubUpload, fields, "upload")

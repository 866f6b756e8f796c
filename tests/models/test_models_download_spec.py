"""The pure job specs for downloads: argv, where files go, tokens kept out of the record, disk check."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.config.catalog import ModelKind
from lora_studio.core.errors import InsufficientDiskSpace, InvalidInput, InvalidName, ModelNotFound
from lora_studio.core.settings import Settings
from lora_studio.core.types import JobKind, ModelFamily
from lora_studio.services.models import CatalogDownload, HubDownload, ModelService, UrlDownload
from lora_studio.services.models.downloads import TOKEN_ENV, download_job_spec, split_url_token


def test_catalog_download_spec(settings: Settings) -> None:
    spec = ModelService(settings).download_spec(CatalogDownload(entry_id="flux1-dev"), keep_free_bytes=0)
    dest = settings.models_dir / "flux" / "black-forest-labs--FLUX.1-dev"
    assert spec.kind is JobKind.DOWNLOAD and not spec.uses_gpu
    assert spec.progress_desc == "download"
    assert spec.argv[1:] == (
        "-m", "lora_studio.workers.download", "hub",
        "--repo-id", "black-forest-labs/FLUX.1-dev", "--filename", "flux1-dev.safetensors",
        "--dest", str(dest), "--keep-free", "0",
        "--licence-url", "https://huggingface.co/black-forest-labs/FLUX.1-dev",
    )  # fmt: skip
    assert spec.meta["catalog_id"] == "flux1-dev"
    assert spec.meta["target"] == str(dest / "flux1-dev.safetensors")


def test_text_encoders_go_to_their_own_folder_per_repository(settings: Settings) -> None:
    spec = ModelService(settings).download_spec(CatalogDownload(entry_id="sd35-clip-g"), keep_free_bytes=0)
    assert spec.meta["target"] == str(
        settings.models_dir
        / "text_encoders"
        / "stabilityai--stable-diffusion-3.5-large"
        / "text_encoders"
        / "clip_g.safetensors"
    )


def test_free_space_is_checked_before_starting(settings: Settings) -> None:
    service = ModelService(settings)
    with pytest.raises(InsufficientDiskSpace, match=r"needs about 23\.80 GB"):
        download_job_spec(
            settings,
            CatalogDownload(entry_id="flux1-dev"),
            catalog=service.catalog,
            free_bytes=lambda _p: 10**10,
        )
    spec = download_job_spec(
        settings, CatalogDownload(entry_id="sd15"), catalog=service.catalog, free_bytes=lambda _p: 10**10
    )
    assert spec.argv[3] == "hub"


def test_unknown_catalog_id(settings: Settings) -> None:
    with pytest.raises(ModelNotFound):
        ModelService(settings).download_spec(CatalogDownload(entry_id="nope"))


def test_hub_file_spec_refuses_escaping_names(settings: Settings) -> None:
    service = ModelService(settings)
    spec = service.download_spec(
        HubDownload(repo_id="org/repo", filename="sub/model.safetensors", kind=ModelKind.LORA),
        keep_free_bytes=0,
    )
    assert spec.meta["target"] == str(
        settings.models_dir / "loras" / "org--repo" / "sub" / "model.safetensors"
    )
    for bad in ("../x.safetensors", "/etc/passwd", "sub/.hidden"):
        with pytest.raises(InvalidName):
            service.download_spec(HubDownload(repo_id="org/repo", filename=bad))


def test_url_tokens_never_reach_argv_or_meta(settings: Settings) -> None:
    service = ModelService(settings)
    url = "https://civitai.com/api/download/models/12345?type=Model&token=SECRET"
    spec = service.download_spec(UrlDownload(url=url, kind=ModelKind.LORA, family=ModelFamily.SDXL))
    record_text = " ".join(spec.argv) + repr(spec.meta) + spec.title
    assert "SECRET" not in record_text
    assert spec.env == {TOKEN_ENV: "SECRET"}
    assert (
        spec.argv[spec.argv.index("--url") + 1] == "https://civitai.com/api/download/models/12345?type=Model"
    )
    assert spec.argv[spec.argv.index("--dest") + 1] == str(settings.models_dir / "loras")
    assert spec.argv[spec.argv.index("--token-env") + 1] == TOKEN_ENV


def test_civitai_token_from_the_environment(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path, env={"CIVITAI_API_TOKEN": "ENVTOKEN"})
    spec = ModelService(settings).download_spec(UrlDownload(url="https://civitai.com/api/download/models/1"))
    assert spec.env == {TOKEN_ENV: "ENVTOKEN"}
    other = ModelService(settings).download_spec(UrlDownload(url="https://example.com/model.safetensors"))
    assert other.env == {}


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "https:///nohost"])
def test_only_http_links(url: str) -> None:
    with pytest.raises(InvalidInput):
        split_url_token(url)


def test_url_save_name_is_checked(settings: Settings) -> None:
    with pytest.raises(InvalidName):
        ModelService(settings).download_spec(UrlDownload(url="https://example.com/x", filename="../evil"))

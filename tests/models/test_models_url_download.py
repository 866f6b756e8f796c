"""URL downloads (Civitai-style links) through the real worker subprocess, against a plain local server."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lora_studio.config.catalog import ModelKind
from lora_studio.core.settings import Settings
from lora_studio.services.models import ModelService, UrlDownload
from tests.models.conftest import PlainServer, Route, closed_port_url, run_spec, worker_env

BODY = bytes(range(256)) * 4096  # 1 MiB


def url_spec(settings: Settings, url: str, **kw):
    options = {key: kw.pop(key) for key in ("token", "keep_free_bytes") if key in kw}
    request = UrlDownload(url=url, kind=ModelKind.LORA, **kw)
    return ModelService(settings).download_spec(
        request, keep_free_bytes=options.get("keep_free_bytes", 0), token=options.get("token")
    )


def with_fast_retries(spec):
    return spec.model_copy(update={"argv": (*spec.argv, "--retry-wait", "0.05")})


def test_success_named_by_content_disposition(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/api/download/models/1"] = Route(BODY, filename="my lora v1.safetensors")
    spec = url_spec(settings, plain_server.url + "/api/download/models/1?type=Model")
    result = run_spec(spec, worker_env(tmp_path))
    assert result.returncode == 0, result.stderr
    saved = settings.models_dir / "loras" / "my lora v1.safetensors"
    assert saved.read_bytes() == BODY
    assert "download: 100%" in result.stderr
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no .part left behind


def test_hostile_server_file_name_is_made_safe(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/f"] = Route(b"x" * 10, filename="../../.bashrc")
    result = run_spec(url_spec(settings, plain_server.url + "/f"), worker_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (settings.models_dir / "loras").iterdir()] == ["bashrc"]


def test_resumes_after_a_cut_connection(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/m.safetensors"] = Route(BODY, cuts=[300_000, 200_000])
    spec = with_fast_retries(
        url_spec(settings, plain_server.url + "/m.safetensors", sha256=hashlib.sha256(BODY).hexdigest())
    )
    result = run_spec(spec, worker_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (settings.models_dir / "loras" / "m.safetensors").read_bytes() == BODY
    assert plain_server.ranges == [None, "bytes=300000-", "bytes=500000-"]
    assert "checksum: sha256 matches" in result.stdout


def test_a_later_run_resumes_the_partial_file(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/m.safetensors"] = Route(BODY, cuts=[400_000])
    spec = url_spec(settings, plain_server.url + "/m.safetensors")
    spec = spec.model_copy(update={"argv": (*spec.argv, "--retries", "0")})
    first = run_spec(spec, worker_env(tmp_path))
    assert first.returncode == 1 and "start the download again to resume" in first.stderr
    second = run_spec(spec, worker_env(tmp_path))
    assert second.returncode == 0, second.stderr
    assert plain_server.ranges == [None, "bytes=400000-"]
    assert (settings.models_dir / "loras" / "m.safetensors").read_bytes() == BODY


def test_unauthorised_then_with_a_token(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/api/download/models/7"] = Route(BODY, token="civ-secret", filename="c.safetensors")
    url = plain_server.url + "/api/download/models/7"
    refused = run_spec(url_spec(settings, url), worker_env(tmp_path))
    assert refused.returncode == 3
    assert "refused the download (HTTP 401)" in refused.stderr
    allowed = run_spec(url_spec(settings, url + "?token=civ-secret"), worker_env(tmp_path))
    assert allowed.returncode == 0, allowed.stderr
    assert (settings.models_dir / "loras" / "c.safetensors").read_bytes() == BODY


def test_not_found(plain_server: PlainServer, settings: Settings, tmp_path: Path) -> None:
    result = run_spec(url_spec(settings, plain_server.url + "/missing"), worker_env(tmp_path))
    assert result.returncode == 4
    assert "HTTP 404" in result.stderr


def test_offline(settings: Settings, tmp_path: Path) -> None:
    result = run_spec(url_spec(settings, closed_port_url() + "/x.safetensors"), worker_env(tmp_path))
    assert result.returncode == 5
    assert "Cannot reach 127.0.0.1" in result.stderr


def test_disk_full_is_refused_before_writing(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/m.safetensors"] = Route(BODY)
    result = run_spec(
        url_spec(settings, plain_server.url + "/m.safetensors", keep_free_bytes=10**18), worker_env(tmp_path)
    )
    assert result.returncode == 6
    assert "Not enough disk space" in result.stderr
    assert list((settings.models_dir / "loras").iterdir()) == []


def test_checksum_mismatch_deletes_the_download(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/m.safetensors"] = Route(BODY)
    spec = url_spec(settings, plain_server.url + "/m.safetensors", sha256="0" * 64)
    result = run_spec(spec, worker_env(tmp_path))
    assert result.returncode == 7
    assert list((settings.models_dir / "loras").iterdir()) == []


def test_an_existing_file_is_never_overwritten(
    plain_server: PlainServer, settings: Settings, tmp_path: Path
) -> None:
    plain_server.routes["/m.safetensors"] = Route(BODY)
    existing = settings.models_dir / "loras" / "m.safetensors"
    existing.parent.mkdir(parents=True)
    existing.write_bytes(b"mine")
    result = run_spec(url_spec(settings, plain_server.url + "/m.safetensors"), worker_env(tmp_path))
    assert result.returncode == 1 and "already exists" in result.stderr
    assert existing.read_bytes() == b"mine"

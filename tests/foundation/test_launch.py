"""Launch policy: public by default means protected."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lora_studio.core.settings import Settings, load_settings
from lora_studio.services.access import GENERATED_USER, resolve_access
from tests.fakes.app_server import start_app


def test_local_launch_needs_no_login() -> None:
    assert resolve_access(Settings(host="127.0.0.1")).auth is None


@pytest.mark.parametrize("settings", [Settings(share=True), Settings(host="0.0.0.0")])
def test_public_launch_without_credentials_gets_a_generated_password(settings: Settings) -> None:
    access = resolve_access(settings)
    assert access.generated and access.auth is not None
    user, password = access.auth
    assert user == GENERATED_USER and len(password) >= 12
    assert password in (access.message or "")
    assert resolve_access(settings).auth != access.auth  # random each launch


def test_explicit_credentials_win_and_no_auth_opts_out_with_a_warning() -> None:
    assert resolve_access(Settings(share=True, auth=("me", "pw"))).auth == ("me", "pw")
    opted_out = resolve_access(Settings(host="0.0.0.0", no_auth=True))
    assert opted_out.auth is None and "WARNING" in (opted_out.message or "")


def test_environment_variables_are_read_in_one_place() -> None:
    settings = load_settings(
        None,
        {
            "LORA_STUDIO_HOME": "/tmp/x",
            "PORT": "9999",
            "LORA_STUDIO_AUTH": "a:b:c",
            "LORA_STUDIO_SHARE": "1",
            "GRADIO_ROOT_PATH": "/proxy",
        },
    )
    assert settings.workspace == Path("/tmp/x")
    assert settings.port == 9999
    assert settings.auth == ("a", "b:c")
    assert settings.share and settings.root_path == "/proxy"
    assert settings.is_public


def test_a_public_bind_without_credentials_is_protected(tmp_path: Path) -> None:
    server = start_app(tmp_path / "ws", tmp_path, "--host", "0.0.0.0")
    try:
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(server.url + "/config", timeout=10)
        assert denied.value.code == 401
        match = re.search(r"password: (\S+)", server.console_text())
        assert match, server.console_text()
        request = urllib.request.Request(
            server.url + "/login",
            data=f"username={GENERATED_USER}&password={match.group(1)}".encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        # The console says how to log in, the page says it is public.
        assert "reachable from outside" in server.console_text()
    finally:
        server.stop()


def test_local_launch_serves_the_app(tmp_path: Path) -> None:
    server = start_app(tmp_path / "ws", tmp_path)
    try:
        with urllib.request.urlopen(server.url + "/config", timeout=10) as response:
            config = response.read().decode()
        assert "LoRA Studio" in config
        for folder in ("datasets", "models", "outputs", "runs"):
            assert (tmp_path / "ws" / folder).is_dir()
    finally:
        server.stop()

"""Settings: the only module that reads environment variables and command-line flags.

Every flag has an environment variable; the flag wins. ``SETTINGS_HELP`` documents both
for ``--help``, the README test and the CLI alike.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lora_studio.core.sizes import parse_size

DEFAULT_PORT = 7860
# A Hugging Face Space is a shared CPU demo: its persistent storage (when attached) and small caps.
SPACE_WORKSPACE = Path("/data/lora-studio")
SPACE_LIMIT = "2gb"
SPACE_MAX_UPLOAD = "200mb"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Gradio's event streams (the page's /heartbeat and /queue/data) stay silent for this long between
# keepalives. Its own default, 15 s, is longer than many reverse proxies' read timeout: the proxy
# then cuts the heartbeat, Gradio takes the page for closed and the live log stops.
DEFAULT_HEARTBEAT_S = 2.0


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one LoRA Studio process."""

    workspace: Path = Path("workspace")
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    share: bool = False
    auth: tuple[str, str] | None = None
    no_auth: bool = False
    root_path: str = ""
    heartbeat_s: float = DEFAULT_HEARTBEAT_S
    stop_grace_s: float = 10.0
    max_upload: str = "4gb"
    sd_scripts: Path | None = None
    trainer_python: Path | None = None
    space_mode: bool = False
    workspace_limit: int | None = None  # bytes the workspace may hold (a shared demo); None: no limit
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def datasets_dir(self) -> Path:
        return self.workspace / "datasets"

    @property
    def models_dir(self) -> Path:
        return self.workspace / "models"

    @property
    def outputs_dir(self) -> Path:
        return self.workspace / "outputs"

    @property
    def runs_dir(self) -> Path:
        return self.workspace / "runs"

    @property
    def cache_dir(self) -> Path:
        return self.workspace / ".cache"

    @property
    def is_public(self) -> bool:
        """Reachable by others: a share link or a bind to a non-loopback address."""
        return self.share or self.host not in LOOPBACK_HOSTS

    def ensure_workspace(self) -> Settings:
        for folder in (self.datasets_dir, self.models_dir, self.outputs_dir, self.runs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def with_workspace(self, workspace: Path) -> Settings:
        return replace(self, workspace=workspace.absolute())


# (flag, environment variable(s), help) for every setting: the one table --help and the README use.
SETTINGS_HELP: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "--workspace",
        ("LORA_STUDIO_HOME",),
        "folder holding datasets/, models/, outputs/, runs/ (default ./workspace)",
    ),
    ("--host", ("GRADIO_SERVER_NAME",), "address to bind (default 127.0.0.1; 0.0.0.0 makes it public)"),
    ("--port", ("PORT", "GRADIO_SERVER_PORT"), f"port to listen on (default {DEFAULT_PORT})"),
    ("--share", ("LORA_STUDIO_SHARE",), "open a public Gradio share link (credentials are then required)"),
    ("--auth", ("LORA_STUDIO_AUTH",), "login as user:password"),
    ("--no-auth", ("LORA_STUDIO_NO_AUTH",), "serve a public address without a login (not recommended)"),
    ("--root-path", ("GRADIO_ROOT_PATH",), "URL prefix when served behind a reverse proxy"),
    (
        "--heartbeat",
        ("GRADIO_HEARTBEAT_INTERVAL",),
        f"seconds between keepalives on the page's streams; keep it under a proxy's read timeout "
        f"(default {DEFAULT_HEARTBEAT_S:g})",
    ),
    (
        "--stop-grace",
        ("LORA_STUDIO_STOP_GRACE",),
        "seconds a stopped job gets after SIGINT before SIGTERM/SIGKILL",
    ),
    ("--max-upload", ("LORA_STUDIO_MAX_UPLOAD",), "largest accepted upload, e.g. 4gb"),
    (
        "--sd-scripts",
        ("LORA_STUDIO_SD_SCRIPTS",),
        "an sd-scripts checkout to use instead of trainer/sd-scripts",
    ),
    ("--trainer-python", ("LORA_STUDIO_TRAINER_PYTHON",), "the Python interpreter that runs sd-scripts"),
    ("--space", ("SPACE_ID",), "Hugging Face Space mode (set by the Space itself)"),
    (
        "--workspace-limit",
        ("LORA_STUDIO_WORKSPACE_LIMIT",),
        "most the workspace may hold, e.g. 2gb (Space default)",
    ),
)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _first(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        if environ.get(name):
            return environ[name]
    return None


def _size_setting(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_size(text)
    except ValueError as error:
        raise SystemExit(f"{name}: {error}") from None


def _heartbeat(text: str | None) -> float:
    if text is None:
        return DEFAULT_HEARTBEAT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not (seconds > 0 and math.isfinite(seconds)):
        raise SystemExit(f"--heartbeat: {text!r} is not a positive number of seconds, e.g. 2")
    return seconds


def parse_auth(value: str) -> tuple[str, str]:
    """``user:password`` → (user, password); the password may itself contain colons."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("--auth takes user:password, both non-empty")
    return user, password


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare every setting flag on ``parser`` (used by app.py and ``python -m lora_studio serve``)."""
    helps = {flag: f"{text} [env: {', '.join(envs)}]" for flag, envs, text in SETTINGS_HELP}
    parser.add_argument("--workspace", type=Path, help=helps["--workspace"])
    parser.add_argument("--host", help=helps["--host"])
    parser.add_argument("--port", type=int, help=helps["--port"])
    parser.add_argument("--share", action="store_true", default=None, help=helps["--share"])
    parser.add_argument("--auth", type=parse_auth, help=helps["--auth"])
    parser.add_argument("--no-auth", action="store_true", default=None, help=helps["--no-auth"])
    parser.add_argument("--root-path", help=helps["--root-path"])
    parser.add_argument("--heartbeat", type=float, help=helps["--heartbeat"])
    parser.add_argument("--stop-grace", type=float, help=helps["--stop-grace"])
    parser.add_argument("--max-upload", help=helps["--max-upload"])
    parser.add_argument("--sd-scripts", type=Path, help=helps["--sd-scripts"])
    parser.add_argument("--trainer-python", type=Path, help=helps["--trainer-python"])
    parser.add_argument("--space", action="store_true", default=None, help=helps["--space"])
    parser.add_argument("--workspace-limit", help=helps["--workspace-limit"])


def load_settings(
    args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from parsed flags (may be None) and the environment; flags win."""
    env = dict(os.environ if environ is None else environ)
    flags = vars(args) if args is not None else {}

    def pick(flag: str, envs: Sequence[str]) -> str | None:
        value = flags.get(flag)
        return str(value) if value is not None else _first(env, envs)

    space_mode = bool(flags.get("space")) or bool(env.get("SPACE_ID"))
    default_workspace = (
        SPACE_WORKSPACE if space_mode and SPACE_WORKSPACE.parent.is_dir() else Path("workspace")
    )
    workspace = Path(pick("workspace", ["LORA_STUDIO_HOME"]) or default_workspace).expanduser().absolute()
    limit_text = pick("workspace_limit", ["LORA_STUDIO_WORKSPACE_LIMIT"]) or (
        SPACE_LIMIT if space_mode else None
    )
    port_text = pick("port", ["PORT", "GRADIO_SERVER_PORT"])
    auth = flags.get("auth")
    if auth is None and env.get("LORA_STUDIO_AUTH"):
        try:
            auth = parse_auth(env["LORA_STUDIO_AUTH"])
        except argparse.ArgumentTypeError as error:
            raise SystemExit(f"LORA_STUDIO_AUTH: {error}") from None
    sd_scripts = pick("sd_scripts", ["LORA_STUDIO_SD_SCRIPTS"])
    trainer_python = pick("trainer_python", ["LORA_STUDIO_TRAINER_PYTHON"])
    return Settings(
        workspace=workspace,
        host=pick("host", ["GRADIO_SERVER_NAME"]) or "127.0.0.1",
        port=int(port_text) if port_text else DEFAULT_PORT,
        share=bool(flags.get("share")) or _truthy(env.get("LORA_STUDIO_SHARE")),
        auth=auth,
        no_auth=bool(flags.get("no_auth")) or _truthy(env.get("LORA_STUDIO_NO_AUTH")),
        root_path=pick("root_path", ["GRADIO_ROOT_PATH"]) or "",
        heartbeat_s=_heartbeat(pick("heartbeat", ["GRADIO_HEARTBEAT_INTERVAL"])),
        stop_grace_s=float(pick("stop_grace", ["LORA_STUDIO_STOP_GRACE"]) or 10.0),
        max_upload=pick("max_upload", ["LORA_STUDIO_MAX_UPLOAD"])
        or (SPACE_MAX_UPLOAD if space_mode else "4gb"),
        sd_scripts=Path(sd_scripts).expanduser().absolute() if sd_scripts else None,
        trainer_python=Path(trainer_python).expanduser().absolute() if trainer_python else None,
        space_mode=space_mode,
        workspace_limit=_size_setting("--workspace-limit", limit_text),
        env=env,
    )

"""The project's rules, enforced: lint, format, types, and which modules may import what."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PACKAGE = ROOT / "lora_studio"


def run_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def test_only_the_ui_imports_gradio() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*python_files(PACKAGE), ROOT / "app.py"]
        if "ui" not in path.relative_to(PACKAGE if path.is_relative_to(PACKAGE) else ROOT).parts[:1]
        and "gradio" in {top(name) for name in imported_modules(path)}
    ]
    assert offenders == []


def test_nothing_in_lora_studio_imports_torch() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(PACKAGE)
        if {"torch", "torchvision"} & {top(name) for name in imported_modules(path)}
    ]
    assert offenders == []


def test_onnxruntime_only_in_workers() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(PACKAGE)
        if "workers" not in path.relative_to(PACKAGE).parts[:1]
        and "onnxruntime" in {top(name) for name in imported_modules(path)}
    ]
    assert offenders == []


def test_import_contracts() -> None:
    result = run_tool(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint() -> None:
    result = run_tool(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run_tool(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(600)
def test_mypy_strict() -> None:
    result = run_tool(str(BIN / "mypy"), "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_is_documented_in_the_readme() -> None:
    from lora_studio.core.settings import SETTINGS_HELP

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for flag, envs, text in SETTINGS_HELP:
        row = f"| `{flag}` | {', '.join(f'`{env}`' for env in envs)} | {text} |"
        assert row in readme, f"README.md lacks the row: {row}"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[: readme.index("\n## ")]
    assert "./run.sh" in head and "./test.sh" in head
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./test.sh" in ci


def test_every_public_api_name_is_in_the_readme(tmp_path: Path) -> None:
    from lora_studio.core.settings import Settings
    from lora_studio.services import build_services
    from lora_studio.ui import build_ui

    config = build_ui(build_services(Settings(workspace=tmp_path))).get_config_file()
    names = {
        dependency["api_name"]
        for dependency in config["dependencies"]
        if dependency.get("api_name") and dependency.get("api_visibility", "public") == "public"
    }
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert names, "the app declares no API names"
    assert sorted(name for name in names if f"`/{name}`" not in readme) == []

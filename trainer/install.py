"""Install kohya-ss/sd-scripts at the pinned commit into its own virtual environment.

    python -m trainer.install [--system-site-packages] [--dir DIR] [--torch-index-url URL]

Steps (each printed, each idempotent): clone the repository at trainer/SDSCRIPTS_COMMIT into
DIR/sd-scripts; make DIR/venv; install torch if the venv cannot import it; install sd-scripts'
requirements.txt (from inside the checkout: it holds ``-e .``) plus the extras people use, with torch
held at the installed version; verify by building the four LoRA scripts' parsers.

With LORA_STUDIO_SD_SCRIPTS (a checkout) and LORA_STUDIO_TRAINER_PYTHON (its interpreter) set, nothing
is cloned or created: the existing install is only verified. Exit status 0 done, 1 a step failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from lora_studio.config.launch import venv_python
from lora_studio.core.settings import load_settings

TRAINER_DIR = Path(__file__).resolve().parent
REPO_URL = "https://github.com/kohya-ss/sd-scripts.git"
COMMIT = (TRAINER_DIR / "SDSCRIPTS_COMMIT").read_text(encoding="utf-8").strip()
TORCH_SPEC = ("torch==2.13.0", "torchvision==0.28.0")
# Not all in sd-scripts' requirements: LyCORIS (LoCon/LoHa/LoKr/DoRA), 8-bit optimizers, Prodigy.
EXTRAS = ("lycoris-lora", "bitsandbytes", "prodigyopt==1.1.2")


class StepFailed(Exception):
    """A step of the install failed; the message says which and what to do."""


def clone_argv(url: str, checkout: Path) -> list[str]:
    return ["git", "clone", "--no-checkout", url, str(checkout)]


def fetch_argv(checkout: Path, commit: str) -> list[str]:
    return ["git", "-C", str(checkout), "fetch", "origin", commit]


def checkout_argv(checkout: Path, commit: str) -> list[str]:
    return ["git", "-C", str(checkout), "checkout", "--detach", commit]


def venv_argv(python: str, venv: Path, *, system_site_packages: bool) -> list[str]:
    argv = [python, "-m", "venv"]
    if system_site_packages:
        argv.append("--system-site-packages")  # reuse a preinstalled CUDA torch on rented GPU images
    return [*argv, str(venv)]


def pip_argv(python: Path, *args: str) -> list[str]:
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]


def torch_install_argv(python: Path, *, index_url: str | None) -> list[str]:
    extra = ["--index-url", index_url] if index_url else []
    return pip_argv(python, *extra, *TORCH_SPEC)


def requirements_argv(python: Path, constraints: Path) -> list[str]:
    return pip_argv(python, "-c", str(constraints), "-r", "requirements.txt", *EXTRAS)


def verify_argv(python: Path, checkout: Path) -> list[str]:
    return [str(python), str(TRAINER_DIR / "dump_args.py"), "--sd-scripts", str(checkout), "--check"]


def run(argv: Sequence[str], *, cwd: Path | None = None, what: str) -> None:
    """Run one step with its output streaming to ours (the job log); raise StepFailed on failure."""
    print(f"$ {' '.join(argv)}", flush=True)
    result = subprocess.run(list(argv), cwd=cwd, check=False)
    if result.returncode != 0:
        raise StepFailed(f"{what} failed (exit status {result.returncode}); see the output above.")


def capture(argv: Sequence[str], *, cwd: Path | None = None) -> tuple[int, str]:
    result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    return result.returncode, result.stdout.strip()


def ensure_checkout(checkout: Path, *, url: str, commit: str) -> None:
    if (checkout / ".git").is_dir():
        code, head = capture(["git", "-C", str(checkout), "rev-parse", "HEAD"])
        if code == 0 and head == commit:
            print(f"sd-scripts already at {commit[:10]} in {checkout}", flush=True)
            return
    elif checkout.exists() and any(checkout.iterdir()):
        raise StepFailed(f"{checkout} exists but is not a git checkout; move it away and run again.")
    else:
        run(clone_argv(url, checkout), what="cloning sd-scripts")
    if capture(["git", "-C", str(checkout), "cat-file", "-e", f"{commit}^{{commit}}"])[0] != 0:
        run(fetch_argv(checkout, commit), what=f"fetching commit {commit[:10]}")
    run(checkout_argv(checkout, commit), what=f"checking out {commit[:10]}")


def ensure_torch(python: Path, *, index_url: str | None) -> str:
    code, version = capture([str(python), "-c", "import torch; print(torch.__version__)"])
    if code == 0 and version:
        print(f"torch {version} already importable; keeping it", flush=True)
        return version
    run(torch_install_argv(python, index_url=index_url), what="installing torch")
    code, version = capture([str(python), "-c", "import torch; print(torch.__version__)"])
    if code != 0:
        raise StepFailed("torch was installed but does not import; check the output above.")
    return version


def install(
    target: Path,
    *,
    system_site_packages: bool,
    index_url: str | None,
    url: str,
    checkout: Path | None = None,
    python: Path | None = None,
) -> Path:
    """Clone (unless ``checkout`` is given), create the venv (unless ``python`` is), install, verify."""
    target.mkdir(parents=True, exist_ok=True)
    if checkout is None:
        checkout = target / "sd-scripts"
        print(f"[1/5] sd-scripts {COMMIT[:10]} -> {checkout}", flush=True)
        ensure_checkout(checkout, url=url, commit=COMMIT)
    elif not (checkout / "train_network.py").is_file():
        raise StepFailed(f"LORA_STUDIO_SD_SCRIPTS={checkout} holds no train_network.py.")
    else:
        print(f"[1/5] using the sd-scripts checkout {checkout} as it is", flush=True)
    venv = target / "venv"
    python = python or venv_python(venv)
    print(f"[2/5] virtual environment -> {python}", flush=True)
    if not python.is_file():
        run(
            venv_argv(sys.executable, venv, system_site_packages=system_site_packages),
            what="creating the venv",
        )
    print("[3/5] torch", flush=True)
    torch_version = ensure_torch(python, index_url=index_url)
    print("[4/5] sd-scripts requirements and extras (torch held at the installed version)", flush=True)
    constraints = target / "constraints.txt"
    constraints.write_text(f"torch=={torch_version}\n", encoding="utf-8")
    run(requirements_argv(python, constraints), cwd=checkout, what="installing the requirements")
    print("[5/5] verify: build the LoRA scripts' parsers", flush=True)
    run(verify_argv(python, checkout), what="building the parsers")
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.install", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=TRAINER_DIR, help="install into DIR/sd-scripts and DIR/venv"
    )
    parser.add_argument(
        "--system-site-packages", action="store_true", help="let the venv see the system torch"
    )
    parser.add_argument(
        "--torch-index-url", help="pip index for torch, e.g. https://download.pytorch.org/whl/cpu"
    )
    parser.add_argument("--repo-url", default=REPO_URL, help="where to clone sd-scripts from")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        if settings.sd_scripts is not None and settings.trainer_python is not None:
            print(f"Using {settings.sd_scripts} with {settings.trainer_python}; only verifying.", flush=True)
            run(verify_argv(settings.trainer_python, settings.sd_scripts), what="building the parsers")
            python = settings.trainer_python
        else:
            python = install(
                args.dir.expanduser().absolute(),
                system_site_packages=args.system_site_packages,
                index_url=args.torch_index_url,
                url=args.repo_url,
                checkout=settings.sd_scripts,
                python=settings.trainer_python,
            )
    except StepFailed as error:
        print(f"install failed: {error}", file=sys.stderr, flush=True)
        return 1
    print(f"sd-scripts is ready; trainer Python: {python}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

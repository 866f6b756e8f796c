"""argv builders: accelerate launch (single, multi-GPU, multi-node) and the trainer installer."""

from __future__ import annotations

from pathlib import Path

from lora_studio.config.launch import (
    ACCELERATE_LAUNCH,
    TrainerPaths,
    install_argv,
    train_argv,
    trainer_paths,
    trainer_problems,
)
from lora_studio.core.settings import Settings
from tests.training.helpers import make_config
from trainer import install

PATHS = TrainerPaths(checkout=Path("/opt/sd-scripts"), python=Path("/opt/venv/bin/python"))


def _argv(**launch: object) -> list[str]:
    config = make_config("sdxl", launch=launch, training={"mixed_precision": "bf16"})
    return train_argv(
        config, paths=PATHS, config_file=Path("/run/config.toml"), dataset_config=Path("/run/dataset.toml")
    )


def _value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_single_gpu_command_is_explicit() -> None:
    argv = _argv()
    assert argv[:3] == ["/opt/venv/bin/python", *ACCELERATE_LAUNCH]
    assert _value(argv, "--num_processes") == "1" and _value(argv, "--num_machines") == "1"
    assert _value(argv, "--num_cpu_threads_per_process") == "2"
    assert _value(argv, "--mixed_precision") == "bf16" and _value(argv, "--dynamo_backend") == "no"
    assert "--multi_gpu" not in argv and "--gpu_ids" not in argv
    assert argv[-5:] == ["/opt/sd-scripts/sdxl_train_network.py", "--config_file", "/run/config.toml",
                         "--dataset_config", "/run/dataset.toml"]  # fmt: skip


def test_multi_gpu_and_multi_node_pass_through_to_accelerate() -> None:
    argv = _argv(num_processes=2, gpu_ids=[0, 1])
    assert "--multi_gpu" in argv and _value(argv, "--gpu_ids") == "0,1"
    argv = _argv(
        num_processes=4, num_machines=2, machine_rank=1, main_process_ip="10.0.0.1", main_process_port=29500
    )
    assert "--multi_gpu" in argv and _value(argv, "--num_machines") == "2"
    assert _value(argv, "--machine_rank") == "1" and _value(argv, "--main_process_ip") == "10.0.0.1"
    assert _value(argv, "--main_process_port") == "29500"
    script_at = next(i for i, arg in enumerate(argv) if arg.endswith(".py"))
    assert all(arg.startswith("--") or not arg.endswith(".py") for arg in argv[:script_at])


def test_trainer_paths_follow_settings(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path, sd_scripts=tmp_path / "sd", trainer_python=tmp_path / "py")
    paths = trainer_paths(settings)
    assert paths == TrainerPaths(tmp_path / "sd", tmp_path / "py")
    assert len(trainer_problems(paths)) == 2
    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "train_network.py").write_text("")
    (tmp_path / "py").write_text("")
    assert trainer_problems(paths) == []


def test_install_argv_builders() -> None:
    assert install_argv("python3", system_site_packages=True, target_dir=Path("/t")) == [
        "python3", "-m", "trainer.install", "--system-site-packages", "--dir", "/t",
    ]  # fmt: skip
    assert install.COMMIT == "48d368fa557731ad0488c07304dfeba8c07910eb"
    checkout, python = Path("/t/sd-scripts"), Path("/t/venv/bin/python")
    assert install.clone_argv("URL", checkout) == ["git", "clone", "--no-checkout", "URL", "/t/sd-scripts"]
    assert install.checkout_argv(checkout, "abc") == [
        "git",
        "-C",
        "/t/sd-scripts",
        "checkout",
        "--detach",
        "abc",
    ]
    assert install.venv_argv("py", Path("/t/venv"), system_site_packages=True) == [
        "py", "-m", "venv", "--system-site-packages", "/t/venv",
    ]  # fmt: skip
    assert "--system-site-packages" not in install.venv_argv("py", Path("/v"), system_site_packages=False)
    torch = install.torch_install_argv(python, index_url="https://download.pytorch.org/whl/cpu")
    assert torch[:3] == ["/t/venv/bin/python", "-m", "pip"] and "torch==2.13.0" in torch
    assert torch[torch.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    reqs = install.requirements_argv(python, Path("/t/constraints.txt"))
    assert (
        reqs[reqs.index("-c") + 1] == "/t/constraints.txt"
        and reqs[reqs.index("-r") + 1] == "requirements.txt"
    )
    assert {"lycoris-lora", "bitsandbytes"} <= set(reqs) and any(a.startswith("prodigyopt") for a in reqs)
    verify = install.verify_argv(python, checkout)
    assert verify[1].endswith("dump_args.py") and verify[-1] == "--check"


def test_installer_verifies_an_existing_install_without_cloning(tmp_path: Path, monkeypatch, capsys) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(install, "run", lambda argv, cwd=None, what="": calls.append(list(argv)))
    monkeypatch.setenv("LORA_STUDIO_SD_SCRIPTS", str(tmp_path / "sd"))
    monkeypatch.setenv("LORA_STUDIO_TRAINER_PYTHON", str(tmp_path / "py"))
    assert install.main([]) == 0
    assert len(calls) == 1 and calls[0][-1] == "--check"
    assert "sd-scripts is ready" in capsys.readouterr().out


def test_installer_reports_a_failed_step(tmp_path: Path, monkeypatch, capsys) -> None:
    def fail(argv, cwd=None, what=""):
        raise install.StepFailed(f"{what} failed (exit status 128)")

    monkeypatch.delenv("LORA_STUDIO_SD_SCRIPTS", raising=False)
    monkeypatch.delenv("LORA_STUDIO_TRAINER_PYTHON", raising=False)
    monkeypatch.setattr(install, "run", fail)
    assert install.main(["--dir", str(tmp_path / "t")]) == 1
    assert "install failed: cloning sd-scripts failed" in capsys.readouterr().err

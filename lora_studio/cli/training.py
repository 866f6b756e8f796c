"""``python -m lora_studio train ...``: render sd-scripts TOMLs and the launch command; list presets."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from lora_studio.config.concepts import scan_concepts
from lora_studio.config.launch import train_argv, trainer_paths, trainer_problems
from lora_studio.config.presets import (
    apply_overrides,
    config_from_toml,
    config_to_toml,
    list_presets,
    load_preset,
)
from lora_studio.config.render import RenderPaths, check_rendered, render_run
from lora_studio.config.training import TrainingConfig, config_invalid
from lora_studio.config.training_rules import launch_problems
from lora_studio.core.atomic import write_json_atomic, write_text_atomic
from lora_studio.core.errors import DatasetNotFound, InvalidInput
from lora_studio.core.paths import child_path
from lora_studio.core.settings import Settings

TRAIN_TOML = "config.toml"
DATASET_TOML = "dataset.toml"
PROMPTS_TXT = "sample_prompts.txt"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = subparsers.add_parser("train", help="training configs: render TOMLs, list presets")
    commands = train.add_subparsers(dest="train_command", required=True, metavar="COMMAND")

    render = commands.add_parser(
        "render",
        help="write the sd-scripts training TOML, dataset TOML, prompts and command",
        description="Render a preset or config file for a dataset into sd-scripts files (nothing is run).",
    )
    source = render.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="a preset name (see `train presets`)")
    source.add_argument("--config", type=Path, help="a saved or exported config .toml file")
    render.add_argument(
        "--dataset", required=True, help="dataset name (a folder in the workspace's datasets/)"
    )
    render.add_argument("--model", type=Path, help="the base model file (sets model.base)")
    render.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one setting, e.g. --set network.dim=32 --set optimizer.learning_rate=2e-4",
    )
    render.add_argument("--out", type=Path, required=True, help="folder for the rendered files")
    render.add_argument(
        "--cpu", action="store_true", help="refuse GPU-only settings (fp16, 8-bit optimizers)"
    )
    render.set_defaults(func=render_command)

    presets = commands.add_parser("presets", help="list the training presets", description="List presets.")
    presets.set_defaults(func=presets_command)


def _load_config(args: argparse.Namespace) -> TrainingConfig:
    if args.preset:
        config = load_preset(args.preset)
    else:
        path: Path = args.config
        if not path.is_file():
            raise InvalidInput(f"No config file at {path}.")
        config = config_from_toml(path.read_text(encoding="utf-8"), source=str(path))
    assignments = list(args.assignments)
    if args.model is not None:
        assignments.insert(0, f"model.base={json.dumps(str(args.model.expanduser().absolute()))}")
    return apply_overrides(config, assignments) if assignments else config


def render_command(args: argparse.Namespace, settings: Settings) -> int:
    config = _load_config(args)
    dataset_dir = child_path(settings.datasets_dir, args.dataset)
    if not dataset_dir.is_dir():
        raise DatasetNotFound(args.dataset, hint=f"Datasets live in {settings.datasets_dir}.")
    concepts = scan_concepts(dataset_dir)
    problems = launch_problems(config, gpu_available=not args.cpu, check_files=False)
    if problems:
        raise config_invalid(problems, "This config cannot train yet")

    out = args.out.expanduser().absolute()
    paths = RenderPaths(
        output_dir=str((settings.outputs_dir / config.saving.output_name).absolute()),
        logging_dir=str(out / "logs"),
        sample_prompts=str(out / PROMPTS_TXT),
    )
    rendered = render_run(config, concepts, paths)
    check_rendered(rendered)
    trainer = trainer_paths(settings)
    argv = train_argv(config, paths=trainer, config_file=out / TRAIN_TOML, dataset_config=out / DATASET_TOML)

    write_text_atomic(out / TRAIN_TOML, rendered.train_toml)
    write_text_atomic(out / DATASET_TOML, rendered.dataset_toml)
    if rendered.prompts is not None:
        write_text_atomic(out / PROMPTS_TXT, rendered.prompts)
    write_text_atomic(out / "training_config.toml", config_to_toml(config))
    write_json_atomic(out / "command.json", argv)
    write_text_atomic(out / "command.txt", shlex.join(argv) + "\n")

    print(f"Rendered {config.script} for dataset {args.dataset!r} ({len(concepts)} concept(s)) into {out}")
    print(shlex.join(argv))
    for problem in launch_problems(config, gpu_available=True) + trainer_problems(trainer, config.script):
        print(f"note: {problem}")
    return 0


def presets_command(args: argparse.Namespace, settings: Settings) -> int:
    presets = list_presets()
    width = max((len(preset.name) for preset in presets), default=0)
    for preset in presets:
        print(f"{preset.name:<{width}}  {preset.family:<5} {preset.description}")
    return 0

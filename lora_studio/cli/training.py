"""``python -m lora_studio train ...``: render sd-scripts files, pre-flight check, start runs; list presets."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
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
from lora_studio.core.types import JobStatus
from lora_studio.jobs.logs import read_from
from lora_studio.services import build_services
from lora_studio.services.training import TrainingService

TRAIN_TOML = "config.toml"
DATASET_TOML = "dataset.toml"
PROMPTS_TXT = "sample_prompts.txt"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = subparsers.add_parser("train", help="training: render, check, start runs; list presets")
    commands = train.add_subparsers(dest="train_command", required=True, metavar="COMMAND")

    render = commands.add_parser(
        "render",
        help="write the sd-scripts training TOML, dataset TOML, prompts and command",
        description="Render a preset or config file for a dataset into sd-scripts files (nothing is run).",
    )
    _add_config_arguments(render)
    render.add_argument("--out", type=Path, required=True, help="folder for the rendered files")
    render.set_defaults(func=render_command)

    doctor = commands.add_parser(
        "doctor",
        help="pre-flight check of a dataset and config (nothing is run)",
        description="Check images, captions, trigger word, sizes, layout, model files and the step math.",
    )
    _add_config_arguments(doctor)
    doctor.add_argument("--trigger", help="the trigger word every caption should contain")
    doctor.set_defaults(func=doctor_command)

    start = commands.add_parser(
        "start",
        help="start training (same arguments as render); prints the job id",
        description="Check, write the run folder (runs/<job id>/) and start the training job, whose LoRA "
        "files go under outputs/. Returns at "
        "once with the job id unless --wait is given.",
    )
    _add_config_arguments(start)
    start.add_argument("--trigger", help="the trigger word every caption should contain (pre-flight)")
    start.add_argument("--skip-doctor", action="store_true", help="start even if the pre-flight check fails")
    start.add_argument(
        "--wait",
        action="store_true",
        help="follow the log; exit 0 succeeded, 1 failed, 3 stopped (Ctrl-C stops the job: 130)",
    )
    start.set_defaults(func=start_command)

    presets = commands.add_parser("presets", help="list the training presets", description="List presets.")
    presets.set_defaults(func=presets_command)


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments render, doctor and start share: which config, which dataset, which changes."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="a preset name (see `train presets`)")
    source.add_argument("--config", type=Path, help="a saved or exported config .toml file")
    parser.add_argument(
        "--dataset", required=True, help="dataset name (a folder in the workspace's datasets/)"
    )
    parser.add_argument("--model", type=Path, help="the base model file (sets model.base)")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one setting, e.g. --set network.dim=32 --set optimizer.learning_rate=2e-4",
    )
    parser.add_argument(
        "--cpu", action="store_true", help="refuse GPU-only settings (fp16, 8-bit optimizers)"
    )


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


def _training(settings: Settings) -> TrainingService:
    return TrainingService(settings, build_services(settings).jobs)


def doctor_command(args: argparse.Namespace, settings: Settings) -> int:
    report = _training(settings).doctor(
        _load_config(args), args.dataset, trigger=args.trigger, gpu_available=not args.cpu
    )
    for finding in report.findings:
        print(finding.line())
        for item in finding.items:
            print(f"    {item}")
    return 0 if report.ok else 1


def start_command(args: argparse.Namespace, settings: Settings) -> int:
    training = _training(settings)
    launch = training.start(
        _load_config(args),
        args.dataset,
        trigger=args.trigger,
        gpu_available=not args.cpu,
        preflight=not args.skip_doctor,
    )
    print(launch.job.id)
    print(f"run folder: {launch.run_dir}", file=sys.stderr)
    print(f"LoRA files and samples: {launch.output_dir}", file=sys.stderr)
    if not args.wait:
        return 0
    return follow_until_done(training, launch.job.id)


# Exit codes of `train start --wait` for each final status.
WAIT_EXIT = {JobStatus.SUCCEEDED: 0, JobStatus.FAILED: 1, JobStatus.STOPPED: 3}


def follow_until_done(training: TrainingService, job_id: str, poll_s: float = 0.2) -> int:
    """Copy the job's log to stdout as it grows; Ctrl-C stops the job. Exit code from the outcome."""
    log_path, offset, out = training.jobs.log_path(job_id), 0, sys.stdout.buffer
    interrupted = False
    while True:
        try:
            data, offset = read_from(log_path, offset)
            out.write(data)
            out.flush()
            record = training.jobs.get(job_id)
            if not record.status.is_active:
                data, offset = read_from(log_path, offset)  # what the last moments wrote
                out.write(data)
                out.flush()
                break
            if not data:
                time.sleep(poll_s)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            print(f"\nstopping job {job_id} ...", file=sys.stderr)
            training.stop(job_id)
    print(
        f"{job_id}: {record.status.value}" + (f" ({record.reason})" if record.reason else ""), file=sys.stderr
    )
    explanation = training.explain(job_id)
    if explanation is not None:
        print(f"What went wrong: {explanation.title}\nFix: {explanation.fix}", file=sys.stderr)
    for lora in training.loras(job_id):
        print(f"LoRA ({lora.label}): {lora.path}", file=sys.stderr)
    return 130 if interrupted else WAIT_EXIT.get(record.status, 1)

"""``python -m lora_studio tag DATASET [--model ID_OR_PATH] [options]``: the Tagging tab in a terminal.

It runs the same worker argv as the tab's job, in the foreground, so the progress bar and log go
straight to the terminal; the exit code is the worker's.
"""

from __future__ import annotations

import argparse
import subprocess

from lora_studio.config.tagging import add_tagging_arguments, options_from_namespace
from lora_studio.core.errors import InvalidInput
from lora_studio.core.settings import Settings
from lora_studio.services.tagging import tag_job_spec, tagger_choices


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tag",
        help="tag a dataset's images with a WD14 tagger (one caption file per image)",
        description="Tag the images of a dataset with a WD14 ONNX tagger, writing one caption file per "
        "image. Runs in the foreground; exits non-zero when the run fails.",
    )
    parser.add_argument("dataset", nargs="?", metavar="DATASET", help="dataset name (a folder in datasets/)")
    parser.add_argument("--list-models", action="store_true", help="list the known taggers and exit")
    add_tagging_arguments(parser)
    parser.set_defaults(func=run_tag)


def run_tag(args: argparse.Namespace, settings: Settings) -> int:
    """Run the tagger in the foreground; returns its exit code.

    Raises:
        LoraStudioError: bad options, dataset or model (before anything runs).
    """
    if args.list_models:
        for entry in tagger_choices():
            print(f"{entry.id:32} {entry.repo_id:44} {entry.version} {entry.batch:8} {entry.download_mb} MB")
        return 0
    if not args.dataset:
        raise InvalidInput("Name the dataset to tag: python -m lora_studio tag DATASET.")
    spec = tag_job_spec(settings, args.dataset, options_from_namespace(args))
    env = {**settings.env, **spec.env} if spec.env and settings.env else None
    process = subprocess.Popen(list(spec.argv), cwd=spec.cwd, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The worker got the same Ctrl-C; let it print its summary and stop.
        return process.wait()

"""``python -m lora_studio``: the command line over the same services as the web app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lora_studio.cli import captions, datasets, jobs, models, tagging, training
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.settings import Settings, add_arguments, load_settings

# Each area adds its own sub-commands (register(subparsers)).
AREA_MODULES = (jobs, datasets, tagging, captions, training, models)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lora_studio", description="LoRA Studio command line")
    parser.add_argument(
        "--workspace",
        dest="global_workspace",
        metavar="DIR",
        default=None,
        help="workspace folder [env: LORA_STUDIO_HOME]",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = subparsers.add_parser("serve", help="start the web app (same flags as app.py)")
    add_arguments(serve)
    serve.set_defaults(func=_serve)
    for module in AREA_MODULES:
        module.register(subparsers)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from lora_studio.ui.launch import serve  # gradio loads only for this command

    serve(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "workspace", None) is None:
        args.workspace = args.global_workspace
    settings = load_settings(
        args if args.command == "serve" else argparse.Namespace(workspace=args.workspace)
    )
    try:
        code: int = args.func(args, settings)
        return code
    except LoraStudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

"""LoRA Studio: ``python app.py [--host ...] [--port ...] [--share] [--auth user:pass] ...``."""

from __future__ import annotations

import argparse

from lora_studio.core.settings import add_arguments, load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description="LoRA Studio: from a folder of images to a trained LoRA.")
    add_arguments(parser)
    settings = load_settings(parser.parse_args())
    from lora_studio.ui.launch import serve  # after --help, so --help answers instantly

    serve(settings)


if __name__ == "__main__":
    main()

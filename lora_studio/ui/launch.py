"""Serve the app: settings → services → Blocks → launch with safe defaults."""

from __future__ import annotations

import logging
import os

import gradio as gr

from lora_studio.core.settings import Settings
from lora_studio.services import build_services
from lora_studio.services.access import resolve_access
from lora_studio.ui import CSS, build_ui


def serve(settings: Settings) -> None:
    """Start the web server and block until it is stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services = build_services(settings)
    # Only generated previews are served as files; never datasets, models or the workspace root.
    thumbnails = settings.cache_dir / "thumbs"
    thumbnails.mkdir(parents=True, exist_ok=True)
    gr.set_static_paths([thumbnails])
    # Gradio reads its keepalive interval only from the environment, at each request.
    os.environ["GRADIO_HEARTBEAT_INTERVAL"] = f"{settings.heartbeat_s:g}"
    access = resolve_access(settings)
    if access.message:
        print(access.message, flush=True)
    demo = build_ui(services)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        auth=access.auth,
        auth_message="LoRA Studio: log in with the credentials printed in the console."
        if access.generated
        else None,
        root_path=settings.root_path or None,
        ssr_mode=False,
        run_history=False,
        max_file_size=settings.max_upload,
        allowed_paths=[],
        footer_links=["api", "settings"],
        css=CSS,
        show_error=True,
        quiet=False,
    )

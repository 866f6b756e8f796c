"""Small pieces other tabs reuse: the dataset picker's choices, and gr.Progress as a service callback."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from lora_studio.services import Services


def dataset_choices(services: Services) -> list[str]:
    """Names of every dataset, sorted; cheap (one cached folder listing), so fine on every page load."""
    return services.datasets.dataset_names()


def dataset_dropdown(services: Services, selected: str | None = None) -> gr.Dropdown:
    """A picker update: ``selected`` when it still exists, else the first dataset (or none)."""
    choices = dataset_choices(services)
    value = selected if selected in choices else (choices[0] if choices else None)
    return gr.Dropdown(choices=choices, value=value)


def progress_callback(progress: gr.Progress) -> Callable[[float, str], None]:
    """Adapt ``gr.Progress`` to the services' ``on_progress(fraction, message)``."""

    def report(fraction: float, message: str) -> None:
        progress(fraction, desc=message)

    return report

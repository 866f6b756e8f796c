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


def dataset_list_refresh(services: Services, current: str | None) -> gr.Dropdown:
    """A picker update for opening a tab: new choices, and the value only where it must change.

    ``current`` may be stale: a tab opened right after a reload sends the value from before the
    page-load handler filled it, and setting that back would clear the loaded one. So an empty
    ``current`` leaves the value alone; one that no longer exists is cleared.
    """
    choices = dataset_choices(services)
    if not current:
        return gr.Dropdown(choices=choices)
    return gr.Dropdown(choices=choices, value=current if current in choices else None)


def progress_callback(progress: gr.Progress) -> Callable[[float, str], None]:
    """Adapt ``gr.Progress`` to the services' ``on_progress(fraction, message)``."""

    def report(fraction: float, message: str) -> None:
        progress(fraction, desc=message)

    return report

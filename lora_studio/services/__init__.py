"""Services: what the UI and the CLI call. ``build_services`` wires them for one workspace."""

from __future__ import annotations

from dataclasses import dataclass

from lora_studio.core.settings import Settings
from lora_studio.jobs.engine import JobEngine
from lora_studio.services.captions.service import CaptionService
from lora_studio.services.datasets import DatasetService
from lora_studio.services.jobs import JobsService
from lora_studio.services.models import ModelService
from lora_studio.services.tagging import TaggingService
from lora_studio.services.training import TrainingService


@dataclass
class Services:
    """Every service of one LoRA Studio process, passed explicitly to the UI and the CLI."""

    settings: Settings
    jobs: JobsService
    models: ModelService
    datasets: DatasetService
    captions: CaptionService
    tagging: TaggingService
    training: TrainingService


def build_services(settings: Settings, *, reconcile: bool = True) -> Services:
    """Create the workspace folders and the services over them; repair orphaned job records."""
    settings.ensure_workspace()
    engine = JobEngine(settings.runs_dir, stop_grace_s=settings.stop_grace_s)
    if reconcile:
        engine.reconcile()
    jobs = JobsService(engine)
    return Services(
        settings=settings,
        jobs=jobs,
        models=ModelService(settings),
        datasets=DatasetService(settings),
        captions=CaptionService(settings),
        tagging=TaggingService(settings, jobs),
        training=TrainingService(settings, jobs),
    )

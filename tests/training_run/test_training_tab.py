"""The Training tab's own pieces without a browser: the panel texts, sample pages, and the tab's API names."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.settings import Settings
from lora_studio.services import build_services
from lora_studio.services.training import (
    CheckResult,
    DoctorReport,
    FailureExplanation,
    Finding,
    LoraFile,
    Severity,
)
from lora_studio.services.training.published import SampleImage
from lora_studio.ui import build_ui
from lora_studio.ui.tabs.training_format import doctor_markdown, explanation_markdown, lora_rows
from lora_studio.ui.tabs.training_run import ROWS_PER_PAGE, sample_page


def test_doctor_markdown_lists_findings_with_severities_and_why_start_is_refused() -> None:
    report = DoctorReport(
        (
            Finding("layout", Severity.OK, "1 concept folder(s): 2_ohwx (3 images)."),
            Finding(
                "captions", Severity.WARNING, "2 image(s) have no .txt caption", ("2_a/x_1.png", "2_a/y.png")
            ),
            Finding("model", Severity.ERROR, "No base model is set"),
        ),
        None,
    )
    text = doctor_markdown(CheckResult(report, None, "the dataset has no concept folder"))
    assert text.startswith("### ❌ Pre-flight: 1 problem(s)")
    assert "- ⚠️ **captions**" in text and r"`2_a/x_1.png`" in text and "- ❌ **model**" in text
    assert r"1 concept folder(s): 2\_ohwx" in text
    assert "**No preview:** the dataset has no concept folder" in text


def test_explanation_and_lora_rows() -> None:
    assert explanation_markdown(None) == ""
    text = explanation_markdown(
        FailureExplanation("CUDA ran out of memory", "Turn on X.", "torch.OutOfMemoryError")
    )
    assert (
        "### ❌ CUDA ran out of memory" in text
        and "**Fix:** Turn on X." in text
        and "OutOfMemoryError" in text
    )
    rows = lora_rows(
        [LoraFile(Path("a-000001.safetensors"), 1300, epoch=1), LoraFile(Path("a.safetensors"), 2_500_000)]
    )
    assert rows == [["a-000001.safetensors", "epoch 1", "1.3 kB"], ["a.safetensors", "final", "2.5 MB"]]


def test_sample_pages_hold_whole_rows() -> None:
    images = [
        SampleImage(
            Path(f"e{row}_{prompt}.png"), f"epoch {row} · prompt {prompt + 1}", f"epoch {row}", prompt
        )
        for row in range(1, ROWS_PER_PAGE + 3)
        for prompt in range(3)
    ]
    first, note, columns = sample_page(images, 1)
    assert len(first) == ROWS_PER_PAGE * 3 and columns == 3 and note.startswith("page 1 of 2")
    last, note, _ = sample_page(images, 99)  # past the end: the last page
    assert [image.row for image in last[::3]] == [f"epoch {ROWS_PER_PAGE + 1}", f"epoch {ROWS_PER_PAGE + 2}"]
    assert note.startswith("page 2 of 2")
    assert sample_page([], 1)[0] == []


def test_the_tab_builds_with_its_api_names(settings: Settings) -> None:
    demo = build_ui(build_services(settings))
    names = {dep.api_name for dep in demo.fns.values()}
    expected = {
        "training_check", "training_start", "training_resume", "training_lora_download", "training_install",
        "training_load_preset", "training_load_config", "training_import_config", "training_save_config",
        "training_export_config", "training_datasets",
    }  # fmt: skip
    assert expected <= names

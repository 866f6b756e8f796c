"""``TaggingService``: start a real tagging job, read its summary back, stop it mid-run, list the taggers."""

from __future__ import annotations

import json
import time

import pytest
from PIL import Image

from lora_studio.config.tagging import TaggingOptions
from lora_studio.core.errors import DatasetNotFound, JobNotFound
from lora_studio.core.types import JobKind, JobStatus
from lora_studio.services.tagging import TAGGERS_FOLDER
from lora_studio.services.tagging_summary import SUMMARY_PREFIX, parse_summary_line, read_summary
from lora_studio.workers.wd14 import model_files
from lora_studio.workers.wd14.summary import SUMMARY_PREFIX as WORKER_PREFIX
from tests.fakes.children import spec
from tests.tagging.conftest import DEFAULT_CAPTIONS, read_captions
from tests.tagging.tiny_tagger import build_tiny_tagger


def test_the_service_follows_the_workers_conventions():
    assert SUMMARY_PREFIX == WORKER_PREFIX
    assert model_files.TAGGERS_FOLDER == TAGGERS_FOLDER


def test_start_tags_and_the_summary_says_what_happened(services, make_dataset, tiny_model):
    dataset = make_dataset()
    (dataset / "10_a" / "red.txt").write_text("kept", encoding="utf-8")
    (dataset / "10_a" / "broken.png").write_bytes(b"not an image")
    record = services.tagging.start("ds", TaggingOptions(model=str(tiny_model), workers=0, device="cpu"))
    assert record.kind is JobKind.TAG
    assert services.tagging.latest_job().id == record.id
    done = services.jobs.engine.wait(record.id, timeout=120)
    assert done.status is JobStatus.SUCCEEDED, services.jobs.tail(record.id)

    summary = services.tagging.summary(record.id)
    assert summary is not None
    assert (summary.images, summary.tagged, summary.written, summary.skipped_count) == (6, 4, 4, 2)
    assert summary.model == tiny_model.name and summary.provider == "CPUExecutionProvider"
    reasons = {item.image: item.reason for item in summary.skipped}
    assert reasons["10_a/red.png"].startswith("caption exists")
    assert reasons["10_a/broken.png"].startswith("unreadable image")
    assert dict(summary.top_tags)[">_<"] == 4
    expected = {name: text for name, text in DEFAULT_CAPTIONS.items() if name != "red"}
    assert read_captions(dataset / "10_a") == {**expected, "red": "kept"}
    assert services.tagging.summary(record.id) is summary  # an ended job's summary is read once


def test_stop_mid_run_keeps_the_partial_summary(services, make_dataset, tiny_model):
    big = {f"{i:03d}.png": Image.new("RGB", (1024, 1024), (i, 0, 0)) for i in range(150)}
    make_dataset("many", {"1_a": big})
    options = TaggingOptions(model=str(tiny_model), workers=0, batch_size=1)
    record = services.tagging.start("many", options)
    log = services.jobs.engine.log_path(record.id)
    deadline = time.monotonic() + 60
    while "tagging:" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.tagging.summary(record.id) is None  # still running
    services.jobs.stop(record.id)
    done = services.jobs.engine.wait(record.id, timeout=60)
    assert done.status is JobStatus.STOPPED
    summary = services.tagging.summary(record.id)
    assert summary is not None and summary.tagged < 150


def test_summary_of_other_jobs_and_unknown_ids(services):
    record = services.jobs.submit(spec("print('hi')", kind=JobKind.OTHER, title="not tagging"))
    services.jobs.engine.wait(record.id, timeout=60)
    assert services.tagging.summary(record.id) is None
    with pytest.raises(JobNotFound):
        services.tagging.summary("20250101-000000-tag-abcdef")


def test_start_checks_before_submitting(services):
    with pytest.raises(DatasetNotFound):
        services.tagging.start("missing", TaggingOptions())
    assert services.jobs.list_jobs() == []


def test_model_choices_mark_downloaded_and_list_local_folders(services):
    choices = dict((value, label) for label, value in services.tagging.model_choices())
    registry = services.tagging.registry
    assert list(choices)[: len(registry.taggers)] == registry.ids()
    assert "MB download" in choices["wd-vit-tagger-v3"]
    taggers = services.settings.models_dir / TAGGERS_FOLDER
    build_tiny_tagger(taggers / "wd-vit-tagger-v3")
    build_tiny_tagger(taggers / "my-own")
    (taggers / "half").mkdir()
    (taggers / "half" / "model.onnx").write_bytes(b"x")
    choices = dict((value, label) for label, value in services.tagging.model_choices())
    assert choices["wd-vit-tagger-v3"].endswith("downloaded")
    assert choices[str(taggers / "my-own")] == "my-own · local folder"
    assert str(taggers / "half") not in choices


def _line(**overrides):
    data = {
        "model": "m",
        "provider": "CPUExecutionProvider",
        "images": 3,
        "tagged": 2,
        "written": 1,
        "merged": 1,
        "skipped_count": 1,
        "skipped": [{"image": "1_a/x.png", "reason": "caption exists"}],
        "top_tags": [["solo", 2]],
        "elapsed_s": 0.5,
        "images_per_s": 4.0,
        "added_later": "ignored",
    }
    return SUMMARY_PREFIX + json.dumps({**data, **overrides})


def test_parse_summary_line():
    summary = parse_summary_line("tagging: 100%|##| 3/3 [00:01<00:00]" + _line())
    assert summary is not None and summary.top_tags == (("solo", 2),)
    assert summary.skip_reasons() == [("caption exists", 1)]
    assert parse_summary_line("no marker here") is None
    assert parse_summary_line(_line()[:-20]) is None  # cut short by a crash
    assert parse_summary_line(_line(tagged=-1)) is None


def test_read_summary_takes_the_last_good_line(tmp_path):
    log = tmp_path / "log"
    assert read_summary(log) is None
    log.write_text(f"start\n{_line(tagged=1)}\nnoise\r\n{_line(tagged=2)}\n{_line()[:30]}", encoding="utf-8")
    summary = read_summary(log)
    assert summary is not None and summary.tagged == 2
    many = [{"image": f"1_a/{i}.png", "reason": "unreadable image"} for i in range(3000)]
    log.write_text("x" * 10_000 + "\n" + _line(skipped=many, skipped_count=3000) + "\n", encoding="utf-8")
    summary = read_summary(log, max_bytes=len(log.read_bytes()) - 5000)
    assert summary is not None and len(summary.skipped) == 3000

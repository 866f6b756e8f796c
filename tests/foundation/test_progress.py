"""tqdm bars and epoch lines become progress."""

from __future__ import annotations

import pytest

from lora_studio.jobs.progress import ProgressTracker, parse_bar, parse_epoch


def test_it_per_second_bar_with_loss() -> None:
    progress = parse_bar("steps:  10%|█         | 100/1000 [01:00<09:00,  1.66it/s, avr_loss=0.123]")
    assert progress is not None
    assert (progress.step, progress.total, progress.desc) == (100, 1000, "steps")
    assert progress.fraction == pytest.approx(0.1)
    assert progress.rate == pytest.approx(1.66)
    assert progress.eta_s == 540
    assert progress.elapsed_s == 60
    assert progress.loss == pytest.approx(0.123)


def test_seconds_per_iteration_bar() -> None:
    progress = parse_bar("steps:  50%|█████     | 1/2 [00:39<00:39, 39.19s/it, avr_loss=1.14]")
    assert progress is not None
    assert progress.rate == pytest.approx(1 / 39.19)
    assert progress.unit == "it"
    assert progress.loss == pytest.approx(1.14)


def test_first_frame_has_unknowns() -> None:
    progress = parse_bar("steps:   0%|          | 0/2 [00:00<?, ?it/s]")
    assert progress is not None
    assert progress.step == 0 and progress.total == 2
    assert progress.eta_s is None and progress.rate is None


def test_hours_in_times() -> None:
    progress = parse_bar("steps:  1%|          | 10/1000 [0:10:00<1:39:00,  1.00it/s]")
    assert progress is not None
    assert progress.eta_s == 5940


def test_byte_bars_of_downloads() -> None:
    progress = parse_bar("model.safetensors:  45%|████▌     | 45.0M/100M [00:01<00:02, 30.1MB/s]")
    assert progress is not None
    assert progress.step == pytest.approx(45e6)
    assert progress.total == pytest.approx(100e6)
    assert progress.rate == pytest.approx(30.1e6)
    assert progress.unit == "B"


def test_bar_glued_to_a_log_line() -> None:
    line = "steps: 100%|██████████| 2/2 [00:49<00:00, 24.96s/it, avr_loss=1.16]2026-11-26 10:46:14 INFO     model saved."
    progress = parse_bar(line)
    assert progress is not None and progress.step == 2 and progress.loss == pytest.approx(1.16)


@pytest.mark.parametrize(
    "line",
    [
        "2026-11-26 11:28:29 INFO     Loading dataset config from dataset.toml     train_network.py:519",
        "running training / 学習開始",
        "  num batches per epoch / 1epochのバッチ数: 4",
        "bucket_reso_steps: 64",
        "",
    ],
)
def test_unrelated_lines_are_not_bars(line: str) -> None:
    assert parse_bar(line) is None


def test_epoch_lines() -> None:
    assert parse_epoch("epoch 3/10") == (3, 10)
    assert parse_epoch("epoch 1/1") == (1, 1)
    assert parse_epoch("  epoch 2/5  ") == (2, 5)
    assert parse_epoch("epoch is incremented. current_epoch: 0") is None


def test_tracker_follows_the_main_bar_and_keeps_loss_and_epoch() -> None:
    tracker = ProgressTracker("steps")
    assert not tracker.bar("  0%|          | 0/4 [00:00<?, ?it/s]")  # caching latents: not ours
    assert tracker.line("epoch 1/2")
    assert tracker.bar("steps:  25%|██▌       | 1/4 [00:02<00:06, 2.00s/it, avr_loss=0.5]")
    assert tracker.bar("steps:  50%|█████     | 2/4 [00:04<00:04, 2.00s/it]")  # no postfix this frame
    state = tracker.state
    assert (state.step, state.total, state.epoch, state.epochs) == (2, 4, 1, 2)
    assert state.loss == pytest.approx(0.5)


def test_validation_bars_do_not_count_as_steps() -> None:
    tracker = ProgressTracker("steps")
    assert not tracker.bar("validation steps:  50%|█████     | 1/2 [00:01<00:01, 1.00it/s, val_avg_loss=0.2]")

"""Collapsing carriage-return redraws, splitting glued lines, reading by offset."""

from __future__ import annotations

from pathlib import Path

from lora_studio.jobs.follow import LogFollower, UpdatePacer
from lora_studio.jobs.logs import LogCollapser, read_from, tail_start

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sd_scripts_log"


def collapse(data: bytes, chunk: int | None = None) -> tuple[list[str], list[str], str]:
    lines: list[str] = []
    bars: list[str] = []
    collapser = LogCollapser(lines.append, bars.append)
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        collapser.feed(data[start : start + step])
    return lines, bars, collapser.current


def test_redraws_collapse_to_the_final_state() -> None:
    data = b"A\rB\rC\nnext\n"
    lines, _, current = collapse(data)
    assert lines == ["C", "next"]
    assert current == ""


def test_crlf_is_one_newline_even_when_split_between_chunks() -> None:
    lines, _, _ = collapse(b"one\r\ntwo\r\n", chunk=4)
    assert lines == ["one", "two"]


def test_a_bar_is_committed_once_in_its_final_state() -> None:
    frames = b"".join(
        b"\rsteps: %3d%%|          | %d/4 [00:0%d<00:04, 1.00it/s]" % (25 * i, i, i) for i in range(5)
    )
    lines, bars, _ = collapse(frames + b"\n")
    assert lines == ["steps: 100%|          | 4/4 [00:04<00:04, 1.00it/s]"]
    assert len(bars) >= 5


def test_a_log_line_glued_after_a_bar_is_split_off() -> None:
    data = (
        b"\rsteps: 100%|##########| 2/2 [00:49<00:00, 24.96s/it, avr_loss=1.16]"
        b"2026-11-26 10:46:14 INFO     model saved.   train_network.py:1729\n"
    )
    lines, bars, _ = collapse(data)
    assert lines == ["2026-11-26 10:46:14 INFO     model saved.   train_network.py:1729"]
    assert bars[-1].endswith("avr_loss=1.16]")


def test_unfinished_bar_is_the_current_line() -> None:
    lines, _, current = collapse(b"hello\n\rsteps:  50%|#####     | 1/2 [00:01<00:01, 1.00it/s]")
    assert lines == ["hello"]
    assert current.startswith("steps:  50%")


def test_multibyte_characters_split_across_chunks() -> None:
    text = "学習開始 █ done\n".encode()
    lines, _, _ = collapse(text, chunk=1)
    assert lines == ["学習開始 █ done"]


def test_real_sd_scripts_log_collapses_to_few_lines() -> None:
    raw = (FIXTURES / "run64_stderr.txt").read_bytes()
    lines, bars, _ = collapse(raw, chunk=333)
    assert raw.count(b"\r") > 10
    assert not any("\r" in line for line in lines)
    # The glued "model saved." line of the real run is its own line, and no bar fragment repeats.
    assert any(line.rstrip().endswith("train_network.py:1729") and "model saved." in line for line in lines)
    step_lines = [line for line in lines if line.startswith("steps:")]
    assert len(step_lines) <= 1
    assert bars


def test_read_from_offsets(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"abc")
    data, offset = read_from(path, 0)
    assert (data, offset) == (b"abc", 3)
    with path.open("ab") as handle:
        handle.write(b"def")
    assert read_from(path, offset) == (b"def", 6)
    assert read_from(tmp_path / "missing", 5) == (b"", 5)


def test_tail_start_lands_on_a_line_boundary(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"".join(b"line %05d\n" % i for i in range(1000)))
    start = tail_start(path, 100)
    assert start > 0
    assert path.read_bytes()[start - 1 : start] == b"\n"


def test_follower_bounds_the_tail_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(5000)))
    follower = LogFollower(path, max_lines=100)
    assert follower.poll()
    text = follower.text()
    assert "line 4999" in text
    assert "line 0\n" not in text
    assert text.startswith("[… earlier output not shown here")
    assert not follower.poll()


def test_follower_reads_progress_from_the_real_log(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(
        (FIXTURES / "run64_stdout.txt").read_bytes() + (FIXTURES / "run64_stderr.txt").read_bytes()
    )
    follower = LogFollower(path, progress_desc="steps")
    follower.poll()
    progress = follower.progress
    assert progress.total is not None and progress.step == progress.total
    assert progress.loss is not None
    assert progress.epoch is not None


def test_pacer_sends_at_once_then_limits_the_rate() -> None:
    pacer = UpdatePacer(min_interval=0.1, keepalive=1.0)
    pacer.mark_dirty()
    assert pacer.decide(10.0) == "send"
    pacer.mark_dirty()
    assert pacer.decide(10.05) is None
    assert pacer.decide(10.11) == "send"
    assert pacer.decide(10.5) is None
    assert pacer.decide(11.2) == "keepalive"

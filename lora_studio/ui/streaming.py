"""Stream a job's log into the browser by tailing its log file in a generator.

The generator never blocks for long: it polls the log every ``POLL_S``, sends an update at once
when the log has been quiet (low latency) and at most every ``MIN_INTERVAL_S`` while it floods
(bounded server CPU), yields ``gr.skip()`` at least every second as a keepalive (so a closed tab
is noticed), and returns when the job has ended and its log is drained. A newer stream in the same
browser session and channel supersedes an older one (selecting another job).
"""

from __future__ import annotations

import html
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from lora_studio.core.errors import JobNotFound
from lora_studio.jobs.follow import UpdatePacer
from lora_studio.jobs.model import JobRecord
from lora_studio.jobs.progress import Progress
from lora_studio.services import Services
from lora_studio.services.jobs import describe_progress, format_duration

POLL_S = 0.02
MIN_INTERVAL_S = 0.1
KEEPALIVE_S = 1.0
STATUS_EVERY_S = 0.5


class StreamRegistry:
    """Which stream is current per (browser session, channel); older ones stop themselves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], int] = {}
        self._counter = itertools.count(1)

    def claim(self, session: str, channel: str) -> int:
        with self._lock:
            token = next(self._counter)
            self._tokens[(session, channel)] = token
            return token

    def is_current(self, session: str, channel: str, token: int) -> bool:
        with self._lock:
            return self._tokens.get((session, channel)) == token

    def forget(self, session: str) -> None:
        with self._lock:
            for key in [key for key in self._tokens if key[0] == session]:
                del self._tokens[key]


REGISTRY = StreamRegistry()


def progress_html(progress: Progress, record: JobRecord | None) -> str:
    fraction = progress.fraction
    if record is not None and record.status.value == "succeeded":
        fraction = 1.0
    width = 0.0 if fraction is None else max(0.0, min(1.0, fraction)) * 100
    text = describe_progress(progress) or (
        "waiting for output…" if record and record.status.is_active else ""
    )
    return (
        '<div class="ls-progress">'
        f'<div class="ls-progress-track"><div class="ls-progress-fill" style="width:{width:.1f}%"></div></div>'
        f'<div class="ls-progress-text">{html.escape(text)}</div></div>'
    )


def status_markdown(record: JobRecord | None) -> str:
    if record is None:
        return "No job selected."
    parts = [f"**{record.status.value}**", record.kind.value, record.title]
    duration = format_duration(record.duration_s)
    if duration:
        parts.append(duration)
    text = " · ".join(parts)
    if record.reason:
        text += f"  \n{record.reason}"
    if record.status.value == "queued" and record.spec.uses_gpu:
        text += "  \nWaiting for the GPU: another GPU job runs first."
    return text


class _Sender:
    """Sends only the outputs that changed since the last update (gr.skip() for the rest)."""

    def __init__(self) -> None:
        self._last: tuple[str, str, str] | None = None

    def __call__(self, values: tuple[str, str, str]) -> tuple[Any, Any, Any]:
        last = self._last
        self._last = values
        if last is None:
            return values
        return tuple(gr.skip() if new == old else new for new, old in zip(values, last, strict=True))  # type: ignore[return-value]


def follow_job(
    services: Services, job_id: str | None, session: str, channel: str
) -> Iterator[tuple[Any, Any, Any]]:
    """Yield (log text, progress HTML, status markdown) for ``job_id`` until it ends."""
    if not job_id:
        yield "", progress_html(Progress(), None), status_markdown(None)
        return
    token = REGISTRY.claim(session, channel)
    try:
        record: JobRecord = services.jobs.get(job_id)
        follower = services.jobs.follower(job_id)
    except JobNotFound:
        yield "", progress_html(Progress(), None), f"Job {job_id} no longer exists."
        return
    send = _Sender()

    def view() -> tuple[str, str, str]:
        return follower.text(), progress_html(follower.progress, record), status_markdown(record)

    pacer = UpdatePacer(min_interval=MIN_INTERVAL_S, keepalive=KEEPALIVE_S)
    follower.poll()
    yield send(view())
    pacer.decide(time.monotonic())
    last_status = time.monotonic()
    while REGISTRY.is_current(session, channel, token):
        if follower.poll():
            pacer.mark_dirty()
        now = time.monotonic()
        if now - last_status >= STATUS_EVERY_S:
            last_status = now
            fresh = services.jobs.get(job_id)
            if fresh.status != record.status or fresh.reason != record.reason:
                pacer.mark_dirty()
            record = fresh
        action = pacer.decide(now)
        if action is not None:  # a keepalive also refreshes the running duration
            yield send(view())
        if not record.status.is_active:
            follower.poll()
            yield send(view())
            return
        time.sleep(pacer.next_wake(time.monotonic(), POLL_S))

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
from lora_studio.jobs.follow import LogFollower, UpdatePacer
from lora_studio.jobs.model import JobRecord
from lora_studio.jobs.progress import Progress
from lora_studio.services import Services
from lora_studio.services.jobs import describe_progress, format_duration

POLL_S = 0.02
# A quiet log's next line goes out at once; a flooding one at most four times a second, because
# every update costs the browser some 50 ms of work in an app with hundreds of components.
MIN_INTERVAL_S = 0.25
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
    # The stream itself says "stopping": a Stop click's own reply could arrive after the final status.
    state = "stopping" if record.status.is_active and record.stop_requested_at else record.status.value
    parts = [f"**{state}**", record.kind.value, record.title]
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
    try:
        stream = _JobStream(services, job_id, (session, channel, REGISTRY.claim(session, channel)))
    except JobNotFound:
        yield "", progress_html(Progress(), None), f"Job {job_id} no longer exists."
        return
    try:
        yield from stream.run()
    finally:
        stream.follower.close()


class _JobStream:
    """One viewer following one job."""

    def __init__(self, services: Services, job_id: str, claim: tuple[str, str, int]) -> None:
        self.services = services
        self.job_id = job_id
        self.claim = claim
        self.record: JobRecord = services.jobs.get(job_id)
        self.follower: LogFollower = services.jobs.follower(job_id)
        self.send = _Sender()

    def view(self) -> tuple[str, str, str]:
        return (
            self.follower.text(),
            progress_html(self.follower.progress, self.record),
            status_markdown(self.record),
        )

    def refresh_record(self) -> bool:
        """Re-read the record; True when what the person sees of it changed."""
        fresh = self.services.jobs.get(self.job_id)
        changed = (fresh.status, fresh.reason, fresh.stop_requested_at) != (
            self.record.status,
            self.record.reason,
            self.record.stop_requested_at,
        )
        self.record = fresh
        return changed

    def run(self) -> Iterator[tuple[Any, Any, Any]]:
        pacer = UpdatePacer(min_interval=MIN_INTERVAL_S, keepalive=KEEPALIVE_S)
        self.follower.poll()
        yield self.send(self.view())
        pacer.decide(time.monotonic())
        last_status = time.monotonic()
        while REGISTRY.is_current(*self.claim):
            if self.follower.poll():
                pacer.mark_dirty()
            now = time.monotonic()
            if now - last_status >= STATUS_EVERY_S:
                last_status = now
                if self.refresh_record():
                    pacer.mark_dirty()
            if pacer.decide(now) is not None:  # a keepalive also refreshes the running duration
                yield self.send(self.view())
            if not self.record.status.is_active:
                self.follower.poll()
                yield self.send(self.view())
                return
            time.sleep(pacer.next_wake(time.monotonic(), POLL_S))

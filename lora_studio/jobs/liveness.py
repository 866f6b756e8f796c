"""Is a job's supervisor still looking after it?"""

from __future__ import annotations

import time

from lora_studio.jobs import processes
from lora_studio.jobs.model import JobRecord

# A supervisor needs a moment to write its pid into a fresh record; younger records count as alive.
STARTING_GRACE_S = 15.0


def supervisor_alive(record: JobRecord, now: float | None = None) -> bool:
    """True when the supervisor runs, or is still starting and has not written its pid yet."""
    if record.supervisor_pid is None:
        return (now or time.time()) - record.created_at < STARTING_GRACE_S
    return processes.is_alive(record.supervisor_pid, record.supervisor_started)

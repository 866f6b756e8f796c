"""Process facts and signals: identity checks that survive pid reuse, and group kills."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import psutil


def start_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int | None, started: float | None = None) -> bool:
    """True when ``pid`` runs and, if ``started`` is given, is the same process (not a reused pid)."""
    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(process.create_time() - started) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Send ``sig`` to a whole process group; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process belongs to group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # killpg also reaches zombies, which an init that never reaps (some containers) keeps forever.
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == pgid:
                return True
        except (ProcessLookupError, psutil.Error):
            continue
    return False


def wait_group_gone(pgid: int, timeout: float, *, reap: Callable[[], object] | None = None) -> bool:
    """Wait until no process of the group is left; ``reap`` collects our own child meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if reap is not None:
            reap()
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop_group(
    pgid: int, grace_s: float, *, term_wait_s: float = 5.0, reap: Callable[[], object] | None = None
) -> str:
    """Stop a whole process group: SIGINT, ``grace_s``, SIGTERM, ``term_wait_s``, then SIGKILL.

    Returns the name of the signal that ended it.
    """
    for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, term_wait_s)):
        if not signal_group(pgid, sig) or wait_group_gone(pgid, wait_s, reap=reap):
            return sig.name
    signal_group(pgid, signal.SIGKILL)
    wait_group_gone(pgid, 10.0, reap=reap)
    return signal.SIGKILL.name

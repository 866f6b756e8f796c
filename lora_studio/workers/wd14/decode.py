"""What the decoding processes run, and the pool of them.

This module is all a decoding process imports (numpy and Pillow, no onnxruntime): each process's
start-up is CPU time taken from the model on a small machine. ``start_pool`` starts the processes at
once, so the caller can create the onnxruntime session while they boot instead of stalling on the
first image afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from lora_studio.workers.wd14.preprocess import RgbArray, prepare_file

Prepared = RgbArray | str  # the array, or why the image was skipped
BACKGROUND_NICE = 19
_yielding = False  # whether this decoding process has lowered its priority already


def describe_failure(error: BaseException, path: Path) -> str:
    text = (str(error).strip() or type(error).__name__).replace(str(path), path.name)
    return f"unreadable image ({type(error).__name__}: {text})"


def prepare_or_reason(path: Path, height: int, width: int, yield_cpu: bool = False) -> Prepared:
    """``prepare_file`` that returns the failure reason instead of raising (runs in pool workers).

    ``yield_cpu`` lowers this process to the lowest priority first (once).
    """
    if yield_cpu:
        _yield_cpu()
    try:
        return prepare_file(path, height, width)
    except MemoryError:
        return "image too large to decode in memory"
    except Exception as error:  # noqa: BLE001 - any decoder failure skips this image with its reason
        return describe_failure(error, path)


def _yield_cpu() -> None:
    """Nice 19, for when the model runs on the CPU: its threads fill every core and stall a whole
    parallel op while one of them is preempted, whereas the decoders need a few per cent of the CPU
    and stay ahead anyway. On a GPU they keep their priority: there they are the bottleneck."""
    global _yielding
    if not _yielding:
        _yielding = True
        try:
            # Linux nices the calling thread: the pool runs every task on the process's only thread.
            os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICE)
        except (AttributeError, OSError):  # not on this platform: only the speed differs
            pass


def _ignore_sigint() -> None:
    # The job engine stops a run with SIGINT to the process group; the main process handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _booted() -> None:
    """A no-op task: submitting one per worker makes the pool spawn every process now."""


def start_pool(workers: int) -> ProcessPoolExecutor | None:
    """Start ``workers`` decoding processes (spawned: the parent holds onnxruntime threads), or None for 0.

    Returns at once; the processes boot in the background. The pool spawns a process per submitted
    task while none is idle, so one no-op task per worker starts them all.
    """
    if workers <= 0:
        return None
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_sigint)
    for _ in range(workers):
        pool.submit(_booted)
    return pool

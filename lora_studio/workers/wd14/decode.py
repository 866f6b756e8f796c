"""What the decoding threads run, and the pool of them.

Threads, not processes: Pillow and numpy release the GIL while they decode, resize and copy, so the
threads scale with cores, and they cost no interpreter start-up, pickling or second copy of the
libraries. Measured with a cheap model (decode-bound): 16 threads ran 156 images/s where 16 spawned
processes ran 127 on a 16-core machine, 58 vs 54 on 2 cores; beside a CPU model they also gave it more
of the cores (README, Benchmarks, Tagging).
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lora_studio.workers.wd14.preprocess import RgbArray, prepare_file

Prepared = RgbArray | str  # the array, or why the image was skipped
BACKGROUND_NICE = 19
THREAD_NAME = "wd14-decode"
_this_thread = threading.local()  # .yielding: whether this decoding thread has lowered its priority


def describe_failure(error: BaseException, path: Path) -> str:
    text = (str(error).strip() or type(error).__name__).replace(str(path), path.name)
    return f"unreadable image ({type(error).__name__}: {text})"


def prepare_or_reason(path: Path, height: int, width: int, yield_cpu: bool = False) -> Prepared:
    """``prepare_file`` that returns the failure reason instead of raising (runs in the pool's threads).

    ``yield_cpu`` lowers the calling thread to the lowest priority first (once).
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
    """Nice 19 for this thread, for when the model runs on the CPU: its threads fill every core and
    stall a whole parallel op while one of them is preempted, whereas the decoders need a few per cent
    of the CPU and stay ahead anyway. On a GPU they keep their priority: there they are the bottleneck.

    Only on Linux, where a thread id names one thread; elsewhere this would nice the model's threads
    too."""
    if getattr(_this_thread, "yielding", False) or not sys.platform.startswith("linux"):
        return
    _this_thread.yielding = True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except OSError:  # not permitted here: only the speed differs
        pass


def start_pool(workers: int) -> ThreadPoolExecutor | None:
    """A pool of ``workers`` decoding threads, or None for 0 (decode in the caller's thread)."""
    if workers <= 0:
        return None
    return ThreadPoolExecutor(workers, thread_name_prefix=THREAD_NAME)

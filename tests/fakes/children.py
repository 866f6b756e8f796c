"""Small Python programs that the job tests run as real child processes."""

from __future__ import annotations

import sys

from lora_studio.core.types import JobKind
from lora_studio.jobs.model import JobSpec, SuccessRules

PRINTER = """
import sys, time
from tqdm import tqdm
n = int(sys.argv[1]); delay = float(sys.argv[2])
for i in range(n):
    print(f"LINE {i}", flush=True)
    time.sleep(delay)
for _ in tqdm(range(5), desc="steps", file=sys.stderr, mininterval=0):
    time.sleep(delay)
print("epoch 1/1", flush=True)
"""

# A child that ignores SIGINT and SIGTERM, with a grandchild that does the same, each writing its pid.
STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grand = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
open(sys.argv[1], "w").write(f"{os.getpid()} {grand.pid}")
print("READY", flush=True)
while True:
    time.sleep(0.1)
"""

SLEEPER = """
import sys, time
open(sys.argv[1], "a").write(f"start {time.time()}\\n")
print("working", flush=True)
time.sleep(float(sys.argv[2]))
open(sys.argv[1], "a").write(f"end {time.time()}\\n")
"""

CRASHER = """
print("about to fail", flush=True)
raise ValueError("the model file is not a checkpoint")
"""


def spec(
    code: str,
    *args: str,
    kind: JobKind = JobKind.OTHER,
    title: str = "test job",
    success: SuccessRules | None = None,
    progress_desc: str | None = None,
) -> JobSpec:
    return JobSpec(
        kind=kind,
        title=title,
        argv=(sys.executable, "-c", code, *args),
        success=success or SuccessRules(),
        progress_desc=progress_desc,
    )

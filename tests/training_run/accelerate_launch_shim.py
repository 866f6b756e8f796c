"""A stand-in for ``python -m accelerate.commands.launch`` (installed as accelerate/commands/launch.py).

Like the real launcher it checks its own options, then runs the script in a child process (same
process group) and exits with the child's status.
"""

from __future__ import annotations

import signal
import subprocess
import sys

KNOWN = {"--num_processes", "--num_machines", "--num_cpu_threads_per_process", "--mixed_precision",
         "--dynamo_backend", "--gpu_ids", "--machine_rank", "--main_process_ip", "--main_process_port"}  # fmt: skip


def main() -> int:
    args = sys.argv[1:]
    script_at = next(index for index, arg in enumerate(args) if arg.endswith(".py"))
    options = args[:script_at]
    for flag in options[::2]:
        if flag not in KNOWN:
            print(f"accelerate launch: unknown option {flag}", file=sys.stderr)
            return 2
    child = subprocess.Popen([sys.executable, *args[script_at:]])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the group's SIGINT is the child's to handle
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: how fast and how completely a job's output reaches the browser.

Starts the real app, opens the Jobs tab in headless Debian chromium, runs jobs whose child
prints timestamped lines at a set rate, and prints:
- app start to first HTTP 200;
- emit-to-browser latency (median, p95) at a moderate and at a flooding rate;
- lines lost between the child and the log reader (LogCollapser over the log file);
- server CPU (% of one core) while streaming.

Usage: .venv/bin/python benchmarks/stream_latency.py [--lines 100000 --rate 2000 --latency-lines 60 --latency-rate 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_studio.core.settings import Settings  # noqa: E402
from lora_studio.core.types import JobKind  # noqa: E402
from lora_studio.jobs.logs import LogCollapser, read_from  # noqa: E402
from lora_studio.jobs.model import JobSpec  # noqa: E402
from lora_studio.services import build_services  # noqa: E402
from tests.fakes.app_server import CHROMIUM, CHROMIUM_ARGS, start_app  # noqa: E402

EMITTER = """
import sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
print("waiting for the browser to attach", flush=True)
time.sleep(float(sys.argv[3]))
start = time.time()
for i in range(n):
    due = start + i / rate
    delay = due - time.time()
    if delay > 0:
        time.sleep(delay)
    sys.stdout.write(f"LINE {i} {time.time():.6f}\\n")
    sys.stdout.flush()
    if i % 50 == 0:
        sys.stderr.write(f"\\rsteps: {100 * i // n:3d}%|#   | {i}/{n} [00:01<00:09, {rate:.2f}it/s]")
        sys.stderr.flush()
"""

COLLECT_JS = """() => {
  window.__lat = []; window.__last = -1;
  const tick = () => {
    const t = document.querySelector('#job-log textarea');
    if (t) {
      const value = t.value;
      if (value.length !== window.__len || value.slice(-40) !== window.__tail) {
        const now = Date.now() / 1000;
        window.__len = value.length; window.__tail = value.slice(-40);
        const start = value.lastIndexOf('LINE ' + window.__last + ' ');
        const scan = start >= 0 ? value.slice(start) : value;
        for (const m of scan.matchAll(/LINE (\\d+) ([\\d.]+)/g)) {
          const seq = Number(m[1]);
          if (seq > window.__last) { window.__lat.push(now - Number(m[2])); window.__last = seq; }
        }
      }
    }
    setTimeout(tick, 4);
  };
  tick();
}"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_stream(services, page, lines: int, rate: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """One job: browser latency, lines the reader saw, server CPU."""
    record = services.jobs.submit(
        JobSpec(
            kind=JobKind.OTHER,
            title=f"stream {lines} lines at {rate:g}/s",
            argv=(sys.executable, "-c", EMITTER, str(lines), str(rate), "8"),
            progress_desc="steps",
        )
    )
    # A fresh page selects the newest running job by itself (the re-attach path).
    page.reload()
    page.click("#tab-jobs-button")
    page.wait_for_function(
        "document.querySelector('#job-log textarea').value.includes('waiting for the browser')"
    )
    page.evaluate(COLLECT_JS)
    seen: set[int] = set()

    def on_line(line: str) -> None:
        if line.startswith("LINE "):
            seen.add(int(line.split()[1]))

    collapser = LogCollapser(on_line)
    offset = 0
    log = services.jobs.log_path(record.id)
    server = psutil.Process(page.context.server_pid)  # set by main()
    cpu_before = sum(server.cpu_times()[:2])
    wall_before = time.monotonic()
    while services.jobs.get(record.id).status.is_active:
        data, offset = read_from(log, offset)
        collapser.feed(data)
        time.sleep(0.02)
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    wall = time.monotonic() - wall_before
    data, offset = read_from(log, offset)
    collapser.feed(data + b"\n")
    page.wait_for_function(f"window.__last >= {lines - 1}", timeout=60000)
    latencies = page.evaluate("window.__lat")
    return {
        "lines": lines,
        "rate": rate,
        "browser_lines": len(latencies),
        "median_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * percentile(latencies, 0.95),
        "lost_by_reader": lines - len(seen),
        "server_cpu_pct": 100 * cpu / wall,
    }


def idle_cpu(pid: int, seconds: float) -> float:
    """Server CPU (% of one core) with the page open and nothing streaming: Gradio's own baseline."""
    process = psutil.Process(pid)
    before = sum(process.cpu_times()[:2])
    time.sleep(seconds)
    return 100 * (sum(process.cpu_times()[:2]) - before) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--latency-lines", type=int, default=60)
    parser.add_argument("--latency-rate", type=float, default=4)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="lora-studio-bench-"))
    workspace = tmp / "ws"
    started = time.monotonic()
    server = start_app(workspace, tmp)
    startup_s = time.monotonic() - started
    results: dict[str, object] = {"app_start_to_http_200_s": round(startup_s, 2)}
    try:
        services = build_services(Settings(workspace=workspace))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.server_pid = server.process.pid  # type: ignore[attr-defined]
            page = context.new_page()
            page.goto(server.url)
            page.click("#tab-jobs-button")
            page.wait_for_selector("#job-log textarea")
            results["idle_server_cpu_pct"] = idle_cpu(server.process.pid, seconds=5.0)
            results["moderate"] = run_stream(services, page, args.latency_lines, args.latency_rate)
            results["flood"] = run_stream(services, page, args.lines, args.rate)
            browser.close()
    finally:
        server.stop()
    print(json.dumps(results, indent=2))
    flood = results["flood"]
    moderate = results["moderate"]
    assert isinstance(flood, dict) and isinstance(moderate, dict)
    print()
    print(f"app start to first HTTP 200: {startup_s:.2f} s (target <= 3 s)")
    print(
        f"server CPU with a page open and nothing streaming: {results['idle_server_cpu_pct']:.1f} % of a core"
    )
    for name, row in (("moderate", moderate), ("flood", flood)):
        print(
            f"{name:>8}: {row['lines']} lines at {row['rate']:g}/s: browser latency median "
            f"{row['median_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms (targets 50 / 150); lost by the reader "
            f"{row['lost_by_reader']} (target 0); server CPU {row['server_cpu_pct']:.1f} % of a core (target <= 10)"
        )


if __name__ == "__main__":
    main()

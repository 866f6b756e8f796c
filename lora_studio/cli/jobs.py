"""``python -m lora_studio jobs list|show|logs|stop``: the same jobs the web app shows."""

from __future__ import annotations

import argparse
import json
import sys
import time

from lora_studio.core.settings import Settings
from lora_studio.services import build_services
from lora_studio.services.jobs import JobsService


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = subparsers.add_parser("jobs", help="list, inspect, follow and stop jobs")
    commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="list jobs, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON records")
    listing.set_defaults(func=_list)
    show = commands.add_parser("show", help="print one job's record as JSON")
    show.add_argument("job_id")
    show.set_defaults(func=_show)
    logs = commands.add_parser("logs", help="print a job's log")
    logs.add_argument("job_id")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the job ends")
    logs.set_defaults(func=_logs)
    stop = commands.add_parser("stop", help="stop a job (SIGINT, grace period, then kill)")
    stop.add_argument("job_id")
    stop.add_argument("--wait", action="store_true", help="wait until it has stopped")
    stop.set_defaults(func=_stop)


def _jobs(settings: Settings) -> JobsService:
    return build_services(settings).jobs


def _list(args: argparse.Namespace, settings: Settings) -> int:
    jobs = _jobs(settings)
    if args.json:
        print(json.dumps([record.model_dump(mode="json") for record in jobs.list_jobs()], indent=2))
        return 0
    rows = jobs.rows()
    if not rows:
        print("No jobs yet.")
    for row in rows:
        print(f"{row.id}  {row.status:<9}  {row.kind:<8}  {row.duration:>8}  {row.title}  {row.progress}")
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    print(json.dumps(_jobs(settings).get(args.job_id).model_dump(mode="json"), indent=2))
    return 0


def _logs(args: argparse.Namespace, settings: Settings) -> int:
    jobs = _jobs(settings)
    path = jobs.log_path(args.job_id)
    offset = 0
    out = sys.stdout.buffer
    while True:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        offset += len(data)
        out.write(data)
        out.flush()
        if not args.follow or not jobs.get(args.job_id).status.is_active:
            if args.follow:  # drain what the last moments wrote
                with path.open("rb") as handle:
                    handle.seek(offset)
                    out.write(handle.read())
                    out.flush()
            return 0
        time.sleep(0.2)


def _stop(args: argparse.Namespace, settings: Settings) -> int:
    jobs = _jobs(settings)
    record = jobs.stop(args.job_id)
    if args.wait:
        record = jobs.engine.wait(args.job_id)
    print(f"{record.id}: {record.status.value}")
    return 0

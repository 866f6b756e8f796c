"""The job-log stream through nginx, timed on the wire: while a job is quiet for 12 s the stream keeps
sending at least every few seconds, so a proxy with a 5 s read timeout never cuts it."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from lora_studio.core.types import JobStatus
from tests.deploy.conftest import PASSWORD, QUIET_S, READ_TIMEOUT_S, USER, Deployment, quiet_job

# Longest silence allowed: the log's keepalive is 1 s and Gradio's heartbeat 2 s; the margin covers a
# loaded machine and stays under the proxy's read timeout.
MAX_GAP_S = READ_TIMEOUT_S - 1


def fn_index(config: dict[str, Any], api_name: str) -> int:
    for dependency in config["dependencies"]:
        if dependency.get("api_name") == api_name:
            return int(dependency["id"])
    raise AssertionError(f"no event named {api_name} in /config")


def run_event(
    client: httpx.Client, config: dict[str, Any], session: str, api_name: str, data: list[Any]
) -> list[tuple[float, str]]:
    """Join one event and read the session's SSE stream until it completes: (arrival time, line)."""
    payload = {"data": data, "fn_index": fn_index(config, api_name), "session_hash": session}
    client.post("gradio_api/queue/join", json={**payload, "event_data": None}).raise_for_status()
    arrivals: list[tuple[float, str]] = []
    with client.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.monotonic(), line))
                if json.loads(line[5:]).get("msg") in {"process_completed", "close_stream"}:
                    break
    return arrivals


def follow_over_sse(client: httpx.Client, job_id: str, go: Path) -> list[tuple[float, str]]:
    """What the Jobs tab does: refresh the job list (the picker's choices), then follow the job."""
    config = client.get("config").raise_for_status().json()
    session = uuid.uuid4().hex[:11]
    run_event(client, config, session, "jobs_list", [None])
    go.touch()
    return run_event(client, config, session, "job_follow", [job_id])


def test_a_quiet_job_keeps_its_stream_alive_through_the_proxy(deployment: Deployment, tmp_path: Path) -> None:
    go = tmp_path / "go"
    record = deployment.services.jobs.submit(quiet_job(go))
    with httpx.Client(base_url=deployment.proxy.url, timeout=30) as client:
        client.post("login", data={"username": USER, "password": PASSWORD}).raise_for_status()
        arrivals = follow_over_sse(client, record.id, go)

    text = "\n".join(line for _, line in arrivals)
    assert "QUIET END" in text and '"process_completed"' in text, text[-2000:]
    assert deployment.services.jobs.get(record.id).status == JobStatus.SUCCEEDED
    start = next(at for at, line in arrivals if "QUIET START" in line)
    end = next(at for at, line in arrivals if "QUIET END" in line)
    assert end - start >= QUIET_S - 1  # one connection carried the whole quiet spell
    times = [start, *(at for at, _ in arrivals if start < at < end), end]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) <= MAX_GAP_S, f"the stream went silent for {max(gaps):.1f} s"
    assert "upstream timed out" not in deployment.proxy.error_log()


def test_the_page_heartbeat_outpaces_the_proxy_timeout(deployment: Deployment) -> None:
    """Gradio's /heartbeat stream tells the server the page is open; if the proxy cuts it (Gradio's
    default is one beat per 15 s), the server unloads the page's session and its live log stops."""
    arrivals: list[float] = []
    with httpx.Client(base_url=deployment.proxy.url, timeout=30) as client:
        client.post("login", data={"username": USER, "password": PASSWORD}).raise_for_status()
        opened = time.monotonic()
        url = f"gradio_api/heartbeat/{uuid.uuid4().hex[:11]}"
        try:
            with client.stream("GET", url) as stream:
                for line in stream.iter_lines():
                    if line.startswith(("data:", "event:")):
                        arrivals.append(time.monotonic())
                    if time.monotonic() - opened > READ_TIMEOUT_S + 3:
                        break
        except httpx.RemoteProtocolError:
            pytest.fail(f"the proxy cut the heartbeat stream after {time.monotonic() - opened:.1f} s")
    times = [opened, *arrivals]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert time.monotonic() - opened > READ_TIMEOUT_S  # the proxy did not cut it
    assert gaps and max(gaps) <= MAX_GAP_S, f"heartbeat gaps {gaps}"

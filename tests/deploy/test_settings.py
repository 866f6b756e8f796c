"""The keepalive interval setting that keeps the page's streams alive behind reverse proxies."""

from __future__ import annotations

import argparse

import pytest

from lora_studio.core.settings import DEFAULT_HEARTBEAT_S, add_arguments, load_settings


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_the_default_heartbeat_beats_common_proxy_timeouts() -> None:
    assert load_settings(None, {}).heartbeat_s == DEFAULT_HEARTBEAT_S < 5


def test_heartbeat_from_the_environment_and_the_flag_wins() -> None:
    assert load_settings(None, {"GRADIO_HEARTBEAT_INTERVAL": "7.5"}).heartbeat_s == 7.5
    assert load_settings(parse("--heartbeat", "1"), {"GRADIO_HEARTBEAT_INTERVAL": "7"}).heartbeat_s == 1.0


@pytest.mark.parametrize("text", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_heartbeat_is_refused(text: str) -> None:
    with pytest.raises(SystemExit, match="--heartbeat"):
        load_settings(None, {"GRADIO_HEARTBEAT_INTERVAL": text})

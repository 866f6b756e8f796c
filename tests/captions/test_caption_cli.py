"""``captions stats|add|remove|replace|clean|undo`` through the area's own argparse registration."""

from __future__ import annotations

import argparse
import json

import pytest

from lora_studio.cli import captions as captions_cli
from lora_studio.core.errors import InvalidInput


def run(settings, *argv):
    parser = argparse.ArgumentParser(prog="lora_studio")
    captions_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["captions", *argv])
    return args.func(args, settings)


@pytest.fixture
def dataset(make_dataset):
    return make_dataset(
        "ds", {"2_cat": {"a.png": "cat, long_hair", "b.png": "cat, cat, sitting", "c.png": None}}
    )


def test_stats_json(settings, dataset, capsys):
    assert run(settings, "stats", "ds", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["stats"]["missing"] == 1
    assert {row["tag"]: row["count"] for row in payload["frequencies"]["rows"]}["cat"] == 2


def test_add_dry_run_then_apply_then_undo(settings, dataset, capsys):
    assert run(settings, "add", "ds", "--trigger", "ohwx", "--dry-run") == 0
    assert "3 of 3 captions change" in capsys.readouterr().out
    assert (dataset / "2_cat/a.txt").read_text() == "cat, long_hair"

    assert run(settings, "add", "ds", "--tags", "pet", "--has", "cat") == 0
    assert "changed 2 of 2" in capsys.readouterr().out
    assert (dataset / "2_cat/a.txt").read_text() == "cat, long_hair, pet\n"

    assert run(settings, "replace", "ds", "long_hair", "long hair") == 0
    assert run(settings, "replace", "ds", "c(a)t", "dog", "--regex") == 0
    assert (dataset / "2_cat/a.txt").read_text() == "dog, long hair, pet\n"
    assert run(settings, "remove", "ds", "--tags", "pet") == 0
    assert run(settings, "clean", "ds", "--duplicates") == 0
    assert (dataset / "2_cat/b.txt").read_text() == "dog, sitting\n"
    capsys.readouterr()

    assert run(settings, "undo", "ds", "--list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 5 and "remove duplicate tags" in listing[0]
    for _ in range(5):
        assert run(settings, "undo", "ds") == 0
    assert (dataset / "2_cat/a.txt").read_text() == "cat, long_hair"
    assert (dataset / "2_cat/b.txt").read_text() == "cat, cat, sitting"


def test_bad_input_raises_for_the_main_to_print(settings, dataset):
    with pytest.raises(InvalidInput, match="regular expression"):
        run(settings, "replace", "ds", "(", "x", "--regex")
    with pytest.raises(InvalidInput, match="at least one fix"):
        run(settings, "clean", "ds")


def test_every_command_has_help(settings):
    for command in ("stats", "add", "remove", "replace", "clean", "undo"):
        with pytest.raises(SystemExit) as exit_info:
            run(settings, command, "--help")
        assert exit_info.value.code == 0

"""TaggingOptions: defaults, validation, and the argv round trip the worker depends on."""

from __future__ import annotations

import argparse

import pytest

from lora_studio.config.taggers import load_taggers
from lora_studio.config.tagging import (
    DEFAULT_TAGGER,
    ExistingCaption,
    TaggingOptions,
    add_tagging_arguments,
    options_from_namespace,
    parse_tagger_args,
    parse_tagging_options,
    select_concepts,
    tagger_args,
)
from lora_studio.core.errors import ConceptNotFound, ConfigInvalid


def test_defaults_match_the_issue():
    options = TaggingOptions()
    assert (options.general_threshold, options.character_threshold) == (0.35, 0.85)
    assert options.separator == ", " and options.caption_extension == ".txt"
    assert options.existing is ExistingCaption.SKIP and options.schema_version == 1
    assert options.model == DEFAULT_TAGGER == load_taggers().default


@pytest.mark.parametrize(
    "bad",
    [
        {"general_threshold": 1.5},
        {"caption_extension": ".png"},
        {"caption_extension": "../x"},
        {"separator": "\n"},
        {"batch_size": 0},
        {"existing": "append"},
        {"unknown_option": 1},
        {"blacklist": ["a\nb"]},
    ],
)
def test_bad_options_are_refused(bad):
    with pytest.raises(ConfigInvalid):
        parse_tagging_options(bad)


def test_text_lists_are_split_and_cleaned():
    options = TaggingOptions(blacklist="a, b ,, a", trigger_words=["  x  ", ""], caption_extension="caption")
    assert options.blacklist == ("a", "b") and options.trigger_words == ("x",)
    assert options.caption_extension == ".caption"


@pytest.mark.parametrize(
    "options",
    [
        TaggingOptions(),
        TaggingOptions(
            model="/some/folder",
            general_threshold=0.0,
            character_mcut=True,
            rating=True,
            underscores_to_spaces=False,
            blacklist=("-_-", "long hair"),
            always_first=("1girl",),
            trigger_words=("my trigger", "--weird"),
            separator=" | ",
            caption_extension=".caption",
            existing="merge",
            batch_size=8,
            concepts=("10_a", "b"),
            device="cpu",
            workers=0,
        ),
    ],
)
def test_argv_round_trip(options):
    assert parse_tagger_args(tagger_args(options)) == options


def test_every_field_has_a_flag_and_help():
    parser = argparse.ArgumentParser()
    add_tagging_arguments(parser)
    dests = {action.dest: action for action in parser._actions}
    for name in TaggingOptions.model_fields:
        if name != "schema_version":
            assert name in dests and dests[name].help


def test_namespace_keeps_defaults_for_missing_flags():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    add_tagging_arguments(parser)
    options = options_from_namespace(parser.parse_args(["ds", "--rating", "--blacklist", "a"]))
    assert options == TaggingOptions(rating=True, blacklist=("a",))


def test_unknown_flag_is_refused():
    with pytest.raises(ConfigInvalid):
        parse_tagger_args(["--no-such-flag"])


def test_select_concepts():
    available = ["10_alice", "5_bob"]
    assert select_concepts(available, ()) == available
    assert select_concepts(available, ("bob", "10_alice")) == ["5_bob", "10_alice"]
    with pytest.raises(ConceptNotFound, match="carol"):
        select_concepts(available, ("carol",))

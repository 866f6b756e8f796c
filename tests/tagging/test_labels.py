"""Scores → caption tags: thresholds, MCut, rating, ordering, kaomoji, blacklist, triggers."""

from __future__ import annotations

import numpy as np
import pytest

from lora_studio.config.tagging import TaggingOptions
from lora_studio.workers.wd14.labels import BadTagFile, load_labels, mcut_threshold, select_tags
from tests.tagging.conftest import RED, YELLOW
from tests.tagging.tiny_tagger import TAGS, expected_scores


@pytest.fixture
def labels(tiny_model):
    return load_labels(tiny_model / "selected_tags.csv")


def scores_for(rgb):
    table = expected_scores(rgb)
    return np.array([table[name] for name, *_ in TAGS], dtype=np.float32)


def tags(rgb, labels, **options):
    return select_tags(scores_for(rgb), labels, TaggingOptions(**options))


def test_csv_categories_follow_row_order(labels):
    assert list(labels.rating) == [0, 1, 2, 3]
    assert [labels.names[i] for i in labels.character] == [
        "hatsune_miku_(vocaloid)",
        "red_hero_(series)",
        "uncertain_character",
    ]


def test_bad_csv(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(BadTagFile):
        load_labels(tmp_path / "t.csv")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ["red theme", ">_<", "red hero (series)"]),
        ({"general_threshold": 0.5}, ["red theme", "red hero (series)"]),
        ({"character_threshold": 0.75}, ["red theme", ">_<", "red hero (series)", "uncertain character"]),
        ({"general_mcut": True}, ["red theme", "red hero (series)"]),
        ({"character_mcut": True}, ["red theme", ">_<", "red hero (series)", "uncertain character"]),
        ({"rating": True}, ["sensitive", "red theme", ">_<", "red hero (series)"]),
        ({"character_first": True}, ["red hero (series)", "red theme", ">_<"]),
        ({"character_first": True, "rating": True}, ["sensitive", "red hero (series)", "red theme", ">_<"]),
        ({"underscores_to_spaces": False}, ["red_theme", ">_<", "red_hero_(series)"]),
        ({"blacklist": ("red theme", "red_hero_(series)")}, [">_<"]),
        ({"blacklist": ("RED_THEME",), "underscores_to_spaces": False}, [">_<", "red_hero_(series)"]),
        ({"trigger_words": ("mychar", "red theme")}, ["mychar", "red theme", ">_<", "red hero (series)"]),
        ({"always_first": ("red_hero_(series)", ">_<", "absent")}, ["red hero (series)", ">_<", "red theme"]),
        (
            {"trigger_words": ("trig",), "always_first": (">_<",), "rating": True},
            ["trig", ">_<", "sensitive", "red theme", "red hero (series)"],
        ),
    ],
)
def test_red_image(labels, options, expected):
    assert tags(RED, labels, **options) == expected


def test_kaomoji_keep_underscores_and_can_be_blacklisted(labels):
    assert tags(YELLOW, labels) == ["^_^", ">_<"]
    assert tags(YELLOW, labels, blacklist=("^_^",)) == [">_<"]
    assert tags(YELLOW, labels, rating=True) == ["general", "^_^", ">_<"]


def test_mcut_cuts_at_the_largest_gap():
    assert mcut_threshold(np.array([0.9, 0.85, 0.3, 0.2], dtype=np.float32)) == pytest.approx(0.575)
    assert mcut_threshold(np.array([0.1, 0.95], dtype=np.float32)) == pytest.approx(0.525)
    assert mcut_threshold(np.array([0.6], dtype=np.float32)) == pytest.approx(0.3)


def test_character_mcut_never_below_floor(labels):
    scores = scores_for(RED)
    character = labels.character
    scores[character] = [0.12, 0.11, 0.01]  # MCut alone would cut at 0.06
    result = select_tags(scores, labels, TaggingOptions(character_mcut=True))
    assert result == ["red theme", ">_<"]


def test_two_spellings_of_one_tag_in_the_csv_give_it_once(tmp_path):
    rows = ["tag_id,name,category,count", "1,long_hair,0,5", "2,Long hair,0,5", "3,^_^,0,5", "4,smile,0,5"]
    (tmp_path / "selected_tags.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    labels = load_labels(tmp_path / "selected_tags.csv")
    scores = np.array([0.6, 0.9, 0.8, 0.7], dtype=np.float32)
    assert select_tags(scores, labels, TaggingOptions()) == ["Long hair", "^_^", "smile"]
    kept = TaggingOptions(underscores_to_spaces=False, blacklist=("SMILE",))
    assert select_tags(scores, labels, kept) == ["Long hair", "^_^"]
    long_hair_first = np.array([0.95, 0.9, 0.8, 0.7], dtype=np.float32)
    assert select_tags(long_hair_first, labels, kept) == ["long_hair", "^_^"]

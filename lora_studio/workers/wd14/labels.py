"""selected_tags.csv and the step from scores to a caption's tag list.

Thresholds, MCut and kaomoji follow SmilingWolf's Space; the ordering options follow kohya's tagger
where the Space has none (rating and character placement, tags always first).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lora_studio.config.tagging import TaggingOptions
from lora_studio.core.errors import InvalidInput
from lora_studio.core.kaomoji import KAOMOJI

RATING, GENERAL, CHARACTER = 9, 0, 4
MCUT_CHARACTER_FLOOR = 0.15

Scores = npt.NDArray[np.float32]
Indices = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Labels:
    """Tag names in model output order, split into the three categories by index."""

    names: tuple[str, ...]
    rating: Indices
    general: Indices
    character: Indices

    def __len__(self) -> int:
        return len(self.names)

    # Worked out once per run, not per image: a random-weight test model predicts ~8,000 tags an image,
    # and the per-tag string work took 6 ms of CPU each time, beside a model that fills every core.
    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Each name's ``tag_key``."""
        return tuple(tag_key(name) for name in self.names)

    @cached_property
    def _with_spaces(self) -> tuple[str, ...]:
        return tuple(spelled(name, underscores_to_spaces=True) for name in self.names)

    def spellings(self, underscores_to_spaces: bool) -> tuple[str, ...]:
        """Each name as a caption writes it."""
        return self._with_spaces if underscores_to_spaces else self.names


class BadTagFile(InvalidInput):
    """selected_tags.csv is missing columns or rows."""


def load_labels(path: Path) -> Labels:
    """Read ``selected_tags.csv`` (``tag_id,name,category,count``); row order is output order.

    Categories other than rating (9) and character (4) count as general.

    Raises:
        BadTagFile: unreadable file, no ``name``/``category`` columns, or no rows.
    """
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadTagFile(f"Cannot read {path}: {error}") from None
    if not rows or "name" not in rows[0] or "category" not in rows[0]:
        raise BadTagFile(
            f"{path} has no tag rows with 'name' and 'category' columns.",
            hint="Use the selected_tags.csv that comes with the model.",
        )
    try:
        categories = np.array([int(row["category"]) for row in rows])
    except (TypeError, ValueError):
        raise BadTagFile(f"{path} has a category that is not a number.") from None
    return Labels(
        names=tuple(row["name"] for row in rows),
        rating=np.flatnonzero(categories == RATING),
        general=np.flatnonzero((categories != RATING) & (categories != CHARACTER)),
        character=np.flatnonzero(categories == CHARACTER),
    )


def mcut_threshold(probs: Scores) -> float:
    """Maximum Cut (Largeron et al. 2012): the midpoint of the largest gap between sorted scores."""
    if probs.size < 2:
        return 0.5 if probs.size == 0 else float(probs[0]) / 2
    ordered = np.sort(probs)[::-1]
    gaps = ordered[:-1] - ordered[1:]
    cut = int(np.argmax(gaps))
    return float(ordered[cut] + ordered[cut + 1]) / 2


def _above(scores: Scores, indices: Indices, threshold: float) -> list[int]:
    """The tags of ``indices`` scoring above ``threshold``, best first (ties keep CSV order)."""
    # Vectorised: a Python loop over a real model's ~10,000 tags took ~1.5 ms per image of main-thread
    # time, in which the model waits.
    picked = indices[scores[indices] > threshold]
    order = np.argsort(-scores[picked], kind="stable")  # stable: ties keep CSV order
    ranked: list[int] = picked[order].tolist()
    return ranked


def spelled(tag: str, underscores_to_spaces: bool) -> str:
    if not underscores_to_spaces or tag in KAOMOJI:
        return tag
    return tag.replace("_", " ")


def tag_key(tag: str) -> str:
    """What makes two spellings the same tag: ``Long_hair`` == ``long hair``."""
    return " ".join(tag.replace("_", " ").split()).casefold()


def unique_tags(tags: Iterable[str]) -> list[str]:
    """Drop later duplicates (by ``tag_key``), keep order."""
    return _first_by_key((tag_key(tag), tag) for tag in tags)


def _first_by_key(keyed: Iterable[tuple[str, str]], skip: Iterable[str] = ()) -> list[str]:
    """The tag of each key's first pair, in order; empty keys and keys in ``skip`` are dropped."""
    seen = set(skip)
    result = []
    for key, tag in keyed:
        if key and key not in seen:
            seen.add(key)
            result.append(tag)
    return result


def _move_to_front(tags: list[str], wanted: Sequence[str]) -> list[str]:
    """Tags in ``wanted`` that are present go first, in ``wanted``'s order."""
    present = {tag_key(tag): tag for tag in tags}
    front = [present[tag_key(w)] for w in wanted if tag_key(w) in present]
    front_keys = {tag_key(tag) for tag in front}
    return front + [tag for tag in tags if tag_key(tag) not in front_keys]


def select_tags(scores: Scores, labels: Labels, options: TaggingOptions) -> list[str]:
    """One image's scores → its caption tags in caption order.

    Order: trigger words, ``always_first`` tags found, rating, characters (if first), general tags by
    score, characters (if last). The blacklist removes predicted tags, never trigger words.
    """
    general_cut = (
        mcut_threshold(scores[labels.general]) if options.general_mcut else options.general_threshold
    )
    character_cut = options.character_threshold
    if options.character_mcut:
        character_cut = max(MCUT_CHARACTER_FLOOR, mcut_threshold(scores[labels.character]))
    general = _above(scores, labels.general, general_cut)
    characters = _above(scores, labels.character, character_cut)
    rating = []
    if options.rating and labels.rating.size:
        rating = [int(labels.rating[int(np.argmax(scores[labels.rating]))])]
    ordered = rating + (characters + general if options.character_first else general + characters)
    keys, names = labels.keys, labels.spellings(options.underscores_to_spaces)
    # tag_key folds "_" and " ", so "long_hair" in the blacklist also blocks "long hair" (and back).
    blocked = (tag_key(tag) for tag in options.blacklist)
    predicted = _first_by_key(((keys[index], names[index]) for index in ordered), skip=blocked)
    # Each step below runs only when its option is set: a random-weight test model predicts ~8,000
    # tags per image, and every pass over them is CPU time taken beside the model.
    if options.always_first:
        predicted = _move_to_front(predicted, options.always_first)
    if options.trigger_words:
        predicted = unique_tags([*options.trigger_words, *predicted])
    return predicted

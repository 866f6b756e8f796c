"""Pure functions over caption text: split into tags, join them back, normalise.

A caption is one line of comma-separated tags (WD14 style) or free text; free text is simply a
caption with one "tag". Every function here is pure and fast: the bulk operations call them on
20,000 captions at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lora_studio.core.kaomoji import KAOMOJI

SEPARATOR = ", "

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
# Full-width and ideographic commas are separators too (captions pasted from CJK tools).
_COMMA_LIKE = str.maketrans({"，": ",", "、": ","})


def one_line(text: str) -> str:
    """Fold a multi-line text into the single line sd-scripts reads (it only uses the first line).

    Line breaks become ``", "`` in tag captions (so tags on separate lines stay separate tags)
    and a space in free text. A leading byte-order mark and outer white space are dropped.
    """
    text = text.lstrip("\ufeff").strip()
    if "\n" not in text and "\r" not in text:
        return text
    joiner = SEPARATOR if "," in text else " "
    return _LINE_BREAKS.sub(joiner, text)


def clean_tag(tag: str) -> str:
    """A tag with outer white space removed and inner runs of white space folded to one space."""
    return " ".join(tag.split())


def split_tags(text: str) -> list[str]:
    """``"a,  b ,,c"`` → ``["a", "b", "c"]``: comma-separated, cleaned, empty tags dropped."""
    if "  " not in text and text.isprintable():
        # No white space but single plain spaces (every other white space character is
        # unprintable), so strip() is clean_tag at a third of the cost: bulk operations split
        # 20,000 captions twice.
        return [tag for part in text.split(",") if (tag := part.strip())]
    return [tag for part in text.split(",") if (tag := clean_tag(part))]


def join_tags(tags: Iterable[str]) -> str:
    return SEPARATOR.join(tags)


def parse_tag_list(text: str) -> tuple[str, ...]:
    """Tags a person typed (``"a, b"``) as a tuple without duplicates, in the order given."""
    return tuple(dict.fromkeys(split_tags(text)))


def tag_key(tag: str) -> str:
    """The spelling-blind identity of a tag, for near-duplicate detection.

    ``"Long_Hair"``, ``"long hair"`` and ``"long  hair"`` share the key ``"long hair"``; the
    A1111 escapes ``\\(`` ``\\)`` are ignored too.
    """
    return " ".join(tag.replace("\\", "").replace("_", " ").lower().split())


def underscores_to_spaces(tag: str) -> str:
    """``"long_hair"`` → ``"long hair"``; kaomoji such as ``"^_^"`` are kept as they are."""
    return tag if tag in KAOMOJI else clean_tag(tag.replace("_", " "))


def dedupe(tags: Iterable[str]) -> list[str]:
    """Drop repeated tags, keeping the first occurrence and the order."""
    return list(dict.fromkeys(tags))


def normalise_text(text: str) -> str:
    """Canonical separators and white space: ``"a ,b,, c  d"`` → ``"a, b, c d"``."""
    return join_tags(split_tags(one_line(text).translate(_COMMA_LIKE)))

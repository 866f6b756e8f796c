"""Apply a CaptionFilter to scanned entries (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lora_studio.services.captions.models import CaptionFilter, CaptionState
from lora_studio.services.captions.store import Entry
from lora_studio.services.captions.tags import clean_tag


def select(entries: Sequence[Entry], selection: CaptionFilter) -> list[Entry]:
    """The entries ``selection`` keeps, in scan order (``concept`` is applied by the scan)."""
    tests = _tests(selection)
    if not tests:
        return list(entries)
    return [entry for entry in entries if all(test(entry) for test in tests)]


def _tests(selection: CaptionFilter) -> list[Callable[[Entry], bool]]:
    tests: list[Callable[[Entry], bool]] = []
    if selection.no_caption:
        tests.append(lambda e: e.parsed.state in (CaptionState.MISSING, CaptionState.EMPTY))
    has = frozenset(clean_tag(tag) for tag in selection.has_tags)
    if has:
        tests.append(lambda e: has <= e.parsed.tag_set)
    lacks = frozenset(clean_tag(tag) for tag in selection.lacks_tags)
    if lacks:
        tests.append(lambda e: lacks.isdisjoint(e.parsed.tag_set))
    needle = selection.text.strip().casefold()
    if needle:
        tests.append(lambda e: needle in e.parsed.text.casefold())
    return tests

"""Runs inside a decoding process (tests only): what that process has imported."""

from __future__ import annotations

import sys


def imported_modules() -> list[str]:
    return sorted(sys.modules)

"""Kaomoji tags keep their underscores when tags turn "long_hair" into "long hair"."""

from __future__ import annotations

# The list the WD14 tagger Space uses (from toriato's webui extension).
KAOMOJI = frozenset(
    {
        "0_0",
        "(o)_(o)",
        "+_+",
        "+_-",
        "._.",
        "<o>_<o>",
        "<|>_<|>",
        "=_=",
        ">_<",
        "3_3",
        "6_9",
        ">_o",
        "@_@",
        "^_^",
        "o_o",
        "u_u",
        "x_x",
        "|_|",
        "||_||",
    }
)

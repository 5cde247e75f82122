"""Durations written the way operators write them (30s, 15m, 2h, 7d): one grammar for the schedule's intervals and
the alert window."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text` (a bare number is seconds); ValueError names the accepted forms."""
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use e.g. 30s, 15m, 2h, 1d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]

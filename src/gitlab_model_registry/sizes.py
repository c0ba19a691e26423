"""Byte counts as people write them in flags (``4GiB``, ``500MB``) and as gmr shows them
(``2.0 GiB``)."""

from __future__ import annotations

import re

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?i?B?)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``4GiB``, ``1.5 MiB``, ``500MB``, ``1024``: bytes; binary (KiB) and decimal (KB) units."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size such as 4GiB, 500MB or 1048576")
    unit = match[2].upper().removesuffix("B")
    power = " KMGTP".index(unit[0]) if unit else 0
    base = 1024 if unit.endswith("I") or not unit else 1000
    return int(float(match[1]) * base**power)


def human_size(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``2.0 GiB``: binary units, one decimal above bytes."""
    if abs(n) < 1024:
        return f"{n} B"
    value = float(n)
    for unit in _UNITS[1:]:
        value /= 1024
        if round(abs(value), 1) < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable: the last unit always returns")

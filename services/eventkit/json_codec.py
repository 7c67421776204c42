"""Reading JSON fast: stored JSON columns and the services' answers are parsed many thousands of
times a page or a run, and orjson parses them several times faster than the standard library."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# orjson reads an integer past 64 bits as a float; a number that long has 19 digits in a row.
_LONG_NUMBER = re.compile(rb"\d{19}")


def loads(text: str | bytes | bytearray) -> Any:
    """The value `json.loads` gives. Documents orjson reads differently or refuses (integers
    past 64 bits; NaN, infinities and lone surrogates, which the standard library writes) are
    read the standard way."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)

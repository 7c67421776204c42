"""What the pages' forms share."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

SEPARATORS = re.compile(r"[\s,;]+")


@dataclasses.dataclass
class FormState:
    """What a form shows: the values typed, per-field errors, a message for the whole form."""

    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    message: str = ""
    target: str = ""  # which of several forms of the same kind (a program id) this state is for

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.message)


def whole_numbers(text: str) -> list[int] | None:
    """ "6, 12" -> [6, 12], in the order given; None when any part is not a whole number."""
    parts = [p for p in SEPARATORS.split(text.strip()) if p]
    if not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]

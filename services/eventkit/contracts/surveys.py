"""What a survey item is, for every service: its kinds and the shape each kind must have.

Feedback's API checks templates against these rules as they come in and its domain again when
a template is defined (after trimming blank labels and options); the web offers the same kinds.
"""

from __future__ import annotations

from collections.abc import Sequence

SURVEY_ITEM_KINDS = ("likert", "choice", "text")
LIKERT_POINTS = 5
DEFAULT_LIKERT_LABELS = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
TEXT_MAX_LENGTH = 2000  # the longest free-text answer an item may allow


def item_shape_error(
    kind: str,
    labels: Sequence[str] = (),
    options: Sequence[str] = (),
    max_length: int | None = None,
) -> tuple[str, str] | None:
    """The first rule an item of `kind` breaks, as (field, message), or None when it fits.

    Likert labels are optional (the default five apply) but, when given, there is one per point;
    a choice has two or more distinct options; a text item allows 1 to TEXT_MAX_LENGTH characters.
    """
    if kind == "likert":
        if labels and len(labels) != LIKERT_POINTS:
            return "labels", f"A Likert item has {LIKERT_POINTS} labels, for 1 to {LIKERT_POINTS}."
    elif kind == "choice":
        if len(options) < 2:
            return "options", "A choice item has at least two options."
        if len(set(options)) != len(options):
            return "options", "Options must differ from each other."
    elif kind == "text" and max_length is not None and not 1 <= max_length <= TEXT_MAX_LENGTH:
        return "max_length", f"A text answer is at most {TEXT_MAX_LENGTH} characters."
    return None

"""The ready-made survey templates: seeded per institution on request (or listed as built-ins)."""

from __future__ import annotations

from typing import Any

from services.eventkit.contracts.surveys import DEFAULT_LIKERT_LABELS

BUILTIN_TEMPLATES: dict[str, dict[str, Any]] = {
    "semiannual_review": {
        "name": "Semiannual review",
        "description": "Twice a year: is the pair meeting, how often, and is it helping?",
        "months": [6, 12],
        "items": [
            {"item_id": "meeting", "kind": "choice", "prompt": "Are you meeting?",
             "options": ["Yes, regularly", "Sometimes", "Not at all"]},
            {"item_id": "frequency", "kind": "choice", "prompt": "How often do you meet?",
             "options": ["Weekly", "Every two weeks", "Monthly", "Less than monthly", "Never"]},
            {"item_id": "helpful", "kind": "likert", "prompt": "The mentoring is helpful to me.",
             "labels": list(DEFAULT_LIKERT_LABELS)},
            {"item_id": "better", "kind": "text", "required": False,
             "prompt": "What would make it better?"},
        ],
    },
    "end_of_cycle": {
        "name": "End-of-cycle evaluation",
        "description": "At the end of the cycle: overall value, objectives, would you continue?",
        "months": [12],
        "items": [
            {"item_id": "overall", "kind": "likert",
             "prompt": "Overall, the program was valuable to me."},
            {"item_id": "objectives", "kind": "likert",
             "prompt": "We made progress on the objectives we set."},
            {"item_id": "match", "kind": "likert", "prompt": "My pairing was a good match."},
            {"item_id": "continue", "kind": "choice",
             "prompt": "Would you take part again (or recommend the program)?",
             "options": ["Yes", "Maybe", "No"]},
            {"item_id": "highlight", "kind": "text", "required": False, "shared": True,
             "prompt": "What was most useful?"},
            {"item_id": "change", "kind": "text", "required": False, "shared": True,
             "prompt": "What should the program change?"},
        ],
    },
    "group_session": {
        "name": "Group coaching session feedback",
        "description": "After a group coaching session.",
        "months": [3, 6, 9, 12],
        "items": [
            {"item_id": "useful", "kind": "likert", "prompt": "The session was useful to me."},
            {"item_id": "voice", "kind": "likert",
             "prompt": "I had the chance to raise what mattered to me."},
            {"item_id": "pace", "kind": "choice", "prompt": "The pace of the session was",
             "options": ["Too slow", "About right", "Too fast"]},
            {"item_id": "next", "kind": "text", "required": False,
             "prompt": "What should the next session cover?"},
        ],
    },
}  # fmt: skip

"""One issued survey's results for its coordinators: the response rate and, per item, the Likert
distribution, the choice counts or (only where the template shares them) the free-text answers.
Each figure describing fewer than MIN_PEOPLE people is suppressed, as in program health; no
result carries a person's id or name."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

from services.eventkit.contracts.surveys import DEFAULT_LIKERT_LABELS, LIKERT_POINTS

from .health import share, suppressed_unless

RESULT_COLUMNS = ("item_id", "kind", "prompt", "answer", "count")


def _answered(item: dict[str, Any], responses: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each respondent's answer to the item, for those who gave one."""
    out = {}
    for r in responses:
        value = r["answers"].get(item["item_id"])
        if value is not None and value != "":
            out[r["person_id"]] = value
    return out


def item_result(item: dict[str, Any], responses: Sequence[dict[str, Any]]) -> dict[str, Any]:
    answers = _answered(item, responses)
    values: dict[str, Any] = {"responses": len(answers)}
    if item["kind"] == "likert":
        labels = item.get("labels") or list(DEFAULT_LIKERT_LABELS)
        values["distribution"] = [
            {"value": point, "label": labels[point - 1],
             "count": sum(1 for v in answers.values() if v == point)}
            for point in range(1, LIKERT_POINTS + 1)
        ]  # fmt: skip
    elif item["kind"] == "choice":
        values["counts"] = [
            {"option": option, "count": sum(1 for v in answers.values() if v == option)}
            for option in item["options"]
        ]
    elif item.get("shared"):
        # Shuffled so the order says nothing of who answered first (or of the roster's order).
        texts = sorted(str(v) for v in answers.values())
        random.Random(item["item_id"]).shuffle(texts)
        values["texts"] = texts
    return {
        "item_id": item["item_id"],
        "kind": item["kind"],
        "prompt": item["prompt"],
        "shared": bool(item.get("shared")) if item["kind"] == "text" else None,
        "result": suppressed_unless(set(answers), values),
    }


def survey_results(
    items: Sequence[dict[str, Any]],
    recipients: Iterable[str],
    responses: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """`responses`: each recipient's latest answers (dicts with person_id, answers)."""
    issued = set(recipients)
    theirs = [r for r in responses if r["person_id"] in issued]
    return {
        "response_rate": suppressed_unless(
            issued,
            {
                "issued": len(issued),
                "responded": len(theirs),
                "rate": share(len(theirs), len(issued)),
            },
        ),
        "items": [item_result(item, theirs) for item in items],
    }


def result_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The results as de-identified rows (one per Likert point, option or shared text); a
    suppressed item gives no row."""
    rows: list[dict[str, Any]] = []
    for item in results["items"]:
        result = item["result"]
        if result["suppressed"]:
            continue
        base = {"item_id": item["item_id"], "kind": item["kind"], "prompt": item["prompt"]}
        if item["kind"] == "likert":
            for point in result["distribution"]:
                answer = f"{point['value']} {point['label']}"
                rows.append({**base, "answer": answer, "count": point["count"]})
        elif item["kind"] == "choice":
            for option in result["counts"]:
                rows.append({**base, "answer": option["option"], "count": option["count"]})
        else:
            rows += [{**base, "answer": text, "count": 1} for text in result.get("texts", [])]
    return rows

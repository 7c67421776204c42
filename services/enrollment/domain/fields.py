"""Field rules the aggregates share."""

from __future__ import annotations

from services.eventkit.aggregate import DomainError


def required_text(value: str, field: str, max_length: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("This field is required.", field)
    if len(text) > max_length:
        raise DomainError(f"At most {max_length} characters.", field)
    return text


def clean_list(values: list[str], field: str, max_items: int, max_length: int) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(cleaned) > max_items:
        raise DomainError(f"At most {max_items} entries.", field)
    if any(len(v) > max_length for v in cleaned):
        raise DomainError(f"Each entry at most {max_length} characters.", field)
    return cleaned

"""Erasing a person: the audited `PersonErased` event, then their key destroyed.

The event goes at the end of the person's own stream (so every copy of the directory applies it
after what it erased) and the key is destroyed inside the same transaction, last: if destroying
fails nothing is recorded, and if the commit fails after it, erasing again records the event.
Nothing stored is changed or deleted, so hash chains, seals, checkpoints and every count hold.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .aggregate import NotFound
from .envelope import Metadata, NewEvent

if TYPE_CHECKING:
    from .service import Runtime

ERASED_EVENT = "PersonErased"


@dataclasses.dataclass(frozen=True)
class Erasure:
    person_id: str
    event_id: str | None  # the PersonErased event recorded now; None if it was recorded before
    already_erased: bool
    key_destroyed: bool  # False when there was no key (nothing of theirs was ever sealed)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def erase_person(rt: Runtime, stream_id: str, person_id: str, meta: Metadata) -> Erasure:
    """Record the erasure of the person whose stream is `stream_id` and destroy their key."""
    with rt.engine.begin() as conn:
        events = rt.store.load(conn, stream_id)
        if not events:
            raise NotFound("No such person.")
        already = any(e.event_type == ERASED_EVENT for e in events)
        event_id = None
        if not already:
            erased = NewEvent(ERASED_EVENT, {"person_id": person_id})
            stored = rt.store.append(conn, stream_id, [erased], events[-1].stream_version, meta)
            event_id = stored[0].event_id
        destroyed = rt.store.keys.erase(person_id, by=str(meta.actor.get("id", "")))
    return Erasure(person_id, event_id, already, destroyed)

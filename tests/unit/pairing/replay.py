"""A cycle's pairing as the store would give it back: its recorded events replayed."""

from __future__ import annotations

import datetime as dt

from services.eventkit.envelope import Envelope, new_id
from services.pairing.domain.cycle_pairing import CyclePairing

NOW = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


def reloaded(pairing: CyclePairing) -> CyclePairing:
    """The aggregate's pending events replayed into a fresh one."""
    events = [
        Envelope(
            event_id=new_id(), event_type=e.event_type, schema_version=1, stream_id=pairing.stream_id,
            stream_version=n + 1, institution_id="i", actor={"id": "t", "role": "system"},
            occurred_at=NOW, correlation_id="c", causation_id=None, payload=e.payload,
        )
        for n, e in enumerate(pairing.pending)
    ]  # fmt: skip
    return CyclePairing.rehydrate(pairing.id, events)

"""Pausing the cyclic garbage collector while an algorithm allocates many small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The engine builds no reference cycles, but its many small allocations make the collector
    rescan every person in a large pool over and over; that is a third of a large stable run."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""Coordinator pages: programs and cycles, roster import, participants (the `coord` blueprint)."""

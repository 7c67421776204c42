"""Coordinator pages for watching a program: health, exports, concerns, surveys, audit trail
(the `oversight` blueprint)."""

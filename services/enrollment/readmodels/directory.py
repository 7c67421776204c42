"""Enrollment's own events, applied inline to its copy of every directory table (through the event
kit's directory projection, which the other services use for their copies)."""

from __future__ import annotations

from services.eventkit.directory import Directory

from .tables import conflicts, cycles, enrollments, institutions, people, programs, staff_roles

# Enrollment's own events, applied inline to its copy of every table.
directory = Directory(
    institutions=institutions, programs=programs, cycles=cycles, people=people,
    enrollments=enrollments, conflicts=conflicts, staff_roles=staff_roles,
).projection("directory", sources=())  # fmt: skip

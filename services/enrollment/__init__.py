"""Enrollment: institutions, programs, cycles, people and who takes part in which cycle."""

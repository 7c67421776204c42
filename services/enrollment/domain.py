"""Enrollment's aggregates and rules. Pure Python: no Flask, no SQLAlchemy."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.eventkit.aggregate import Aggregate, DomainError

PROGRAM_TYPES = (
    "resident_peer_mentoring",
    "faculty_mentoring",
    "student_career_coaching",
    "mentoring_families",
    "big_sibling",
)
TRAINING_LEVELS = (
    "MS1",
    "MS2",
    "MS3",
    "MS4",
    "MS5",
    "MS6",
    "PGY1",
    "PGY2",
    "PGY3",
    "PGY4",
    "PGY5",
    "PGY6",
    "PGY7",
    "research_resident",
    "fellow",
    "faculty",
)


def _required_text(value: str, field: str, max_length: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("This field is required.", field)
    if len(text) > max_length:
        raise DomainError(f"At most {max_length} characters.", field)
    return text


class Institution(Aggregate):
    stream_prefix = "institution"

    def add(self, name: str, short_code: str, time_zone: str) -> None:
        if self.exists:
            raise DomainError("This institution already exists.")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError(f"Unknown time zone {time_zone!r}.", "time_zone") from None
        self.record(
            "InstitutionAdded",
            institution_id=self.id,
            name=_required_text(name, "name"),
            short_code=_required_text(short_code, "short_code", 20).upper(),
            time_zone=time_zone,
        )


class Program(Aggregate):
    stream_prefix = "program"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.institution_id = ""
        self.cycles: dict[str, dict[str, Any]] = {}

    def create(self, institution_id: str, name: str, program_type: str, guidelines: str) -> None:
        if self.exists:
            raise DomainError("This program already exists.")
        if program_type not in PROGRAM_TYPES:
            raise DomainError(f"Must be one of: {', '.join(PROGRAM_TYPES)}.", "program_type")
        self.record(
            "ProgramCreated",
            program_id=self.id,
            institution_id=institution_id,
            name=_required_text(name, "name"),
            program_type=program_type,
            guidelines=guidelines or "",
        )

    def open_cycle(self, cycle_id: str, name: str, cross_institution: bool) -> None:
        name = _required_text(name, "name", 100)
        if any(c["name"] == name for c in self.cycles.values()):
            raise DomainError(f"This program already has a cycle named {name!r}.", "name")
        self.record(
            "CycleOpened",
            cycle_id=cycle_id,
            program_id=self.id,
            institution_id=self.institution_id,
            name=name,
            cross_institution=cross_institution,
        )

    def check_open(self, cycle_id: str) -> dict[str, Any]:
        cycle = self.cycles.get(cycle_id)
        if cycle is None:
            raise DomainError("No such cycle in this program.", "cycle_id")
        if not cycle["open"]:
            raise DomainError("This cycle is closed for enrollment.", "cycle_id")
        return cycle

    def when_program_created(self, p: dict[str, Any]) -> None:
        self.institution_id = p["institution_id"]

    def when_cycle_opened(self, p: dict[str, Any]) -> None:
        self.cycles[p["cycle_id"]] = {
            "name": p["name"],
            "open": True,
            "cross_institution": p["cross_institution"],
        }


class Person(Aggregate):
    stream_prefix = "person"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.institution_id = ""

    def register(
        self, institution_id: str, name: str, email: str, training_level: str, specialty: str
    ) -> None:
        if self.exists:
            raise DomainError("This person already exists.")
        if training_level not in TRAINING_LEVELS:
            raise DomainError(f"Must be one of: {', '.join(TRAINING_LEVELS)}.", "training_level")
        self.record(
            "PersonRegistered",
            person_id=self.id,
            institution_id=institution_id,
            name=_required_text(name, "name"),
            email=_required_text(email, "email", 254).lower(),
            training_level=training_level,
            specialty=(specialty or "").strip(),
        )

    def when_person_registered(self, p: dict[str, Any]) -> None:
        self.institution_id = p["institution_id"]


class Enrollment(Aggregate):
    stream_prefix = "enrollment"

    def enroll(
        self,
        program: Program,
        cycle_id: str,
        person: Person,
        role: str,
        interests: list[str],
        capacity: int | None,
    ) -> None:
        if self.exists:
            raise DomainError("This enrollment already exists.")
        if not person.exists:
            raise DomainError("No such person.", "person_id")
        cycle = program.check_open(cycle_id)
        if person.institution_id != program.institution_id and not cycle["cross_institution"]:
            raise DomainError(
                "This person belongs to another institution and the cycle is not cross-institution.",
                "person_id",
            )
        if role == "mentor":
            if capacity is None or capacity < 1:
                raise DomainError("A mentor's capacity must be at least 1.", "capacity")
        elif capacity is not None:
            raise DomainError("Only mentors have a capacity.", "capacity")
        self.record(
            "ParticipantEnrolled",
            enrollment_id=self.id,
            cycle_id=cycle_id,
            program_id=program.id,
            person_id=person.id,
            role=role,
            interests=sorted({i.strip() for i in interests if i.strip()}),
            capacity=capacity,
        )

"""The consortium's directory: institutions, and programs with their cycles (a cycle lives inside
its program: its rules are the program's)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.eventkit.aggregate import Aggregate, DomainError
from services.eventkit.contracts.enrollment import PAIRING_FORMATS
from services.eventkit.contracts.vocabulary import PROGRAM_TYPES

from .fields import required_text

MAX_GROUP_SIZE = 12


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
            name=required_text(name, "name"),
            short_code=required_text(short_code, "short_code", 20).upper(),
            time_zone=time_zone,
        )


class Program(Aggregate):
    """A program and its cycles (a cycle lives inside its program: its rules are the program's)."""

    stream_prefix = "program"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.institution_id = ""
        self.guidelines = ""
        self.guidelines_version = 1
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
            name=required_text(name, "name"),
            program_type=program_type,
            guidelines=(guidelines or "").strip(),
        )

    def update_guidelines(self, guidelines: str) -> None:
        text = (guidelines or "").strip()
        if text == self.guidelines:
            return
        self.record(
            "GuidelinesUpdated",
            program_id=self.id,
            guidelines=text,
            guidelines_version=self.guidelines_version + 1,
        )

    def open_cycle(
        self,
        cycle_id: str,
        name: str,
        cross_institution: bool = False,
        pairing_format: str = "one_to_one",
        group_size: int | None = None,
        meeting_expectations: str = "",
        review_months: list[int] | None = None,
    ) -> None:
        name = required_text(name, "name", 100)
        if any(c["name"] == name for c in self.cycles.values()):
            raise DomainError(f"This program already has a cycle named {name!r}.", "name")
        if pairing_format not in PAIRING_FORMATS:
            raise DomainError(f"Must be one of: {', '.join(PAIRING_FORMATS)}.", "pairing_format")
        if pairing_format == "group":
            if group_size is None or not 2 <= group_size <= MAX_GROUP_SIZE:
                raise DomainError(
                    f"Group coaching needs a group size from 2 to {MAX_GROUP_SIZE}.", "group_size"
                )
        elif group_size is not None:
            raise DomainError("Only group coaching has a group size.", "group_size")
        months = sorted(set(review_months or []))
        if any(not 1 <= m <= 24 for m in months):
            raise DomainError("Review months run from 1 to 24.", "review_months")
        self.record(
            "CycleOpened",
            cycle_id=cycle_id,
            program_id=self.id,
            institution_id=self.institution_id,
            name=name,
            cross_institution=cross_institution,
            pairing_format=pairing_format,
            group_size=group_size,
            meeting_expectations=(meeting_expectations or "").strip(),
            review_months=months,
        )

    def close_cycle(self, cycle_id: str) -> None:
        if not self.cycle(cycle_id)["open"]:
            raise DomainError("This cycle is already closed.", "cycle_id")
        self.record("CycleClosed", cycle_id=cycle_id, program_id=self.id)

    def reopen_cycle(self, cycle_id: str) -> None:
        if self.cycle(cycle_id)["open"]:
            raise DomainError("This cycle is already open.", "cycle_id")
        self.record("CycleReopened", cycle_id=cycle_id, program_id=self.id)

    def cycle(self, cycle_id: str) -> dict[str, Any]:
        cycle = self.cycles.get(cycle_id)
        if cycle is None:
            raise DomainError("No such cycle in this program.", "cycle_id")
        return cycle

    def check_open(self, cycle_id: str) -> dict[str, Any]:
        cycle = self.cycle(cycle_id)
        if not cycle["open"]:
            raise DomainError("This cycle is closed for enrollment.", "cycle_id")
        return cycle

    def when_program_created(self, p: dict[str, Any]) -> None:
        self.institution_id = p["institution_id"]
        self.guidelines = p["guidelines"]

    def when_guidelines_updated(self, p: dict[str, Any]) -> None:
        self.guidelines = p["guidelines"]
        self.guidelines_version = p["guidelines_version"]

    def when_cycle_opened(self, p: dict[str, Any]) -> None:
        self.cycles[p["cycle_id"]] = {**p, "open": True}

    def when_cycle_closed(self, p: dict[str, Any]) -> None:
        self.cycles[p["cycle_id"]]["open"] = False

    def when_cycle_reopened(self, p: dict[str, Any]) -> None:
        self.cycles[p["cycle_id"]]["open"] = True

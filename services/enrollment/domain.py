"""Enrollment's aggregates and rules. Pure Python: no Flask, no SQLAlchemy."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.eventkit.aggregate import Aggregate, DomainError
from services.eventkit.contracts.enrollment import (
    CONFLICT_KINDS,
    MEETING_MODES,
    PAIRING_FORMATS,
    STAFF_ROLES,
)
from services.eventkit.contracts.vocabulary import PROGRAM_TYPES, TRAINING_LEVELS

# Half-day slots a participant can usually meet in, e.g. "mon-am", "thu-eve".
AVAILABILITY_SLOTS = tuple(
    f"{day}-{part}"
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for part in ("am", "pm", "eve")
)
IDENTITY_KEYS = ("urim", "gender", "first_generation")
MAX_CAPACITY = 20
MAX_GROUP_SIZE = 12
MAX_RANKED = 10

PROFILE_FIELDS = (
    "interests", "capacity", "goals", "languages", "meeting_mode", "availability", "identity",
)  # fmt: skip
PERSON_FIELDS = ("name", "training_level", "specialty", "pronouns")


def _required_text(value: str, field: str, max_length: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("This field is required.", field)
    if len(text) > max_length:
        raise DomainError(f"At most {max_length} characters.", field)
    return text


def _clean_list(values: list[str], field: str, max_items: int, max_length: int) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(cleaned) > max_items:
        raise DomainError(f"At most {max_items} entries.", field)
    if any(len(v) > max_length for v in cleaned):
        raise DomainError(f"Each entry at most {max_length} characters.", field)
    return cleaned


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
            name=_required_text(name, "name"),
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
        name = _required_text(name, "name", 100)
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


class Person(Aggregate):
    stream_prefix = "person"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.institution_id = ""
        self.fields: dict[str, str] = {}
        self.staff_roles: set[tuple[str, str | None, str | None]] = set()

    def register(
        self,
        institution_id: str,
        name: str,
        email: str,
        training_level: str,
        specialty: str = "",
        pronouns: str = "",
    ) -> None:
        if self.exists:
            raise DomainError("This person already exists.")
        self.record(
            "PersonRegistered",
            person_id=self.id,
            institution_id=institution_id,
            name=_required_text(name, "name"),
            email=_required_text(email, "email", 254).lower(),
            training_level=_level(training_level),
            specialty=(specialty or "").strip()[:200],
            pronouns=(pronouns or "").strip()[:40],
        )

    def update(self, **changes: Any) -> None:
        wanted = {k: v for k, v in changes.items() if k in PERSON_FIELDS and v is not None}
        if "name" in wanted:
            wanted["name"] = _required_text(wanted["name"], "name")
        if "training_level" in wanted:
            wanted["training_level"] = _level(wanted["training_level"])
        for key in ("specialty", "pronouns"):
            if key in wanted:
                wanted[key] = wanted[key].strip()
        changed = {k: v for k, v in wanted.items() if self.fields.get(k) != v}
        if changed:
            self.record("PersonUpdated", person_id=self.id, **changed)

    def grant(self, role: str, institution_id: str | None, program_id: str | None) -> None:
        key = _staff_role(role, institution_id, program_id)
        if key not in self.staff_roles:
            self.record(
                "RoleGranted", person_id=self.id, role=role,
                institution_id=institution_id, program_id=program_id,
            )  # fmt: skip

    def revoke(self, role: str, institution_id: str | None, program_id: str | None) -> None:
        key = _staff_role(role, institution_id, program_id)
        if key not in self.staff_roles:
            raise DomainError("This person does not hold that role.", "role")
        self.record(
            "RoleRevoked", person_id=self.id, role=role,
            institution_id=institution_id, program_id=program_id,
        )  # fmt: skip

    def when_person_registered(self, p: dict[str, Any]) -> None:
        self.institution_id = p["institution_id"]
        self.fields = {k: p[k] for k in PERSON_FIELDS}

    def when_person_updated(self, p: dict[str, Any]) -> None:
        self.fields.update({k: p[k] for k in PERSON_FIELDS if k in p})

    def when_role_granted(self, p: dict[str, Any]) -> None:
        self.staff_roles.add((p["role"], p["institution_id"], p["program_id"]))

    def when_role_revoked(self, p: dict[str, Any]) -> None:
        self.staff_roles.discard((p["role"], p["institution_id"], p["program_id"]))


def _level(value: str) -> str:
    if value not in TRAINING_LEVELS:
        raise DomainError(f"Must be one of: {', '.join(TRAINING_LEVELS)}.", "training_level")
    return value


def _staff_role(role: str, institution_id: str | None, program_id: str | None):
    if role not in STAFF_ROLES:
        raise DomainError(f"Must be one of: {', '.join(STAFF_ROLES)}.", "role")
    if role == "consortium_admin" and (institution_id or program_id):
        raise DomainError("The consortium admin role is consortium-wide.", "institution_id")
    if role == "coordinator" and not institution_id:
        raise DomainError("A coordinator belongs to an institution.", "institution_id")
    return (role, institution_id, program_id)


def clean_profile(role: str, profile: dict[str, Any]) -> dict[str, Any]:
    """Validate the matching-profile fields given (others are left out)."""
    out: dict[str, Any] = {}
    if "interests" in profile:
        out["interests"] = _clean_list(profile["interests"] or [], "interests", 20, 100)
    if "languages" in profile:
        out["languages"] = _clean_list(profile["languages"] or [], "languages", 10, 50)
    if "availability" in profile:
        slots = _clean_list(profile["availability"] or [], "availability", 21, 20)
        unknown = [s for s in slots if s not in AVAILABILITY_SLOTS]
        if unknown:
            raise DomainError(
                f"Unknown slots {', '.join(unknown)}; use day-part like mon-am or thu-eve.",
                "availability",
            )
        out["availability"] = slots
    if "goals" in profile:
        goals = (profile["goals"] or "").strip()
        if len(goals) > 2000:
            raise DomainError("At most 2000 characters.", "goals")
        out["goals"] = goals
    if "meeting_mode" in profile:
        if profile["meeting_mode"] not in MEETING_MODES:
            raise DomainError(f"Must be one of: {', '.join(MEETING_MODES)}.", "meeting_mode")
        out["meeting_mode"] = profile["meeting_mode"]
    if "identity" in profile:
        out["identity"] = _identity(profile["identity"])
    if "capacity" in profile:
        capacity = profile["capacity"]
        if role == "mentor":
            if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
                raise DomainError(
                    f"A mentor's capacity must be from 1 to {MAX_CAPACITY}.", "capacity"
                )
        elif capacity is not None:
            raise DomainError("Only mentors have a capacity.", "capacity")
        out["capacity"] = capacity
    return out


def _identity(identity: dict[str, Any] | None) -> dict[str, str] | None:
    """Self-identification is kept only with consent: `None` means none given, or consent withdrawn."""
    if not identity:
        return None
    if identity.get("consent") is not True:
        raise DomainError(
            "Self-identification is used for matching only with explicit consent.", "identity"
        )
    unknown = set(identity) - {*IDENTITY_KEYS, "consent"}
    if unknown:
        raise DomainError(f"Unknown keys: {', '.join(sorted(unknown))}.", "identity")
    return {k: str(identity[k]).strip()[:50] for k in IDENTITY_KEYS if identity.get(k)}


class Enrollment(Aggregate):
    """A person taking part in one cycle as mentor or mentee."""

    stream_prefix = "enrollment"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.person_id = ""
        self.cycle_id = ""
        self.program_id = ""
        self.role = ""
        self.active = False
        self.profile: dict[str, Any] = {}
        self.ranking: list[str] = []
        self.conflicts: dict[str, str] = {}
        self.guidelines_version: int | None = None

    def enroll(
        self,
        program: Program,
        cycle_id: str,
        person: Person,
        role: str,
        profile: dict[str, Any],
        accept_guidelines: bool = False,
    ) -> None:
        if self.exists:
            raise DomainError("This enrollment already exists.")
        if not person.exists:
            raise DomainError("No such person.", "person_id")
        if role not in ("mentor", "mentee"):
            raise DomainError("Must be mentor or mentee.", "role")
        cycle = program.check_open(cycle_id)
        if person.institution_id != program.institution_id and not cycle["cross_institution"]:
            raise DomainError(
                "This person belongs to another institution and the cycle is not cross-institution.",
                "person_id",
            )
        cleaned = clean_profile(role, {"capacity": None, **profile})
        self.record(
            "ParticipantEnrolled",
            enrollment_id=self.id,
            cycle_id=cycle_id,
            program_id=program.id,
            person_id=person.id,
            role=role,
            interests=cleaned.get("interests", []),
            capacity=cleaned["capacity"],
            goals=cleaned.get("goals", ""),
            languages=cleaned.get("languages", []),
            meeting_mode=cleaned.get("meeting_mode", "either"),
            availability=cleaned.get("availability", []),
            identity=cleaned.get("identity"),
            guidelines_accepted_version=program.guidelines_version if accept_guidelines else None,
        )

    def _ids(self) -> dict[str, str]:
        return {"enrollment_id": self.id, "cycle_id": self.cycle_id, "person_id": self.person_id}

    def _require_active(self) -> None:
        if not self.active:
            raise DomainError("This enrollment has been withdrawn.")

    def update_profile(self, profile: dict[str, Any]) -> None:
        self._require_active()
        cleaned = clean_profile(self.role, profile)
        changed = {k: v for k, v in cleaned.items() if self.profile.get(k) != v}
        if changed:
            self.record("ProfileUpdated", **self._ids(), **changed)

    def rank(self, mentors: list[Enrollment]) -> None:
        """`mentors`: the ranked mentor enrollments, best first (already loaded by the caller)."""
        self._require_active()
        if self.role != "mentee":
            raise DomainError("Only mentees rank mentors.", "mentor_enrollment_ids")
        ids = [m.id for m in mentors]
        if len(set(ids)) != len(ids):
            raise DomainError("A mentor appears twice in the ranking.", "mentor_enrollment_ids")
        if len(ids) > MAX_RANKED:
            raise DomainError(f"Rank at most {MAX_RANKED} mentors.", "mentor_enrollment_ids")
        for mentor in mentors:
            if not mentor.exists or mentor.role != "mentor" or mentor.cycle_id != self.cycle_id:
                raise DomainError(
                    "Only mentors enrolled in the same cycle can be ranked.",
                    "mentor_enrollment_ids",
                )
            if not mentor.active:
                raise DomainError("A ranked mentor has withdrawn.", "mentor_enrollment_ids")
            if mentor.person_id == self.person_id:
                raise DomainError("You cannot rank yourself.", "mentor_enrollment_ids")
        if ids != self.ranking:
            self.record("InterestRanked", **self._ids(), mentor_enrollment_ids=ids)

    def declare_conflict(self, other: Person, kind: str) -> None:
        self._require_active()
        if not other.exists:
            raise DomainError("No such person.", "other_person_id")
        if other.id == self.person_id:
            raise DomainError("A conflict is with someone else.", "other_person_id")
        if kind not in CONFLICT_KINDS:
            raise DomainError(f"Must be one of: {', '.join(CONFLICT_KINDS)}.", "kind")
        if self.conflicts.get(other.id) != kind:
            self.record("ConflictDeclared", **self._ids(), other_person_id=other.id, kind=kind)

    def remove_conflict(self, other_person_id: str) -> None:
        if other_person_id not in self.conflicts:
            raise DomainError("No conflict is declared with that person.", "other_person_id")
        self.record("ConflictRemoved", **self._ids(), other_person_id=other_person_id)

    def accept_guidelines(self, program: Program) -> None:
        self._require_active()
        if self.guidelines_version != program.guidelines_version:
            self.record(
                "GuidelinesAccepted", enrollment_id=self.id, program_id=program.id,
                person_id=self.person_id, guidelines_version=program.guidelines_version,
            )  # fmt: skip

    def withdraw(self, reason: str) -> None:
        self._require_active()
        self.record("ParticipantWithdrew", **self._ids(), reason=(reason or "").strip()[:500])

    def reenroll(self, program: Program) -> None:
        if self.active:
            raise DomainError("This enrollment is active already.")
        program.check_open(self.cycle_id)
        self.record("ParticipantReenrolled", **self._ids())

    def when_participant_enrolled(self, p: dict[str, Any]) -> None:
        self.person_id, self.cycle_id = p["person_id"], p["cycle_id"]
        self.program_id, self.role = p["program_id"], p["role"]
        self.active = True
        self.profile = {k: p[k] for k in PROFILE_FIELDS}
        self.guidelines_version = p["guidelines_accepted_version"]

    def when_profile_updated(self, p: dict[str, Any]) -> None:
        self.profile.update({k: p[k] for k in PROFILE_FIELDS if k in p})

    def when_interest_ranked(self, p: dict[str, Any]) -> None:
        self.ranking = list(p["mentor_enrollment_ids"])

    def when_conflict_declared(self, p: dict[str, Any]) -> None:
        self.conflicts[p["other_person_id"]] = p["kind"]

    def when_conflict_removed(self, p: dict[str, Any]) -> None:
        self.conflicts.pop(p["other_person_id"], None)

    def when_guidelines_accepted(self, p: dict[str, Any]) -> None:
        self.guidelines_version = p["guidelines_version"]

    def when_participant_withdrew(self, p: dict[str, Any]) -> None:
        self.active = False

    def when_participant_reenrolled(self, p: dict[str, Any]) -> None:
        self.active = True

"""An enrollment: a person taking part in one cycle as mentor or mentee, with their profile,
ranking of mentors, declared conflicts and guidelines acceptance."""

from __future__ import annotations

from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError
from services.eventkit.contracts.enrollment import CONFLICT_KINDS

from .directory import Program
from .invitation import Invitation
from .person import Person
from .profile import PROFILE_FIELDS, clean_profile

MAX_RANKED = 10
# A mentor ranks up to this many mentees (the rest follow by score); stable matching scans a
# ranking this short for each proposal.
MAX_RANKED_MENTEES = 20


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
        self.ranking: list[str] = []  # a mentee's mentors or a mentor's mentees, best first
        self.not_acceptable: list[str] = []  # mentees a mentor would not accept
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
        invitation: Invitation | None = None,
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
            **(invitation.on_enrollment() if invitation else {}),
        )

    def schedule_invitation(self, invitation: Invitation) -> None:
        """Choose again when the participant is invited (someone already invited is not invited
        twice: notifications knows who was)."""
        self._require_active()
        self.record(
            "InvitationScheduled", **self._ids(), program_id=self.program_id,
            mode=invitation.mode, invite_at=invitation.at_iso,
        )  # fmt: skip

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

    def rank_mentees(self, mentees: list[Enrollment], not_acceptable: list[Enrollment]) -> None:
        """A mentor's mentees, best first, and those they would not accept (all loaded by the
        caller); replaces the earlier ranking."""
        self._require_active()
        field = "mentee_enrollment_ids"
        if self.role != "mentor":
            raise DomainError("Only mentors rank mentees.", field)
        ids, refused = [m.id for m in mentees], [m.id for m in not_acceptable]
        if len(set(ids)) != len(ids):
            raise DomainError("A mentee appears twice in the ranking.", field)
        if len(ids) > MAX_RANKED_MENTEES:
            raise DomainError(f"Rank at most {MAX_RANKED_MENTEES} mentees.", field)
        if set(ids) & set(refused):
            raise DomainError(
                "A mentee cannot be both ranked and not acceptable.",
                "not_acceptable_enrollment_ids",
            )
        for where, listed in ((field, mentees), ("not_acceptable_enrollment_ids", not_acceptable)):
            for mentee in listed:
                if not mentee.exists or mentee.role != "mentee" or mentee.cycle_id != self.cycle_id:
                    raise DomainError(
                        "Only mentees enrolled in the same cycle can be listed.", where
                    )
                if mentee.person_id == self.person_id:
                    raise DomainError("You cannot rank yourself.", where)
        refused = list(dict.fromkeys(refused))
        if ids != self.ranking or refused != self.not_acceptable:
            self.record(
                "MenteesRanked", **self._ids(), mentee_enrollment_ids=ids,
                not_acceptable_enrollment_ids=refused,
            )  # fmt: skip

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

    def when_mentees_ranked(self, p: dict[str, Any]) -> None:
        self.ranking = list(p["mentee_enrollment_ids"])
        self.not_acceptable = list(p["not_acceptable_enrollment_ids"])

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

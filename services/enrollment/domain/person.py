"""A person of the consortium: registration, their details, and the staff roles they hold."""

from __future__ import annotations

from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError
from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

from .fields import required_text
from .roles import StaffRole, staff_role

PERSON_FIELDS = ("name", "training_level", "specialty", "pronouns")


class Person(Aggregate):
    stream_prefix = "person"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.institution_id = ""
        self.fields: dict[str, str] = {}
        self.staff_roles: set[StaffRole] = set()

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
            name=required_text(name, "name"),
            email=required_text(email, "email", 254).lower(),
            training_level=_level(training_level),
            specialty=(specialty or "").strip()[:200],
            pronouns=(pronouns or "").strip()[:40],
        )

    def update(self, **changes: Any) -> None:
        wanted = {k: v for k, v in changes.items() if k in PERSON_FIELDS and v is not None}
        if "name" in wanted:
            wanted["name"] = required_text(wanted["name"], "name")
        if "training_level" in wanted:
            wanted["training_level"] = _level(wanted["training_level"])
        for key in ("specialty", "pronouns"):
            if key in wanted:
                wanted[key] = wanted[key].strip()
        changed = {k: v for k, v in wanted.items() if self.fields.get(k) != v}
        if changed:
            self.record("PersonUpdated", person_id=self.id, **changed)

    def grant(self, role: str, institution_id: str | None, program_id: str | None) -> None:
        key = staff_role(role, institution_id, program_id)
        if key not in self.staff_roles:
            self.record(
                "RoleGranted", person_id=self.id, role=role,
                institution_id=institution_id, program_id=program_id,
            )  # fmt: skip

    def revoke(self, role: str, institution_id: str | None, program_id: str | None) -> None:
        key = staff_role(role, institution_id, program_id)
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

"""What the signed-in person takes part in (enrollments, pairs and groups), and the helpers
every mentor and mentee page uses for its forms.

One person may be a mentee in one program and a mentor in another, so every page works over all
of the person's enrollments and pairs. The services decide what the person may do; these pages
only show it and explain refusals next to the fields they concern.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, abort, g, redirect, url_for

from ...calls import fetch, fetch_or
from ...client import Reply
from ...identity import User, current_user
from ..blueprints import me as bp
from .labels import MENTOR


@bp.app_template_filter("readable")
def readable(value: str | None, labels: Mapping[str, str] | None = None) -> str:
    """A readable label for a code: from `labels`, else the code with spaces."""
    if not value:
        return ""
    text = (labels or {}).get(value) or value.replace("_", " ")
    return text[:1].upper() + text[1:]  # codes such as PGY4 keep their capitals


# --- what the signed-in person takes part in ------------------------------------------------------


def signed_in() -> User:
    user = current_user()
    if user is None:  # sign-in is checked before every request; this keeps the type honest
        abort(401)
    return user


def my_enrollments() -> list[dict]:
    """Every enrollment of the signed-in person, with its cycle and program (once a request)."""
    if "me_enrollments" not in g:
        g.me_enrollments = fetch("enrollment", f"/api/people/{signed_in().person_id}/enrollments")
    return g.me_enrollments


def active_enrollments(role: str | None = None) -> list[dict]:
    return [
        e
        for e in my_enrollments()
        if e["status"] == "active" and (role is None or e["role"] == role)
    ]


def find(items: Iterable[Any], key: str, value: str | None) -> Any:
    """The item whose `key` is `value`, or the 404 page (someone else's, or made up)."""
    for item in items:
        found = getattr(item, key) if dataclasses.is_dataclass(item) else item.get(key)
        if value and found == value:
            return item
    abort(404)


# Who is listed first in a group or family: the coach or senior, then the mid-level.
TITLE_ORDER = {"coach": 0, "senior": 0, "mid": 1}


@dataclasses.dataclass
class Member:
    person_id: str
    name: str
    role: str
    title: str = ""  # in a group or family: coach | member | senior | mid | junior
    email: str = ""
    pronouns: str = ""
    training_level: str = ""


@dataclasses.dataclass
class Pair:
    """A pair, coaching group or mentoring family the person is in, as the pages show it."""

    pair_id: str
    cycle_id: str
    kind: str
    active: bool
    started_on: str
    my_role: str
    program_name: str
    cycle_name: str
    meeting_expectations: str
    others: list[Member]
    my_title: str = ""  # in a group or family: coach | member | senior | mid | junior

    @property
    def names(self) -> str:
        return ", ".join(m.name for m in self.others)

    @property
    def title(self) -> str:
        return f"{self.program_name} · {self.cycle_name}"


def my_pairs(with_contacts: bool = False) -> list[Pair]:
    """The person's pairs, groups and families (each once, with everyone in it), active first;
    with emails and pronouns when asked."""
    me = signed_in().person_id
    cycles = {e["cycle_id"]: e for e in my_enrollments()}
    emails: dict[tuple[str, str], str] = {}
    cards: dict[str, dict] = {}
    if with_contacts:
        contacts = fetch_or("notifications", f"/api/people/{me}/pair-contacts", [])
        emails = {(c["pair_id"], c["person_id"]): c["email"] for c in contacts}
    pairs = []
    for rel in fetch("feedback", "/api/me/pairs"):
        cycle = cycles.get(rel["cycle_id"], {})
        others = []
        for person_id, role in rel["members"].items():
            if person_id == me:
                continue
            name = rel["names"].get(person_id) or "Name not known yet"
            member = Member(person_id, name, role, (rel.get("titles") or {}).get(person_id, ""))
            if with_contacts:
                if person_id not in cards:
                    cards[person_id] = fetch_or("enrollment", f"/api/people/{person_id}/card", {})
                member.email = emails.get((rel["pair_id"], person_id), "")
                member.pronouns = cards[person_id].get("pronouns", "")
                member.training_level = cards[person_id].get("training_level", "")
            others.append(member)
        others.sort(key=lambda m: (m.role != MENTOR, TITLE_ORDER.get(m.title, 0), m.name))
        pairs.append(
            Pair(
                pair_id=rel["pair_id"],
                cycle_id=rel["cycle_id"],
                kind=rel["kind"],
                active=rel["active"],
                started_on=rel["started_on"],
                my_role=rel["members"].get(me, ""),
                program_name=cycle.get("program_name", "A program"),
                cycle_name=cycle.get("cycle_name", ""),
                meeting_expectations=cycle.get("meeting_expectations", ""),
                others=others,
                my_title=(rel.get("titles") or {}).get(me, ""),
            )
        )
    pairs.sort(key=lambda p: (not p.active, p.title, p.names))
    return pairs


# --- small helpers for forms ----------------------------------------------------------------------


def split_list(text: str) -> list[str]:
    """Comma- or line-separated entries, trimmed, blanks dropped."""
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


def refused(reply: Reply, depth: int = 1) -> dict[str, str]:
    """Why a write was refused: messages per field (nested names cut to `depth` parts) and the
    service's own message under "_form". 403 and 404 become the web's own pages."""
    if reply.status in (403, 404):
        abort(reply.status)
    errors: dict[str, str] = {}
    for key, message in reply.field_errors().items():
        errors.setdefault(".".join(key.split(".")[:depth]), message)
    if reply.status != 422 or not errors or reply.message != "The request is not valid.":
        errors["_form"] = reply.message
    return errors


def back_to(endpoint: str, anchor: str = "", **values: Any) -> Response:
    target = url_for(endpoint, **values)
    return redirect(f"{target}#{anchor}" if anchor else target)

"""Pinned pairs and excluded people: what is settled before an algorithm runs on the rest."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from operator import attrgetter

from .model import Mentee, Mentor, Pair, Rules
from .rules import acceptable, score, violations

_id = attrgetter("id")  # sort key: people by id


class PinError(ValueError):
    """A pinned pair that cannot stand: unknown person, hard rule broken or capacity exceeded."""


@dataclass(frozen=True)
class Pool:
    """The people an algorithm still has to pair, sorted by id so runs are deterministic."""

    mentees: tuple[Mentee, ...]  # active and not pinned
    mentors: tuple[Mentor, ...]  # active, capacity reduced by their pins, room left
    pinned: tuple[Pair, ...]
    full_mentors: tuple[Mentor, ...]  # active mentors whose pins use all their capacity
    withdrawn: tuple[str, ...]  # ids of withdrawn people, for the explanations
    # (id, reason) of active people whose training level may not take their role in the cycle
    ineligible: tuple[tuple[str, str], ...] = ()


def respect_pins(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    rules: Rules,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> Pool:
    """Take pinned pairs, excluded people and people whose level may not take their role out of
    the pool; pins count against capacity."""
    mentee_by_id = _unique(mentees, "mentee")
    mentor_by_id = _unique(mentors, "mentor")
    load: dict[str, int] = {}
    pinned_mentees: set[str] = set()
    pairs = []
    for mentee_id, mentor_id in pinned:
        mentee = mentee_by_id.get(mentee_id)
        mentor = mentor_by_id.get(mentor_id)
        if mentee is None or mentor is None:
            raise PinError(f"pin ({mentee_id}, {mentor_id}) names someone not enrolled")
        if mentee_id in excluded or mentor_id in excluded:
            raise PinError(f"pin ({mentee_id}, {mentor_id}) names someone excluded")
        if not acceptable(mentee, mentor, rules):
            broken = ", ".join(violations(mentee, mentor, rules))
            raise PinError(f"pin ({mentee_id}, {mentor_id}) breaks a hard rule: {broken}")
        if mentee_id in pinned_mentees:
            raise PinError(f"mentee {mentee_id} is pinned twice")
        load[mentor_id] = load.get(mentor_id, 0) + 1
        if load[mentor_id] > mentor.capacity:
            raise PinError(f"pins exceed the capacity of mentor {mentor_id}")
        pinned_mentees.add(mentee_id)
        pairs.append(Pair(mentee_id, mentor_id, score(mentee, mentor, rules), pinned=True))

    withdrawn = sorted(p.id for p in (*mentees, *mentors) if p.withdrawn and p.id not in excluded)
    ineligible: dict[str, str] = {}
    refused: tuple[set[str], set[str]] = (set(), set())  # mentee ids, mentor ids
    if rules.mentee_levels is not None or rules.mentor_levels is not None:
        for people, ids in ((mentees, refused[0]), (mentors, refused[1])):
            for person in people:
                if not person.withdrawn and person.id not in excluded:
                    refusal = rules.level_refusal(person)
                    if refusal:
                        ineligible.setdefault(person.id, refusal)
                        ids.add(person.id)
    free_mentees = tuple(
        sorted(
            (
                m
                for m in mentees
                if not m.withdrawn
                and m.id not in excluded
                and m.id not in pinned_mentees
                and m.id not in refused[0]
            ),
            key=_id,
        )
    )
    open_mentors, full_mentors = [], []
    for mentor in sorted(mentors, key=_id):
        if mentor.withdrawn or mentor.id in excluded or mentor.id in refused[1]:
            continue
        room = mentor.capacity - load.get(mentor.id, 0)
        if room > 0:
            changed = room != mentor.capacity
            open_mentors.append(dataclasses.replace(mentor, capacity=room) if changed else mentor)
        else:
            full_mentors.append(mentor)
    return Pool(
        free_mentees,
        tuple(open_mentors),
        tuple(pairs),
        tuple(full_mentors),
        tuple(withdrawn),
        tuple(sorted(ineligible.items())),
    )


def _unique(people: Sequence[Mentee] | Sequence[Mentor], role: str) -> dict:
    by_id = {p.id: p for p in people}
    if len(by_id) != len(people):
        raise ValueError(f"duplicate {role} ids")
    return by_id


def keep_previous_pairs(
    previous: Sequence[tuple[str, str]],
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    opted_out: Collection[str],
    rules: Rules | None = None,
) -> list[tuple[str, str]]:
    """Pins for last cycle's pairs that can carry on: both re-enrolled and active, still acceptable
    under the hard rules, neither opted out, and within the mentor's capacity (first come first)."""
    rules = rules or Rules()
    mentee_by_id = {m.id: m for m in mentees}
    mentor_by_id = {m.id: m for m in mentors}
    load: dict[str, int] = {}
    kept: list[tuple[str, str]] = []
    seen_mentees: set[str] = set()
    for mentee_id, mentor_id in previous:
        mentee = mentee_by_id.get(mentee_id)
        mentor = mentor_by_id.get(mentor_id)
        if (
            mentee is None
            or mentor is None
            or mentee_id in opted_out
            or mentor_id in opted_out
            or mentee_id in seen_mentees
            or not acceptable(mentee, mentor, rules)
            or load.get(mentor_id, 0) >= mentor.capacity
        ):
            continue
        load[mentor_id] = load.get(mentor_id, 0) + 1
        seen_mentees.add(mentee_id)
        kept.append((mentee_id, mentor_id))
    return kept

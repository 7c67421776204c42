"""Stable-matching instances of several shapes, and a bare deferred acceptance to time against.

A consortium's pools differ: some mentors are far more popular than others, some mentees rank
one or two mentors, mentors offer one place or ten, some mentors turn certain requesters down,
and often there are too few places. Each shape stresses a different part of the engine (the
proposals, the mentors' orders, the explanations of those left out), so the benchmark times them
all rather than one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from services.pairing.engine import Mentee, Mentor

INTERESTS = ["trauma", "research", "global surgery", "wellness", "education", "transplant",
             "vascular", "paediatric surgery", "leadership", "oncology", "cardiac", "critical care",
             "simulation", "quality improvement", "advocacy", "endocrine"]  # fmt: skip
LANGUAGES = ["en", "es", "fr", "ar", "zh", "hi"]
SLOTS = [f"{d}-{p}" for d in ("mon", "tue", "wed", "thu", "fri") for p in ("am", "pm", "eve")]
MODES = ["in_person", "virtual", "either"]
MENTEE_LEVELS = [7, 8]  # PGY1, PGY2
MENTOR_LEVELS = [10, 11, 10, 20]  # PGY4, PGY5, research resident, faculty


@dataclass(frozen=True)
class Shape:
    name: str
    mentees: int
    mentors: int
    per_institution: int = 200  # mentors per institution
    popularity: float | None = None  # Pareto alpha of mentor popularity; None: uniform
    list_length: tuple[int, int] = (10, 10)  # each mentee ranks between these many mentors
    capacities: tuple[int, ...] = (3,)  # drawn uniformly per mentor
    mentor_ranks_share: float = 1.0  # share of those who ranked a mentor the mentor ranks back
    rejecting: float = 0.0  # share of mentors declaring conflicts with some who ranked them
    too_junior: float = 0.0  # share of mentors too junior for every mentee (level gap)


SHAPES = {
    s.name: s
    for s in (
        Shape("uniform", 5_000, 2_000),
        Shape("skewed", 20_000, 8_000, popularity=1.1),
        Shape("short_lists", 20_000, 8_000, popularity=1.5, list_length=(1, 3)),
        Shape("many_unmatched", 20_000, 2_000, capacities=(1, 2), list_length=(3, 6)),
        Shape("varied_capacity", 20_000, 8_000, popularity=1.5, capacities=(1, 1, 2, 3, 5, 10)),
        Shape(
            "rejecting",
            20_000,
            8_000,
            popularity=1.5,
            rejecting=0.3,
            too_junior=0.1,
            mentor_ranks_share=0.5,
        ),
        Shape(
            "mixed",
            20_000,
            8_000,
            popularity=1.1,
            list_length=(1, 6),
            capacities=(1, 1, 1, 2, 4),
            mentor_ranks_share=0.3,
            rejecting=0.2,
            too_junior=0.1,
        ),
    )
}


def shaped_instance(shape: Shape, seed: int) -> tuple[list[Mentee], list[Mentor]]:
    """Institutions of `per_institution` mentors and their share of mentees; mentees rank
    mentors of their own institution, popular ones more often; each mentor ranks, in random
    order, a share of the mentees who ranked them (the rest they order by score)."""
    rng = random.Random(seed)
    institutions = max(1, shape.mentors // shape.per_institution)
    mentor_ids = [f"r{j:05d}" for j in range(shape.mentors)]
    local: list[list[int]] = [[] for _ in range(institutions)]
    for j in range(shape.mentors):
        local[j % institutions].append(j)
    alpha = shape.popularity
    popularity = [rng.paretovariate(alpha) if alpha else 1.0 for _ in mentor_ids]
    ranked_by: list[list[str]] = [[] for _ in mentor_ids]
    mentees = []
    for i in range(shape.mentees):
        inst = i % institutions
        choices = local[inst]
        wanted = min(rng.randint(*shape.list_length), len(choices))
        picks = rng.choices(choices, [popularity[j] for j in choices], k=4 * wanted + 8)
        ranking = list(dict.fromkeys(picks))[:wanted]
        mentee_id = f"e{i:05d}"
        for j in ranking:
            ranked_by[j].append(mentee_id)
        mentees.append(
            Mentee(
                id=mentee_id,
                institution_id=f"inst{inst}",
                level_rank=rng.choice(MENTEE_LEVELS),
                interests=frozenset(rng.sample(INTERESTS, 3)),
                goals_keywords=frozenset(rng.sample(INTERESTS, 2)),
                languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
                meeting_mode=rng.choice(MODES),
                availability=frozenset(rng.sample(SLOTS, 4)),
                ranking=tuple(mentor_ids[j] for j in ranking),
                identity_preferences={"gender": "woman"} if rng.random() < 0.2 else None,
            )
        )
    mentors = []
    for j, mentor_id in enumerate(mentor_ids):
        proposers = ranked_by[j]
        rng.shuffle(proposers)
        conflicts: frozenset[str] = frozenset()
        if proposers and rng.random() < shape.rejecting:
            conflicts = frozenset(rng.sample(proposers, max(1, len(proposers) // 3)))
        kept = [p for p in proposers if p not in conflicts]
        level = 8 if rng.random() < shape.too_junior else rng.choice(MENTOR_LEVELS)
        mentors.append(
            Mentor(
                id=mentor_id,
                institution_id=f"inst{j % institutions}",
                level_rank=level,
                interests=frozenset(rng.sample(INTERESTS, 4)),
                languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
                meeting_mode=rng.choice(MODES),
                availability=frozenset(rng.sample(SLOTS, 5)),
                capacity=rng.choice(shape.capacities),
                ranking=tuple(kept[: round(len(kept) * shape.mentor_ranks_share)]),
                identity={"gender": rng.choice(["woman", "man", "nonbinary"])},
                conflicts=conflicts,
            )
        )
    return mentees, mentors


def bare_deferred_acceptance(
    mentee_prefs: dict[str, list[str]],
    mentor_prefs: dict[str, list[str]],
    capacities: dict[str, int],
) -> set[tuple[str, str]]:
    """Textbook mentee-proposing deferred acceptance on complete preference lists, in plain
    Python: the floor any implementation pays for the proposals themselves."""
    rank = {r: {e: k for k, e in enumerate(listed)} for r, listed in mentor_prefs.items()}
    held: dict[str, list[tuple[int, str]]] = {r: [] for r in mentor_prefs}
    worst: dict[str, tuple[int, str] | None] = dict.fromkeys(mentor_prefs)
    nxt = dict.fromkeys(mentee_prefs, 0)
    free = list(reversed(mentee_prefs))
    while free:
        e = free.pop()
        listed = mentee_prefs[e]
        k = nxt[e]
        while k < len(listed):
            r = listed[k]
            k += 1
            key = (rank[r][e], e)
            holding = held[r]
            if worst[r] is None:
                holding.append(key)
                if len(holding) == capacities[r]:
                    worst[r] = max(holding)
                break
            if key < worst[r]:
                holding.remove(worst[r])
                free.append(worst[r][1])
                holding.append(key)
                worst[r] = max(holding)
                break
        nxt[e] = k
    return {(e, r) for r, holding in held.items() for _, e in holding}


ROSTER_MENTEE_LEVELS = [7, 8, 4]  # PGY1, PGY2, MS4
ROSTER_MENTOR_LEVELS = [10, 11, 10, 20]  # PGY4, PGY5, research resident, faculty
WORDS = [f"word{k}" for k in range(300)]


def roster_pool(
    people: int, seed: int, *, profiles: bool = False
) -> tuple[list[Mentee], list[Mentor]]:
    """A cycle's pool as a roster import leaves it: one institution, one mentor for every three
    people (capacity 1 to 3), three interests each and no rankings. With `profiles`, people have
    also filled in their matching profile (goals in words, languages, availability, meeting
    mode, identity) and half the mentees ranked three mentors."""
    rng = random.Random(seed)
    mentees: list[Mentee] = []
    mentors: list[Mentor] = []
    for n in range(people):
        person = {
            "id": f"p{n:05d}",
            "institution_id": "inst0",
            "interests": frozenset(rng.sample(INTERESTS[:10], 3)),
        }
        if profiles:
            person |= {
                "languages": frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
                "meeting_mode": rng.choice(MODES),
                "availability": frozenset(rng.sample(SLOTS, 4)),
            }
        if n % 3 == 0:
            if profiles:
                person["identity"] = {"gender": rng.choice(["woman", "man", "nonbinary"])}
            mentors.append(
                Mentor(
                    level_rank=rng.choice(ROSTER_MENTOR_LEVELS),
                    capacity=rng.randint(1, 3),
                    **person,
                )
            )
            continue
        if profiles:
            words = rng.sample(WORDS, 8) + rng.sample(INTERESTS, 1)
            person["goals_keywords"] = frozenset(words)
            if rng.random() < 0.2:
                person["identity_preferences"] = {"gender": "woman"}
            if mentors and rng.random() < 0.5:
                person["ranking"] = tuple(m.id for m in rng.sample(mentors, min(3, len(mentors))))
        mentees.append(Mentee(level_rank=rng.choice(ROSTER_MENTEE_LEVELS), **person))
    return mentees, mentors

"""Mentoring families: one senior resident (PGY4/5), one mid-level resident (PGY3 or research
resident) and up to k juniors (PGY1/PGY2) who meet as a family. A composition fixes the levels of
each member and splits the juniors into slots (e.g. one intern and one PGY2 per family).

Every junior must be acceptable to both the senior and the mid under the hard rules; a family's
score is the sum over its juniors of their scores with both. Given the (senior, mid) cores, the
juniors' placement is an exact assignment; the cores are enumerated on tiny cycles and otherwise
chosen by an assignment on how many juniors both could take, then improved by swapping mids
between families until the time limit.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Sequence

import numpy as np

from .model import Composition, Family, Mentee, Mentor, Pair, Result, Rules, level_refusal
from .optimal import best_assignment
from .pins import PinError
from .rules import acceptable, score, total_score

# Exhaustive over cores while the number of ways to pair seniors with mids stays below this.
EXHAUSTIVE_CORES = 5_000

NO_PARTNER = "no compatible senior or mid-level partner (institution or conflicts)"
NO_JUNIOR = "no junior fits this family"
NO_FAMILY = "no family whose senior and mid-level are both eligible"
FAMILIES_FULL = "all eligible families full"
WITHDRAWN = "withdrawn"

Core = tuple[int, int]  # (senior index, mid index)


def _compatible(senior: Mentor, mid: Mentor, rules: Rules) -> bool:
    return (
        senior.id != mid.id
        and (rules.cross_institution or senior.institution_id == mid.institution_id)
        and senior.id not in mid.conflicts
        and mid.id not in senior.conflicts
    )


class _Instance:
    def __init__(
        self,
        seniors: list[Mentor],
        mids: list[Mentor],
        juniors: list[Mentee],
        rules: Rules,
        per_family: int,
        junior_pins: dict[str, str],
        slots: tuple[tuple[frozenset[str] | None, int], ...] = (),
    ) -> None:
        self.seniors, self.mids, self.juniors = seniors, mids, juniors
        self.rules = rules
        self.per_family = per_family
        # Junior slots (levels, or None for any; seats per family); one open slot by default.
        self.slots = slots or ((None, per_family),)
        self.slots_of = [
            [k for k, (levels, _) in enumerate(self.slots)
             if levels is None or j.training_level in levels]
            for j in juniors
        ]  # fmt: skip
        self.junior_pins = junior_pins  # junior id -> the senior or mid they must stay with
        weights = rules.weight_vector()
        # Each junior's score with every acceptable senior and mid, computed once.
        self.with_senior = [
            {s: total_score(j, seniors[s], weights) for s in range(len(seniors))
             if acceptable(j, seniors[s], rules)}
            for j in juniors
        ]  # fmt: skip
        self.with_mid = [
            {d: total_score(j, mids[d], weights) for d in range(len(mids))
             if acceptable(j, mids[d], rules)}
            for j in juniors
        ]  # fmt: skip

    def slot_seats(self, core: Core) -> list[int]:
        """Seats per junior slot: each slot's count, while the senior and the mid have room."""
        s, d = core
        room = min(self.per_family, self.seniors[s].capacity, self.mids[d].capacity)
        seats = []
        for _, count in self.slots:
            seats.append(min(count, room))
            room -= seats[-1]
        return seats

    def seats(self, core: Core) -> int:
        return sum(self.slot_seats(core))

    def place_juniors(self, cores: Sequence[Core]) -> tuple[float, list[int]]:
        """Exact best placement of juniors into the given cores: (total score, core per junior)."""
        rows, cols, gains = [], [], []
        width = len(self.slots)  # a column per (core, slot)
        for i, junior in enumerate(self.juniors):
            pinned_to = self.junior_pins.get(junior.id)
            for c, (s, d) in enumerate(cores):
                if s in self.with_senior[i] and d in self.with_mid[i]:
                    if pinned_to is not None and pinned_to not in (
                        self.seniors[s].id,
                        self.mids[d].id,
                    ):
                        continue
                    for k in self.slots_of[i]:
                        rows.append(i)
                        cols.append(c * width + k)
                        gains.append(self.with_senior[i][s] + self.with_mid[i][d])
        if not rows:
            return 0.0, [-1] * len(self.juniors)
        gain = np.array(gains)
        pinned_rows = np.array([self.juniors[i].id in self.junior_pins for i in rows])
        # Pinned juniors are placed before any score counts.
        pin_bonus = float(np.abs(gain).sum()) + 1.0
        taken = best_assignment(
            len(self.juniors),
            np.array([n for c in cores for n in self.slot_seats(c)], dtype=np.int64),
            np.array(rows, dtype=np.int64),
            np.array(cols, dtype=np.int64),
            gain + pin_bonus * pinned_rows,
        )
        choice = [col // width if col >= 0 else -1 for col in taken.tolist()]
        total = 0.0
        for i, c in enumerate(choice):
            if c >= 0:
                s, d = cores[c]
                total += self.with_senior[i][s] + self.with_mid[i][d]
        return total, choice


def families(
    seniors: Sequence[Mentor],
    mids: Sequence[Mentor],
    juniors: Sequence[Mentee],
    rules: Rules | None = None,
    *,
    juniors_per_family: int = 4,
    time_limit_s: float = 2.0,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
    composition: Composition | None = None,
) -> Result:
    """Pins are (mid id, senior id) for a core that must stay together, or (junior id, senior or
    mid id) for a junior who must stay in that person's family. Result.families lists the
    families; Result.pairs holds each junior's pair with their senior and with their mid. With a
    composition, its junior slots replace `juniors_per_family` and people whose level fits no
    place in a family are left out, with the rule that says so."""
    if juniors_per_family < 1:
        raise ValueError("juniors_per_family must be at least 1")
    rules = rules or Rules()
    deadline = time.monotonic() + time_limit_s
    unmatched: dict[str, str] = {}
    for people, role, levels in _places(seniors, mids, juniors, composition):
        for person in people:
            if person.id in excluded:
                continue
            if person.withdrawn:
                unmatched[person.id] = WITHDRAWN
            elif levels is not None and person.training_level not in levels:
                unmatched[person.id] = level_refusal(person.training_level, role)
            elif refusal := rules.level_refusal(person):
                unmatched[person.id] = refusal

    def active(people):
        return sorted((p for p in people if p.id not in unmatched and p.id not in excluded),
                      key=lambda p: p.id)  # fmt: skip

    s_list, d_list, j_list = active(seniors), active(mids), active(juniors)
    s_index = {p.id: k for k, p in enumerate(s_list)}
    d_index = {p.id: k for k, p in enumerate(d_list)}
    fixed_cores: list[Core] = []
    junior_pins: dict[str, str] = {}
    junior_ids = {p.id for p in j_list}
    for a, b in pinned:
        if a in d_index and b in s_index:
            core = (s_index[b], d_index[a])
            if not _compatible(s_list[core[0]], d_list[core[1]], rules):
                raise PinError(f"pinned family core ({a}, {b}) breaks a hard rule")
            if any(core[0] == c[0] or core[1] == c[1] for c in fixed_cores):
                raise PinError(f"pinned family core ({a}, {b}) reuses a senior or mid")
            fixed_cores.append(core)
        elif a in junior_ids and (b in s_index or b in d_index):
            if a in junior_pins:
                raise PinError(f"junior {a} is pinned twice")
            junior_pins[a] = b
        else:
            raise PinError(f"pin ({a}, {b}) names someone not enrolled in a matching role")

    slots: tuple[tuple[frozenset[str] | None, int], ...] = ()
    if composition is not None:
        slots = composition.junior_slots
        juniors_per_family = composition.per_family
    inst = _Instance(s_list, d_list, j_list, rules, juniors_per_family, junior_pins, slots)
    cores, choice = _best_cores(inst, fixed_cores, deadline)
    for junior_id, mentor_id in junior_pins.items():
        i = next(k for k, p in enumerate(j_list) if p.id == junior_id)
        c = choice[i]
        if c < 0 or mentor_id not in (s_list[cores[c][0]].id, d_list[cores[c][1]].id):
            raise PinError(f"pin ({junior_id}, {mentor_id}) cannot be kept in any family")

    members: list[list[int]] = [[] for _ in cores]
    for i, c in enumerate(choice):
        if c >= 0:
            members[c].append(i)
    result_families, pairs = [], []
    in_family: set[int] = set()
    for c, (s, d) in enumerate(cores):
        if not members[c] and (s, d) not in fixed_cores:
            continue
        senior, mid = s_list[s], d_list[d]
        in_family.update((s, len(s_list) + d))
        total = 0.0
        for i in members[c]:
            junior = j_list[i]
            for mentor in (senior, mid):
                pair = Pair(junior.id, mentor.id, score(junior, mentor, rules),
                            pinned=junior_pins.get(junior.id) == mentor.id)  # fmt: skip
                pairs.append(pair)
                total += pair.score.total
        ids = tuple(j_list[i].id for i in members[c])
        result_families.append(Family(senior.id, mid.id, ids, total))

    placed = {i for i, c in enumerate(choice) if c >= 0}
    open_cores = [c for c, core in enumerate(cores) if len(members[c]) < inst.seats(core)]
    for i, junior in enumerate(j_list):
        if i in placed:
            continue
        fits = [c for c, (s, d) in enumerate(cores)
                if s in inst.with_senior[i] and d in inst.with_mid[i]]  # fmt: skip
        unmatched[junior.id] = (
            FAMILIES_FULL if fits and not set(fits) & set(open_cores) else (NO_FAMILY)
        )
    for k, person in enumerate((*s_list, *d_list)):
        if k not in in_family:
            partnered = any(c[0] == k for c in cores) or any(c[1] == k - len(s_list) for c in cores)
            unmatched[person.id] = NO_JUNIOR if partnered else NO_PARTNER
    return Result(pairs, unmatched, families=result_families)


def _places(
    seniors: Sequence[Mentor],
    mids: Sequence[Mentor],
    juniors: Sequence[Mentee],
    composition: Composition | None,
) -> list[tuple[Sequence[Mentee] | Sequence[Mentor], str, frozenset[str] | None]]:
    """Each place in a family: its people, its name and the levels the composition allows."""
    if composition is None:
        return [(seniors, "senior", None), (mids, "mid-level", None), (juniors, "junior", None)]
    junior_levels = frozenset().union(*(levels for levels, _ in composition.junior_slots))
    return [
        (seniors, "senior", composition.senior_levels),
        (mids, "mid-level", composition.mid_levels),
        (juniors, "junior", junior_levels),
    ]


def _all_core_sets(inst: _Instance, fixed: list[Core]) -> list[list[Core]] | None:
    """Every maximal way to pair the free seniors with free mids, or None if too many."""
    free_s = [s for s in range(len(inst.seniors)) if all(c[0] != s for c in fixed)]
    free_d = [d for d in range(len(inst.mids)) if all(c[1] != d for c in fixed)]
    size = min(len(free_s), len(free_d))
    count = 1
    for k in range(size):
        count *= max(len(free_s), len(free_d)) - k
        if count > EXHAUSTIVE_CORES:
            return None
    out = []
    if len(free_s) <= len(free_d):
        for ds in itertools.permutations(free_d, size):
            cores = [(s, d) for s, d in zip(free_s, ds, strict=True)]
            out.append([*fixed, *(c for c in cores if _compatible(
                inst.seniors[c[0]], inst.mids[c[1]], inst.rules))])  # fmt: skip
    else:
        for ss in itertools.permutations(free_s, size):
            cores = [(s, d) for s, d in zip(ss, free_d, strict=True)]
            out.append([*fixed, *(c for c in cores if _compatible(
                inst.seniors[c[0]], inst.mids[c[1]], inst.rules))])  # fmt: skip
    return out


def _best_cores(
    inst: _Instance, fixed: list[Core], deadline: float
) -> tuple[list[Core], list[int]]:
    candidates = _all_core_sets(inst, fixed)
    if candidates is not None:
        best: tuple[float, int, list[Core], list[int]] | None = None
        for cores in candidates:
            total, choice = inst.place_juniors(cores)
            placed = sum(1 for c in choice if c >= 0)
            if best is None or (total, placed) > (best[0] + 1e-9, best[1]):
                best = (total, placed, cores, choice)
        assert best is not None
        return best[2], best[3]

    cores = _initial_cores(inst, fixed)
    total, choice = inst.place_juniors(cores)
    # Swap mids between two families (or with an unused mid) while that raises the total.
    free_mids = [d for d in range(len(inst.mids)) if all(c[1] != d for c in cores)]
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for a in range(len(cores)):
            if cores[a] in fixed:
                continue
            options = [("swap", b) for b in range(len(cores)) if b != a and cores[b] not in fixed]
            options += [("free", d) for d in free_mids]
            for kind, other in options:
                if time.monotonic() >= deadline:
                    return cores, choice
                trial = list(cores)
                if kind == "swap":
                    (sa, da), (sb, db) = cores[a], cores[other]
                    trial[a], trial[other] = (sa, db), (sb, da)
                else:
                    trial[a] = (cores[a][0], other)
                if not all(
                    _compatible(inst.seniors[s], inst.mids[d], inst.rules) for s, d in trial
                ):
                    continue
                new_total, new_choice = inst.place_juniors(trial)
                if new_total > total + 1e-9:
                    if kind == "free":
                        free_mids.remove(other)
                        free_mids.append(cores[a][1])
                    cores, total, choice = trial, new_total, new_choice
                    improved = True
                    break
            if improved:
                break
    return cores, choice


def _initial_cores(inst: _Instance, fixed: list[Core]) -> list[Core]:
    """Pair free seniors with free mids to maximise the juniors both could take."""
    used_s = {c[0] for c in fixed}
    used_d = {c[1] for c in fixed}
    rows, cols, gains = [], [], []
    for s, senior in enumerate(inst.seniors):
        if s in used_s:
            continue
        for d, mid in enumerate(inst.mids):
            if d in used_d or not _compatible(senior, mid, inst.rules):
                continue
            shared = sum(
                1 for i in range(len(inst.juniors))
                if s in inst.with_senior[i] and d in inst.with_mid[i]
            )  # fmt: skip
            if shared:
                rows.append(s)
                cols.append(d)
                gains.append(float(min(shared, inst.seats((s, d)))))
    if not rows:
        return list(fixed)
    taken = best_assignment(
        len(inst.seniors),
        np.ones(len(inst.mids), dtype=np.int64),
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(gains),
    )
    return [*fixed, *((s, int(d)) for s, d in enumerate(taken.tolist()) if d >= 0)]

"""A program coordinator in the browser: their program only, and no action they may not take."""

from __future__ import annotations

import pytest
from live import seed_program, seed_program_coordinator, seed_second_program

from support import wait_until

pytestmark = [pytest.mark.kafka]


def test_a_program_coordinator_sees_and_acts_on_their_program_only(live_suite):
    live = live_suite
    first = seed_program(live, mentors=1, mentees=1, wait_for_pairing=False)
    inst = first.institution["id"]
    second, other_cycle = seed_second_program(live, inst)
    second_program = second["id"]
    me = seed_program_coordinator(live, inst, first.program["id"])
    web = live.browser_session(me["email"])

    programs = web.get("/coordinator/programs").text
    assert first.program["name"] in programs and "Open a new cycle of" in programs
    assert "Lab resident coaching" not in programs
    assert "Create a program" not in programs  # institution coordinators create programs

    assert web.get(f"/coordinator/cycles/{first.cycle_id}").status_code == 200
    assert web.get(f"/coordinator/cycles/{other_cycle['id']}").status_code == 403
    home = web.get("/home").text
    assert "Audit trail" in home  # their program's part of the trail

    # The trail: their program's entries only, never the other program's.
    opened = wait_until(
        lambda: (
            (p := web.get("/coordinator/audit?event_type=CycleOpened"))
            and first.cycle_id[:8] in p.text
            and p
        )
    )
    assert other_cycle["id"][:8] not in opened.text
    assert "Tamper check" not in opened.text  # a store spans the institution: not theirs
    assert web.get(f"/coordinator/audit?program={second_program}").status_code == 403
    exported = web.get("/coordinator/audit.csv")
    assert exported.status_code == 200 and first.cycle_id in exported.text
    assert other_cycle["id"] not in exported.text

    institution_coordinator = live.browser_session(first.coordinator["email"])
    everything = institution_coordinator.get("/coordinator/programs").text
    assert "Lab resident coaching" in everything and "Create a program" in everything
    assert "Audit trail" in institution_coordinator.get("/home").text

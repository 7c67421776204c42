"""A member's rematch request reaches the program's coordinators as a concern would, over real
SMTP: once each (the event delivered twice), never a member of the pair, and saying nothing of who
asked or why. SQLite and PostgreSQL, with the fixtures of test_notifications_notices."""

from __future__ import annotations

import test_notifications_notices as notices

from services.eventkit.contracts import pairing
from services.notifications.service import SERVICE
from support import deliver

world, smtp, staff = notices.world, notices.smtp, notices.staff  # the fixtures
REASON = "We have not met since March and he ignores my messages."


def test_a_rematch_request_reaches_the_coordinators_once_and_says_nothing_of_it(world, staff, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, staff.events)
    pair = notices.pair_created(world)
    deliver(SERVICE, world.rt, [pair], topic=notices.PAIRING)
    asked = notices.envelope(world, pairing.registry, "RematchRequested", f"cycle-{world.cycle['id']}", {
        "pair_id": pair.payload["pair_id"], "cycle_id": world.cycle["id"],
        "person_id": world.people["mentee"]["id"], "reason": REASON,
    })  # fmt: skip
    deliver(SERVICE, world.rt, [asked, asked], topic=notices.PAIRING)
    notices.send(world, smtp)

    # The mentor coordinates the institution too, but is in the pair: never told.
    assert notices.received(smtp, world, "rematch") == {"coordinator": 1, "program_coordinator": 1}
    [mail] = smtp.mailbox.to(notices.address(world, "coordinator"))
    text, html = notices.body(mail)
    assert "asks for a rematch" in mail["Subject"]
    assert "/coordinator/concerns" in text
    assert REASON not in text + html and "Sam Mentee" not in text + html

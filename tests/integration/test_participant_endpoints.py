"""What a participant's own pages read: their enrollments with cycle and program, the card of
someone in their cycle (enrollment), and how to reach their pair (notifications)."""

from __future__ import annotations

import test_notifications_delivery as base

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
from services.notifications.service import SERVICE
from support import auth_headers, deliver

world = base.world  # a mentor and a mentee enrolled in one cycle; notifications beside them


def _as(world, key: str, role: str = MENTEE) -> dict[str, str]:
    return auth_headers(
        Grant(role, world.institution["id"], world.program["id"]), user=world.people[key]["id"]
    )


def test_a_person_reads_their_own_enrollments_with_cycle_and_program(world, client):
    mentee = world.people["mentee"]

    found = client.get(f"/api/people/{mentee['id']}/enrollments", headers=_as(world, "mentee"))

    assert found.status_code == 200, found.json
    [enrollment] = found.json
    assert enrollment["role"] == "mentee"
    assert enrollment["cycle_name"] == "2026-27"
    assert enrollment["program_name"] == "Resident Peer Mentoring"
    assert enrollment["meeting_expectations"] == "Meet at least once a month."
    assert enrollment["guidelines"] == base.GUIDELINES
    assert enrollment["guidelines_version"] == 1
    assert enrollment["cycle_open"] is True


def test_someone_else_cannot_read_a_persons_enrollments(world, client):
    mentee = world.people["mentee"]
    path = f"/api/people/{mentee['id']}/enrollments"

    assert client.get(path, headers=_as(world, "mentor", MENTOR)).status_code == 403
    coordinator = auth_headers(Grant(COORDINATOR, world.institution["id"]), user="c-1")
    assert client.get(path, headers=coordinator).status_code == 200


def test_the_card_shows_pronouns_to_people_of_the_same_cycle_only(world, client, admin):
    mentor = world.people["mentor"]
    patched = client.patch(
        f"/api/people/{mentor['id']}", json={"pronouns": "she/her"}, headers=admin
    )
    assert patched.status_code == 200

    card = client.get(f"/api/people/{mentor['id']}/card", headers=_as(world, "mentee"))
    assert card.status_code == 200
    assert card.json["pronouns"] == "she/her" and card.json["name"] == "Dana Mentor"
    assert "email" not in card.json

    outsider = auth_headers(Grant(MENTEE, world.institution["id"]), user="someone-else")
    assert client.get(f"/api/people/{mentor['id']}/card", headers=outsider).status_code == 403


def test_pair_contacts_give_the_partners_address_to_members_only(world):
    deliver(SERVICE, world.rt, world.events)
    pair = base.pair_created(world)
    deliver(SERVICE, world.rt, [pair], topic="tandem.pairing.v1")
    mentee, mentor = world.people["mentee"], world.people["mentor"]

    mine = world.api.get(
        f"/api/people/{mentee['id']}/pair-contacts", headers=world.headers["mentee"]
    )

    assert mine.status_code == 200, mine.json
    assert mine.json == [
        {
            "pair_id": pair.payload["pair_id"],
            "person_id": mentor["id"],
            "name": "Dana Mentor",
            "email": "mentor@northwind.example",
        }
    ]
    theirs = world.api.get(
        f"/api/people/{mentee['id']}/pair-contacts", headers=world.headers["mentor"]
    )
    assert theirs.status_code == 403

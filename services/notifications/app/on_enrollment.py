"""Notices about enrollment's events: a participant enrolled, a coordinator appointed."""

from __future__ import annotations

from services.eventkit import Envelope
from services.eventkit.personal import ERASED, erased_email

from ..readmodels import concern_routing as concerns
from ..readmodels import directory, invitations
from ..readmodels.tables import deliveries, notifications
from .notices import Cause, queue, web_link
from .unit_of_work import UnitOfWork
from .waiting import Reactions, notifying, program_of, ready

reactions = Reactions()


@reactions.on("ParticipantEnrolled")
@notifying
def _enrolled(uow: UnitOfWork, e: Envelope) -> None:
    """Told at once, unless the coordinator chose when (then the inviter sends it: see
    app.invitations)."""
    p = e.payload
    if p.get("invitation"):
        invitations.enrolled(uow.conn, e)
        return
    invite(uow, e, p["program_id"], p["person_id"], p["role"])
    invitations.enrolled(uow.conn, e, invited_at=uow.clock())


@reactions.on("InvitationScheduled")
def _invitation_scheduled(uow: UnitOfWork, e: Envelope) -> None:
    invitations.rescheduled(uow.conn, e)


def invite(
    uow: UnitOfWork, cause: Envelope | Cause, program_id: str, person_id: str, role: str
) -> bool:
    """The "you are enrolled" notice, once per enrollment (NotReady until the person and the
    program are known)."""
    program = program_of(uow, program_id)
    ready(uow, person_id)
    context = {"program": program, "role": "a mentor" if role == "mentor" else "a mentee"}
    key = f"{cause.event_id}/{person_id}/enrolled"
    return queue(uow, cause, person_id, "enrolled", context, key=key)


@reactions.on("PersonErased")
def _person_erased(uow: UnitOfWork, e: Envelope) -> None:
    """What the person was told, and where, reads as a rebuild would show it with their key
    gone (NotificationQueued seals these fields under the recipient's key)."""
    person_id = e.payload["person_id"]
    directory.directory.apply(uow.conn, e)
    uow.conn.execute(
        notifications.update()
        .where(notifications.c.recipient_id == person_id)
        .values(subject=ERASED, body=ERASED)
    )
    uow.conn.execute(
        deliveries.update()
        .where(deliveries.c.recipient_id == person_id)
        .values(
            to_address=erased_email(person_id), subject=ERASED, text_body=ERASED, html_body=ERASED
        )
    )


@reactions.on("RoleGranted")
def _role_granted(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    if directory.grant_role(uow.conn, e) and p["role"] == "coordinator" and p.get("institution_id"):
        _tell_new_coordinator(uow, e)


def _tell_new_coordinator(uow: UnitOfWork, e: Envelope) -> None:
    """A new coordinator hears of the open concerns they now handle (those not about them), each
    once: the notice has the id it would have had if they had been told when it was raised."""
    p = e.payload
    for concern in concerns.still_open(uow.conn, p["institution_id"], p.get("program_id")):
        if p["person_id"] in concerns.involved(concern):
            continue
        raised = concern.raised_event_id or concern.id
        context = {"link": web_link(f"/coordinator/concerns/{concern.id}")}
        key = f"{raised}/{p['person_id']}/concern_raised"
        queue(uow, e, p["person_id"], "concern_raised", context, key=key)

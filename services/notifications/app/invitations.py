"""Sending an invitation that is due: the "you are enrolled" notice, queued in the transaction
that marks the invitation sent, so it is sent once however often the inviter runs."""

from __future__ import annotations

import datetime as dt

from ..readmodels import invitations
from .notices import Cause
from .on_enrollment import invite
from .unit_of_work import UnitOfWork

# An invitation whose person or program is not known yet is tried again this much later.
NOT_READY_DELAY = dt.timedelta(minutes=1)


def send(uow: UnitOfWork, enrollment_id: str) -> int:
    """Queue the invitation if still due; 1 if queued now. NotReady (nothing written) while the
    person or the program is not known yet."""
    row = invitations.take(uow.conn, enrollment_id, uow.clock())
    if row is None:
        return 0
    cause = Cause(row.enrolled_event_id, row.correlation_id, row.institution_id)
    return int(invite(uow, cause, row.program_id, row.person_id, row.role))

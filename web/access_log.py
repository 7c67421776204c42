"""Accesses only the web sees, kept in the consortium audit trail: sign-ins, failed sign-ins and
password links issued. The web records each with enrollment as the system
(POST /api/access-events), which seals it in its store like every event; an email that names
nobody is kept there only as a keyed hash. Recording never stands in a person's way: a failure
is logged and the request goes on."""

from __future__ import annotations

import logging

from .client import Client, ServiceError

log = logging.getLogger(__name__)

SIGN_IN, SIGN_IN_FAILED, PASSWORD_LINK = "sign_in", "sign_in_failed", "password_link"
OPERATION = "operation"  # the consortium admin repaired the pipeline (the operations page)
TIMEOUT_S = 2.0


def record(
    client: Client,
    kind: str,
    *,
    person_id: str | None = None,
    email: str | None = None,
    method: str | None = None,
    what: str | None = None,
) -> None:
    body = {"kind": kind, "person_id": person_id, "email": email, "method": method, "what": what}
    try:
        reply = client.request(
            "enrollment",
            "POST",
            "/api/access-events",
            json={k: v for k, v in body.items() if v is not None},
            token=client.system_token(),
            timeout_s=TIMEOUT_S,
        )
    except ServiceError as exc:
        log.warning("an access (%s) could not be recorded: %s", kind, exc)
        return
    if reply.status != 201:
        log.warning("an access (%s) was not recorded: HTTP %s", kind, reply.status)

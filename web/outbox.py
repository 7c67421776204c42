"""Messages the web sends. For now they go into the web's own `outbox` table, which the
development page /dev/outbox shows; the notifications service will take over sending them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from services.eventkit.db import reading

from . import db
from .accounts import SET, utcnow

SUBJECTS = {
    SET: "Set your Tandem password",
    "reset": "Reset your Tandem password",
}
BODIES = {
    SET: (
        "You have been given a Tandem account. Choose your password here:\n\n{url}\n\n"
        "The link works once, within 72 hours."
    ),
    "reset": (
        "Someone asked to reset the password of your Tandem account. If it was you, choose a "
        "new password here:\n\n{url}\n\nThe link works once, within 1 hour. If it was not you, "
        "ignore this message: your password stays as it is."
    ),
}


@dataclasses.dataclass(frozen=True)
class Message:
    id: int
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime


class Outbox:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def send_link(self, email: str, url: str, purpose: str = "reset") -> None:
        """Hand a one-time link to the person (today: the local outbox)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(db.outbox).values(
                    recipient=email,
                    subject=SUBJECTS[purpose],
                    body=BODIES[purpose].format(url=url),
                    created_at=utcnow(),
                )
            )

    def messages(self, limit: int = 50) -> list[Message]:
        o = db.outbox
        with reading(self.engine) as conn:
            rows = conn.execute(sa.select(o).order_by(o.c.id.desc()).limit(limit)).all()
        return [Message(r.id, r.recipient, r.subject, r.body, r.created_at) for r in rows]

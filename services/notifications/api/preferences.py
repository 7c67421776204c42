"""How each kind of notification reaches a person."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import request_meta, runtime

from ..app import inbox
from ..app.unit_of_work import UnitOfWork
from ..domain import messages
from ..domain.notification import channel_for
from ..readmodels.tables import preferences
from .access import person
from .schemas import PreferencesIn, PreferencesOut

blp = Blueprint("preferences", __name__, url_prefix="/api", description="Notification preferences")


def _answer(person_id: str, channels: dict[str, str]) -> dict:
    return {
        "person_id": person_id,
        "preferences": channels,
        "mandatory": sorted(messages.MANDATORY),
    }


@blp.route("/people/<person_id>/notification-preferences", methods=["GET"])
@guard("person.preferences", person)
@blp.response(200, PreferencesOut)
def get_preferences(person_id):
    """How each kind reaches the person: the person themself, or the consortium admin."""
    p = preferences
    with runtime().reading() as conn:
        chosen = dict(
            conn.execute(sa.select(p.c.kind, p.c.channel).where(p.c.person_id == person_id)).all()
        )
    return _answer(
        person_id, {kind: channel_for(kind, chosen.get(kind)) for kind in messages.KINDS}
    )


@blp.route("/people/<person_id>/notification-preferences", methods=["PUT"])
@guard("person.inbox", person)
@blp.arguments(PreferencesIn)
@blp.response(200, PreferencesOut)
def put_preferences(data, person_id):
    """Choose email, in_app, digest (daily) or weekly per kind (only the kinds given change).
    Mandatory notices are always emailed: choosing anything else for them is refused."""
    rt = runtime()
    with rt.engine.begin() as conn:
        uow = UnitOfWork(conn, rt.store)
        channels = inbox.choose_channels(uow, person_id, data["preferences"], request_meta(None))
    return _answer(person_id, channels)

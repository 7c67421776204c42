"""Erasing a person's personal data (the consortium admin only; the erasure is audited)."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from services.eventkit.access import authorize, consortium, guard
from services.eventkit.erasure import erase_person
from services.eventkit.http import request_meta, runtime

from .. import readmodels as rm
from ..domain.person import Person
from .access import row

blp = Blueprint("erasure", __name__, url_prefix="/api", description="Erasure of a person")


class ErasureOut(ma.Schema):
    person_id = ma.fields.String()
    event_id = ma.fields.String(allow_none=True)
    already_erased = ma.fields.Boolean()
    key_destroyed = ma.fields.Boolean()


@blp.route("/people/<person_id>/erasure", methods=["POST"])
@guard("person.erase")
@blp.response(200, ErasureOut)
def erase(person_id):
    """Erase the person: their key is destroyed, so their name, email, pronouns, profile text
    and self-identification read as "erased person" everywhere, while every event, hash chain
    and count stays. Recorded as `PersonErased` (who erased whom) in the audit trail."""
    authorize(consortium())
    rt = runtime()
    with rt.reading() as conn:
        person = row(conn, rm.people, person_id, "person")
    meta = request_meta(person["institution_id"])
    return erase_person(rt, Person.stream_id_for(person_id), person_id, meta).as_dict()

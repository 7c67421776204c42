"""Notifications' HTTP API: the in-app inbox, preferences, delivery status, the local outbox, and
one-time password links for the web to send."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
import sqlalchemy as sa
from flask import abort
from flask_smorest import Blueprint

from services.eventkit import NewEvent, rls
from services.eventkit.access import authorize, consortium, guard, people
from services.eventkit.contracts.notifications import CHANNELS
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource

from . import messages
from . import readmodels as rm

blp = Blueprint("notifications", __name__, url_prefix="/api", description="Notifications")


class NotificationOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    subject = ma.fields.String()
    body = ma.fields.String()
    created_at = ma.fields.String()
    read = ma.fields.Boolean()


class PreferencesIn(ma.Schema):
    preferences = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)

    @ma.validates_schema
    def _allowed(self, data, **kwargs) -> None:
        errors: dict[str, list[str]] = {}
        for kind, channel in data["preferences"].items():
            if kind not in messages.KINDS:
                errors[kind] = [f"Unknown notification kind; one of {', '.join(messages.KINDS)}."]
            elif channel not in CHANNELS:
                errors[kind] = [f"Must be one of {', '.join(CHANNELS)}."]
            elif kind in messages.MANDATORY and channel != rm.EMAIL:
                errors[kind] = ["This notice is mandatory: it is always sent by email."]
        if errors:
            raise ma.ValidationError({"preferences": errors})


class PreferencesOut(ma.Schema):
    person_id = ma.fields.String()
    preferences = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    mandatory = ma.fields.List(ma.fields.String())


class UtcDateTime(ma.fields.DateTime):
    """Timestamps are stored in UTC, but SQLite returns them without an offset: say it is UTC."""

    def _serialize(self, value: dt.datetime | None, attr, obj, **kwargs):
        if value is not None:
            value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
            value = value.astimezone(dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DeliveryOut(ma.Schema):
    notification_id = ma.fields.String()
    channel = ma.fields.String()
    recipient_id = ma.fields.String()
    kind = ma.fields.String()
    to_address = ma.fields.String()
    state = ma.fields.String()
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    next_attempt_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)


class DeliveryQuery(ma.Schema):
    state = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf([rm.QUEUED, rm.SENT, rm.KEPT, rm.FAILED])
    )


class LocalMailOut(ma.Schema):
    id = ma.fields.String()
    recipient_id = ma.fields.String()
    to_address = ma.fields.String()
    subject = ma.fields.String()
    text_body = ma.fields.String()
    html_body = ma.fields.String()
    kept_at = UtcDateTime()


def _institution_of(person_id: str) -> str | None:
    """Read whatever the caller's row-level security scope: the policy decides on it."""
    r = rm.recipients
    with rls.routing(runtime()) as conn:
        return conn.execute(sa.select(r.c.institution_id).where(r.c.id == person_id)).scalar()


def person(person_id: str) -> Resource:
    """The person, at their institution once this service has heard of them."""
    return Resource(_institution_of(person_id), people=people(person_id))


def institution(institution_id: str) -> Resource:
    return Resource(institution_id)


@blp.route("/people/<person_id>/notifications", methods=["GET"])
@guard("person.inbox", person)
@blp.response(200, NotificationOut(many=True))
def inbox(person_id):
    """A person's in-app notifications, newest first: visible to that person only."""
    n = rm.notifications
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(n).where(n.c.recipient_id == person_id).order_by(n.c.created_at.desc())
            )
            .mappings()
            .all()
        )


@blp.route("/people/<person_id>/notifications/<notification_id>/read", methods=["POST"])
@guard("person.inbox", person)
@blp.response(200, NotificationOut)
def mark_read(person_id, notification_id):
    """Mark one of your notifications read (again is harmless)."""
    n = rm.notifications
    rt = runtime()
    with rt.engine.begin() as conn:
        mine = (n.c.id == notification_id) & (n.c.recipient_id == person_id)
        row = conn.execute(sa.select(n).where(mine)).first()
        if row is None:
            abort(404, description="No such notification.")
        if not row.read:
            rt.store.append(
                conn,
                f"notification-{notification_id}",
                [
                    NewEvent(
                        "NotificationRead",
                        {"notification_id": notification_id, "recipient_id": person_id},
                    )
                ],
                expected_version=None,
                meta=request_meta(None),
            )
        return conn.execute(sa.select(n).where(mine)).mappings().one()


def _preferences(person_id: str) -> dict:
    p = rm.preferences
    with runtime().reading() as conn:
        chosen = dict(
            conn.execute(sa.select(p.c.kind, p.c.channel).where(p.c.person_id == person_id)).all()
        )
    return {
        "person_id": person_id,
        "preferences": {
            kind: rm.EMAIL if kind in messages.MANDATORY else chosen.get(kind, rm.EMAIL)
            for kind in messages.KINDS
        },
        "mandatory": sorted(messages.MANDATORY),
    }


@blp.route("/people/<person_id>/notification-preferences", methods=["GET"])
@guard("person.preferences", person)
@blp.response(200, PreferencesOut)
def get_preferences(person_id):
    """How each kind reaches the person: the person themself, or the consortium admin."""
    return _preferences(person_id)


@blp.route("/people/<person_id>/notification-preferences", methods=["PUT"])
@guard("person.inbox", person)
@blp.arguments(PreferencesIn)
@blp.response(200, PreferencesOut)
def put_preferences(data, person_id):
    """Choose email, in_app, digest (daily) or weekly per kind (only the kinds given change).
    Mandatory notices are always emailed: choosing anything else for them is refused."""
    current = _preferences(person_id)["preferences"]
    changed = {k: v for k, v in data["preferences"].items() if current.get(k) != v}
    if changed:
        rt = runtime()
        with rt.engine.begin() as conn:
            rt.store.append(
                conn,
                f"preferences-{person_id}",
                [
                    NewEvent(
                        "NotificationPreferencesSet",
                        {"person_id": person_id, "preferences": changed},
                    )
                ],
                expected_version=None,
                meta=request_meta(None),
            )
    return _preferences(person_id)


@blp.route("/institutions/<institution_id>/deliveries", methods=["GET"])
@guard("institution.deliveries", institution)
@blp.arguments(DeliveryQuery, location="query")
@blp.response(200, DeliveryOut(many=True))
def deliveries(query, institution_id):
    """Mail to the institution's people and how it went (`?state=failed` for what never arrived):
    for its coordinators and the consortium admin."""
    d = rm.deliveries
    select = sa.select(d).where(d.c.institution_id == institution_id)
    if query["state"]:
        select = select.where(d.c.state == query["state"])
    with runtime().reading() as conn:
        return conn.execute(select.order_by(d.c.created_at.desc()).limit(500)).mappings().all()


@blp.route("/local-mail", methods=["GET"])
@guard("consortium.operate", consortium)
@blp.response(200, LocalMailOut(many=True))
def local_outbox():
    """Mail kept locally because no SMTP server is configured, newest first: consortium admin."""
    m = rm.local_mail
    with runtime().reading() as conn:
        return conn.execute(sa.select(m).order_by(m.c.kept_at.desc()).limit(500)).mappings().all()


class ContactOut(ma.Schema):
    pair_id = ma.fields.String()
    person_id = ma.fields.String()
    name = ma.fields.String()
    email = ma.fields.String()


@blp.route("/people/<person_id>/pair-contacts", methods=["GET"])
@guard("person.contacts", person)
@blp.response(200, ContactOut(many=True))
def pair_contacts(person_id):
    """How to reach the people you share a pair or coaching group with (the addresses the
    pairing notice gave you): for that person only."""
    mine = sa.select(rm.pair_members.c.pair_id).where(rm.pair_members.c.person_id == person_id)
    m, r = rm.pair_members, rm.recipients
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(m.c.pair_id, m.c.person_id, r.c.name, r.c.email)
                .join(r, r.c.id == m.c.person_id)
                .where(m.c.pair_id.in_(mine), m.c.person_id != person_id)
                .order_by(m.c.pair_id, r.c.name)
            )
            .mappings()
            .all()
        )


class AccountLinkIn(ma.Schema):
    kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(sorted(messages.ACCOUNT_LINKS))
    )
    url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    email = ma.fields.Email(required=True)
    # Who the person is, as the web read it from enrollment: used when this service has not
    # yet heard of the person (someone registered moments ago).
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    institution_id = ma.fields.String(load_default=None, allow_none=True)
    valid_hours = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=1, max=24 * 30)
    )


class AccountLinkOut(ma.Schema):
    notification_id = ma.fields.String()
    state = ma.fields.String()


DEFAULT_VALID_HOURS = {"set": 72, "reset": 1}


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


@blp.route("/people/<person_id>/account-links", methods=["POST"])
@guard("person.account_link")
@blp.arguments(AccountLinkIn)
@blp.response(202, AccountLinkOut)
def account_link(data, person_id):
    """Email a one-time set-password or reset link (mandatory, email only): the web only, as the
    system. The link is kept in the email being sent, never in an event."""
    # A scoped system token sends links only to people of its own institution.
    authorize(
        Resource(_institution_of(person_id) or data["institution_id"], people=people(person_id))
    )
    hours = data["valid_hours"] or DEFAULT_VALID_HOURS[data["kind"]]
    rt = runtime()
    with rt.engine.begin() as conn:
        notification_id = rm.queue_account_link(
            conn,
            rt.store,
            person_id,
            data["kind"],
            data["url"],
            data["email"],
            _hours(hours),
            data["name"],
            data["institution_id"],
            request_meta(None),
        )
    return {"notification_id": notification_id, "state": rm.QUEUED}

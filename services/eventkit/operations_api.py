"""The consortium admin's operations endpoints of every service: its parked outbox rows and the
messages its consumer dead-lettered, each with its error (ids only, never a payload), and the
two repairs: queue a parked row again, send a dead-lettered message again."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask_smorest import Blueprint, abort
from kafka.errors import KafkaConnectionError, KafkaError

from . import config, dead_letters, rls
from .access import consortium, guard
from .broker import port_open
from .context import principal, runtime
from .inputs import INT64_MAX
from .operations import parked_rows, retry_parked
from .service import Service

log = logging.getLogger(__name__)
REF_MAX = 300


class ParkedOut(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.String()
    stream_id = ma.fields.String()
    bytes = ma.fields.Integer()
    attempts = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)
    parked_at = ma.fields.String()


class DeadLetterOut(ma.Schema):
    ref = ma.fields.String()
    consumer = ma.fields.String(allow_none=True)
    source = ma.fields.String()
    event_type = ma.fields.String(allow_none=True)
    event_id = ma.fields.String(allow_none=True)
    stream_id = ma.fields.String()
    attempts = ma.fields.Integer()
    failed_at = ma.fields.String(allow_none=True)
    error = ma.fields.String()


class OperationsOut(ma.Schema):
    service = ma.fields.String()
    parked = ma.fields.List(ma.fields.Nested(ParkedOut))
    dead_letters = ma.fields.List(ma.fields.Nested(DeadLetterOut))
    broker = ma.fields.Boolean(
        metadata={"description": "false: the dead letters could not be read"}
    )


class RedriveIn(ma.Schema):
    ref = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=REF_MAX))


class RetryIn(ma.Schema):
    row_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=INT64_MAX))


class DoneOut(ma.Schema):
    done = ma.fields.String()


def _dead_letters(service: Service) -> list[dead_letters.DeadLetter]:
    """What this service's consumer gave up on (a topic's dead letters come from each of its
    consumers; the others' are theirs to handle)."""
    topics = [config.dlq_topic(t) for t in service.subscriptions]
    if not topics:
        return []
    host, _, port = config.bootstrap_servers().split(",")[0].rpartition(":")
    if not port_open(host or "127.0.0.1", int(port)):  # refused at once, not after retries
        raise KafkaConnectionError("the broker refuses connections")
    letters = dead_letters.read(config.bootstrap_servers(), topics, idle_s=1.0)
    return [d for d in letters if d.headers.get("consumer") in (None, "", service.name)]


def operations_blueprint(service: Service) -> Blueprint:
    blp = Blueprint("operations", __name__, url_prefix="/api", description="Operations")

    @blp.route("/operations", methods=["GET"])
    @guard("consortium.operate", consortium)
    @blp.response(200, OperationsOut)
    def overview():
        """Parked outbox rows and dead-lettered messages, each with its error."""
        with rls.scoped(rls.UNRESTRICTED):  # the outbox is seen only unrestricted
            parked = parked_rows(runtime())
        try:
            letters, broker = [d.summary() for d in _dead_letters(service)], True
        except KafkaError as exc:  # the broker away: the rest of the page still helps
            log.warning("dead letters not readable: %r", exc)
            letters, broker = [], False
        return {
            "service": service.name,
            "parked": parked,
            "dead_letters": letters,
            "broker": broker,
        }

    @blp.route("/operations/redrive", methods=["POST"])
    @guard("consortium.operate", consortium)
    @blp.arguments(RedriveIn)
    @blp.response(200, DoneOut)
    def redrive(data):
        """Send a dead-lettered message again to the topic it came from."""
        try:
            found = dead_letters.find(_dead_letters(service), data["ref"])
        except ValueError:
            found = None
        except KafkaError:
            abort(409, message="The broker is not answering; nothing was sent. Try again later.")
        if found is None:
            abort(404, message="No such dead-lettered message of this service.")
        dead_letters.redrive(config.bootstrap_servers(), [found])
        log.info("%s re-drove %s", principal().user_id, found.ref)
        return {"done": found.ref}

    @blp.route("/operations/retry", methods=["POST"])
    @guard("consortium.operate", consortium)
    @blp.arguments(RetryIn)
    @blp.response(200, DoneOut)
    def retry(data):
        """Queue a parked outbox row again; the relay tries it next."""
        with rls.scoped(rls.UNRESTRICTED):
            count = retry_parked(runtime(), [data["row_id"]])
        if not count:
            abort(404, message="No such parked row.")
        log.info("%s queued parked row %d again", principal().user_id, data["row_id"])
        return {"done": str(data["row_id"])}

    return blp

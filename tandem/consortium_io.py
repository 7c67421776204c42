"""`tandem export-consortium` and `tandem import-consortium`: move a consortium to another
deployment through its event stores.

The export is one gzip'd JSON-lines file: a header, then every service's events exactly as
stored (personal fields still sealed, each with its hash and its predecessor's), then the data
key of each person they name (erased people as tombstones). The import, into a deployment whose
stores hold no event yet, checks every stream's hash chain, puts the keys in its keyring
wrapped under its own key-encryption key, appends each service's events in their order sealed
under its own audit key, rebuilds the service's read models from them and queues them for its
relay, so the other services' read models fill as their workers consume the topics. Web
sign-ins are not events: people set a password again with a link (`tandem web account`).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from services.eventkit import config, keyring, operations, rls
from services.eventkit.envelope import Envelope
from services.eventkit.hashchain import verify_events
from services.eventkit.personal import subject
from services.eventkit.seal import sealed
from services.eventkit.service import Runtime
from services.eventkit.store import row_to_envelope

from .progress import Progress

FORMAT = "tandem-consortium"
VERSION = 1
BATCH = 500


class MoveError(Exception):
    """What stops an export or an import, said to the operator as is."""


def _runtimes(load_service) -> dict[str, Runtime]:
    return {name: Runtime(load_service(name)) for name in config.SERVICES}


def _count(rt: Runtime) -> int:
    events = rt.service.tables.events
    with rt.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()


def export(path: Path, load_service) -> dict:
    """Write the export file; returns its header."""
    if path.exists():
        raise MoveError(f"{path} already exists; name a new file")
    runtimes = _runtimes(load_service)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    counts = {name: 0 for name in runtimes}
    people: set[str] = set()
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds data keys
    with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        with Progress("export", sum(_count(rt) for rt in runtimes.values())) as bar:
            for name, rt in runtimes.items():
                registry = rt.service.reading_registry()
                for event in _stored(rt):
                    if person := _subject(registry, event):
                        people.add(person)
                    out.write(json.dumps({"service": name, "event": event.to_dict()}) + "\n")
                    counts[name] += 1
                    bar.advance()
        for line in _keys(sorted(people)):
            out.write(json.dumps(line) + "\n")
        trailer = {"events": counts, "people": len(people)}
        out.write(json.dumps({"end": trailer}) + "\n")  # what a whole file holds
    tmp.replace(path)
    return {**header, **trailer}


def _stored(rt: Runtime) -> Iterator[Envelope]:
    """The store's events as stored, in store order (each stream in version order)."""
    events = rt.service.tables.events
    with rt.reading() as conn:
        for row in conn.execute(sa.select(events).order_by(events.c.position)):
            yield row_to_envelope(row)


def _subject(registry, event: Envelope) -> str | None:
    """Whose data key the event's sealed fields need, if any."""
    if not registry.knows(event.event_type):
        return None
    return subject(registry.get(event.event_type).personal, event.payload)


def _keys(person_ids: list[str]) -> Iterator[dict]:
    ring = keyring.default()
    for person_id in person_ids:
        key, erased = ring.state(person_id)
        if erased:
            yield {"person": person_id, "erased": True}
        elif key is not None:
            yield {"person": person_id, "key": base64.b64encode(key).decode()}


def import_(path: Path, load_service) -> dict:
    """Append an export into this deployment's empty stores; returns what was imported."""
    header, events, keys = _read(path)
    runtimes = _runtimes(load_service)
    full = [name for name, rt in runtimes.items() if _count(rt)]
    if full:
        raise MoveError(
            f"these stores already hold events: {full}; import into an empty deployment"
        )
    for name, stream in events.items():
        report = verify_events(stream)
        if not report.ok:
            raise MoveError(f"{name}: the export's hash chain breaks at {report.first_break}")
    _put_keys(keys)
    done = {}
    with Progress("import", sum(len(e) for e in events.values())) as bar:
        for name, rt in runtimes.items():
            done[name] = _append(rt, events.get(name, []), bar)
    for name, rt in runtimes.items():
        with Progress(f"{name} rebuild", done[name]) as bar:
            operations.rebuild_own(rt, bar.update)
    return {"imported": done, "people": len(keys), "created_at": header["created_at"]}


def _read(path: Path) -> tuple[dict, dict[str, list[Envelope]], list[dict]]:
    if not path.is_file():
        raise MoveError(f"{path}: no such file")
    events: dict[str, list[Envelope]] = {name: [] for name in config.SERVICES}
    keys: list[dict] = []
    trailer: dict = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            header = json.loads(next(lines, "{}"))
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise MoveError(f"{path}: not a {FORMAT} version {VERSION} file")
            for line in lines:
                item = json.loads(line)
                if "event" in item:
                    if item["service"] not in events:
                        raise MoveError(f"{path}: events of an unknown service {item['service']}")
                    events[item["service"]].append(Envelope.from_dict(item["event"]))
                elif "end" in item:
                    trailer = item["end"]
                else:
                    keys.append(item)
    except (OSError, EOFError, ValueError) as exc:
        raise MoveError(f"{path}: not readable as an export ({exc})") from exc
    found = {n: len(e) for n, e in events.items()}
    if not trailer or found != trailer["events"] or len(keys) > trailer["people"]:
        raise MoveError(f"{path}: the file is cut short: found {found}, its end says {trailer}")
    return header, events, keys


def _put_keys(keys: list[dict]) -> None:
    """The people's data keys, wrapped under this keyring's own key-encryption key."""
    adopted = {k["person"]: None if k.get("erased") else base64.b64decode(k["key"]) for k in keys}
    try:
        keyring.default().adopt(adopted, by="import-consortium")
    except sa.exc.IntegrityError as exc:
        raise MoveError(
            "the keyring already holds keys of these people; import into an empty deployment"
        ) from exc


def _append(rt: Runtime, events: list[Envelope], bar: Progress) -> int:
    """The events appended as they were (ids, versions, hashes), numbered on and sealed under
    this store's audit key, and queued for the relay, in one transaction."""
    with rt.engine.begin() as conn, rls.unrestricted(conn):
        head = rt.store.seal_head(conn)
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            seals = list(sealed(config.audit_key(), head, (e.hash for e in batch)))
            conn.execute(
                rt.service.tables.events.insert(),
                [
                    {**e.to_dict(), "seq": seq, "seal": seal}
                    for e, (seq, seal) in zip(batch, seals, strict=True)
                ],
            )
            rt.store.enqueue(conn, batch)
            head = seals[-1]
            bar.advance(len(batch))
    return len(events)

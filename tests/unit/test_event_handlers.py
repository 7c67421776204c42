"""A handler for an event type no contract declares fails at start-up, with the type it likely
meant; an event type without its upcasters fails when it is registered."""

from __future__ import annotations

import marshmallow as ma
import pytest
import sqlalchemy as sa

from services.eventkit import Aggregate, Projection, Registry, Service, define_kit_tables
from services.eventkit.catalogue import UnknownEventHandler, contract_registries, declared
from services.eventkit.contracts import enrollment


def service_with(projections=(), consumers=()) -> Service:
    metadata = sa.MetaData()
    return Service(
        name="demo",
        metadata=metadata,
        tables=define_kit_tables(metadata),
        registry=Registry(),
        projections=projections,
        consumers=consumers,
        contracts=[enrollment.registry],
    )


def test_every_contract_module_is_found() -> None:
    assert set(contract_registries()) >= {"enrollment", "pairing", "feedback", "notifications"}
    assert {"PersonRegistered", "ConcernRaised"} <= declared()


def test_a_consumer_of_a_misspelt_event_type_fails_at_start_up() -> None:
    people = Projection("people", tables=[], sources=["enrollment"])
    people.on("PersonRegistred")(lambda conn, event: None)
    with pytest.raises(UnknownEventHandler) as info:
        service_with(consumers=[people])
    message = str(info.value)
    assert "demo: consumer 'people' handles 'PersonRegistred'" in message
    assert "did you mean 'PersonRegistered'?" in message


def test_a_consumer_of_declared_types_starts() -> None:
    people = Projection("people", tables=[], sources=["enrollment"])
    people.on("PersonRegistered", "CycleOpened")(lambda conn, event: None)
    assert service_with(consumers=[people]).consumers == [people]


def test_an_own_read_model_handles_only_the_service_s_own_events() -> None:
    # Applied inline to the own store: another service's event would never reach it.
    own = Projection("own", tables=[])
    own.on("PersonRegistered")(lambda conn, event: None)
    with pytest.raises(UnknownEventHandler, match="demo: projection 'own'"):
        service_with(projections=[own])


def test_an_aggregate_with_a_misspelt_fold_fails_when_defined() -> None:
    with pytest.raises(UnknownEventHandler) as info:

        class Person(Aggregate):
            def when_person_registred(self, payload: dict) -> None:
                pass

    assert "Person.when_person_registred" in str(info.value)
    assert "did you mean 'when_person_registered'?" in str(info.value)


class Thing(ma.Schema):
    label = ma.fields.String()


def test_a_new_version_needs_an_upcaster_from_every_older_one() -> None:
    registry = Registry()
    with pytest.raises(ValueError, match=r"versions \[1, 2\]; it has \[1\]"):
        registry.register("ThingHappened", Thing, version=3, upcasters={1: dict})
    registry.register("ThingHappened", Thing, version=3, upcasters={1: dict, 2: dict})

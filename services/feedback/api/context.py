"""What a route's use case runs on: a unit of work in the request's transaction, with the app's
clock (`create_app(clock=...)`) and the request's actor on every event it appends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from services.eventkit.envelope import utcnow
from services.eventkit.http import request_meta, runtime

from ..app.unit_of_work import Clock, UnitOfWork, unit_of_work


def clock() -> Clock:
    return current_app.extensions.get("feedback.clock", utcnow)


def today() -> dt.date:
    return clock()().date()


@contextmanager
def work() -> Iterator[UnitOfWork]:
    with unit_of_work(runtime(), clock(), request_meta) as uow:
        yield uow

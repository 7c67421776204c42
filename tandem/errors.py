"""What an operator's command says when the database or the broker is not there: one line
naming what failed and where, instead of a traceback."""

from __future__ import annotations

import sqlalchemy as sa
from kafka.errors import KafkaError

from services.eventkit import config

EXPECTED = (KafkaError, sa.exc.OperationalError, sa.exc.ProgrammingError)


def explain(exc: BaseException) -> str:
    if isinstance(exc, KafkaError):
        return (
            f"the broker at {config.bootstrap_servers()} does not answer "
            f"({type(exc).__name__}); is the suite or `tandem broker` running?"
        )
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if "no such table" in detail or "does not exist" in detail:
        return f"the database is not migrated ({detail}); run `tandem migrate`"
    return f"the database does not answer ({detail})"

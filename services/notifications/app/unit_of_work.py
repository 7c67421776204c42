"""One transaction of a use case (the event kit's unit of work)."""

from services.eventkit.unit_of_work import Clock, UnitOfWork

__all__ = ["Clock", "UnitOfWork"]

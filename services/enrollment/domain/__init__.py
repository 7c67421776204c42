"""Enrollment's aggregates and rules, pure Python (no Flask, no SQLAlchemy): institutions,
programs and their cycles (`directory`), people (`person`) and their staff roles (`roles`),
enrollments (`enrollment`) and their matching profile (`profile`), and the roster file
(`roster_file`, `roster_rows`). The aggregates are re-exported here for callers outside the
service (the launcher's erasure command); the service's own modules import the submodules."""

from .directory import Institution, Program
from .enrollment import Enrollment
from .person import Person

__all__ = ["Enrollment", "Institution", "Person", "Program"]

"""A cycle's eligible levels per role: read, preview and set (before the first run)."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.conditional import revalidate
from services.eventkit.http import request_meta, runtime
from services.eventkit.unit_of_work import UnitOfWork

from ..app import level_rules
from .access import cycle
from .schemas import LevelRulesIn, LevelRulesOut

blp = Blueprint(
    "level_rules", __name__, url_prefix="/api", description="Eligible training levels per role"
)


@blp.route("/cycles/<cycle_id>/level-rules", methods=["GET"])
@guard("cycle.roster", cycle)
@blp.etag
@blp.response(200, LevelRulesOut)
def get_level_rules(cycle_id):
    """The cycle's eligible levels (the level gap alone until set) and whom they leave out."""
    rt = runtime()
    with rt.reading() as conn:
        revalidate(blp, conn)
        return level_rules.level_rules_view(UnitOfWork(conn, rt.store), cycle_id)


@blp.route("/cycles/<cycle_id>/level-rules/preview", methods=["POST"])
@guard("cycle.roster", cycle)
@blp.arguments(LevelRulesIn)
@blp.response(200, LevelRulesOut)
def preview_level_rules(data, cycle_id):
    """Whom these levels would leave out and why, person by person; nothing is recorded."""
    rt = runtime()
    with rt.reading() as conn:
        return level_rules.level_rules_view(UnitOfWork(conn, rt.store), cycle_id, data)


@blp.route("/cycles/<cycle_id>/level-rules", methods=["PUT"])
@guard("cycle.manage", cycle)
@blp.arguments(LevelRulesIn)
@blp.response(200, LevelRulesOut)
def set_level_rules(data, cycle_id):
    """Set who may take each role in the cycle; refused once the cycle has been run."""
    rt = runtime()
    with rt.engine.begin() as conn:
        uow = UnitOfWork(conn, rt.store)
        level_rules.set_level_rules(uow, cycle_id, data, request_meta(None))
        return level_rules.level_rules_view(uow, cycle_id)

"""What a coordinator does following a concern, from its page: a note to file, ending the pair
(in pairing), or ending it for a rematch. Each is recorded on the concern (ConcernFollowedUp)
and shows on its timeline."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...calls import call
from ...identity import STAFF, roles_required
from ..blueprints import oversight as bp
from .concerns import ACTION_LABELS, ActionForm, _concern_page, _concern_unavailable

ENDS_THE_PAIR = {
    "pair_ended": "Ended following a concern",
    "rematch": "Rematch following a concern",
}
DONE = {
    "note": "The note is filed with the concern.",
    "pair_ended": "The pair is ended, and that is recorded with the concern.",
    "rematch": "The pair is ended for a rematch, and that is recorded with the concern. "
    "Pair the people again on the cycle's pairing page.",
}


@bp.post("/concerns/<concern_id>/actions")
@roles_required(*STAFF)
def concern_action(concern_id: str) -> ResponseReturnValue:
    form = ActionForm(request.form.get("action", ""), request.form.get("note", "").strip())
    if form.action not in ACTION_LABELS:
        form.error = "Choose what to do."
    elif form.action == "note" and not form.note:
        form.error = "Write the note to file."
    elif form.action in ENDS_THE_PAIR and not form.note:
        form.error = "Say why the pair ends: it is kept with the pair and the concern."
    if form.error:
        return _concern_page(concern_id, status=422, action=form)
    read = call("feedback", "GET", f"/api/concerns/{concern_id}")
    if read.status in (403, 404) or not read.ok:
        return _concern_unavailable()
    rel = read.body.get("relationship")
    if form.action in ENDS_THE_PAIR:
        if not rel or rel["kind"] != "pair":
            form.error = "Only a one-to-one pair can be ended here."
            return _concern_page(concern_id, status=422, action=form)
        reason = f"{ENDS_THE_PAIR[form.action]}: {form.note}"[:500]
        ended = call("pairing", "POST", f"/api/pairs/{rel['pair_id']}/end", json={"reason": reason})
        if not ended.ok:
            form.error = f"The pair was not ended: {ended.message}"
            return _concern_page(concern_id, status=ended.status, action=form)
    body = {"action": form.action, "note": form.note}
    reply = call("feedback", "POST", f"/api/concerns/{concern_id}/actions", json=body)
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        form.error = reply.form_errors().get("note") or reply.message
        return _concern_page(concern_id, status=reply.status, action=form)
    flash(DONE[form.action])
    return redirect(url_for("oversight.concern", concern_id=concern_id) + "#timeline", 303)

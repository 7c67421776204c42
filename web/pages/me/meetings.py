"""Logging meetings and confirming the ones others logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, request
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.feedback import MEETING_MODES

from ...calls import call, fetch_or
from ...identity import roles_required
from ...rendering import render
from ..blueprints import me as bp
from .labels import MODE_LABELS, PARTICIPANTS
from .meeting_request_view import requests_context
from .participation import Pair, back_to, find, my_pairs, refused, signed_in, split_list


def meeting_payload(form: Any, pair: Pair) -> dict:
    """The log-a-meeting form as the feedback service takes it (it checks every value)."""
    data: dict[str, Any] = {
        "date": form.get("date", "").strip(),
        "duration_minutes": form.get("duration_minutes", "").strip(),
        "mode": form.get("mode", ""),
        "topics": split_list(form.get("topics", "")),
        "notes": form.get("notes", "").strip(),
    }
    if form.getlist("objective_ids"):  # the objectives discussed, ticked
        data["objective_ids"] = form.getlist("objective_ids")
    if pair.kind != "pair":  # a group's or family's meeting is logged once, with who came
        data["attendees"] = form.getlist("attendees")
    return data


def meetings_page(
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict] | None = None,
    error: str = "",
    notices: dict[str, str] | None = None,
) -> ResponseReturnValue:
    me = signed_in()
    pairs = my_pairs()
    logs = {p.pair_id: fetch_or("feedback", f"/api/pairs/{p.pair_id}/meetings", []) for p in pairs}
    # The objectives a meeting may link (and the linked ones' titles), as the person may see them.
    plans = {
        p.pair_id: fetch_or("feedback", f"/api/pairs/{p.pair_id}/objectives", []) for p in pairs
    }
    names = {m.person_id: m.name for p in pairs for m in p.others}
    names[me.person_id] = "You"
    return render(
        "me/meetings.html",
        status=status,
        error=error,
        pairs=pairs,
        logs=logs,
        plans=plans,
        names=names,
        me=me.person_id,
        errors=errors or {},
        values=values or {},
        today=dt.date.today().isoformat(),
        modes=MEETING_MODES,
        mode_labels=MODE_LABELS,
        notices=notices or {},
        **requests_context(pairs),
    )


@bp.route("/meetings", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def meetings() -> ResponseReturnValue:
    if request.method == "GET":
        return meetings_page()
    pair = find(my_pairs(), "pair_id", request.form.get("pair_id"))
    data = meeting_payload(request.form, pair)
    reply = call("feedback", "POST", f"/api/pairs/{pair.pair_id}/meetings", json=data)
    if reply.ok:
        flash(
            f"Your meeting on {data['date']} is logged. {pair.names} will be asked to confirm it."
        )
        return back_to("me.meetings", f"pair-{pair.pair_id}")
    shown = {**data, "topics": ", ".join(data["topics"])}
    return meetings_page(422, {pair.pair_id: refused(reply)}, {pair.pair_id: shown})


@bp.post("/meetings/<meeting_id>/confirm")
@roles_required(*PARTICIPANTS)
def confirm_meeting(meeting_id: str) -> ResponseReturnValue:
    reply = call("feedback", "POST", f"/api/meetings/{meeting_id}/confirm")
    if reply.ok:
        flash(f"You confirmed the meeting on {reply.body['date']}.")
        return back_to("me.meetings", f"pair-{reply.body['pair_id']}")
    return meetings_page(422, error=refused(reply).get("_form") or reply.message)

"""Meetings on request, on the meetings page: ask for a meeting with times offered from both
availability grids (a group's coach asks the group), accept one of the times or decline with a
note, and reschedule or cancel what was set. With htmx a form swaps only its pair's section."""

from __future__ import annotations

from typing import Any

from flask import flash, request
from flask.typing import ResponseReturnValue

from ...calls import call
from ...identity import roles_required
from ...rendering import wants_fragment
from ..blueprints import me as bp
from .labels import PARTICIPANTS
from .meeting_request_view import meeting_time
from .meetings import meetings_page
from .participation import back_to, find, my_pairs, refused


def proposal(form: Any) -> dict[str, Any]:
    """The ask-for-a-meeting form as the feedback service takes it: the times ticked and any
    other time typed, local to the institution (the service checks every value)."""
    times = [t for t in form.getlist("options") if t]
    other = form.get("other_time", "").strip()
    if other:
        times.append(other)
    return {
        "options": times,
        "duration_minutes": form.get("duration_minutes", "").strip() or 60,
        "mode": form.get("mode", ""),
        "place": form.get("place", "").strip(),
        "note": form.get("note", "").strip(),
    }


def _done(pair_id: str, message: str) -> ResponseReturnValue:
    """After a change: the page again (htmx swaps the pair's section, and its status line says
    what happened), or a redirect to it."""
    if wants_fragment():
        return meetings_page(notices={pair_id: message})
    flash(message)
    return back_to("me.meetings", f"requests-{pair_id}")


def _again(key: str, reply: Any, values: dict | None = None) -> ResponseReturnValue:
    return meetings_page(422, {key: refused(reply)}, {key: values or {}})


@bp.post("/meetings/requests")
@roles_required(*PARTICIPANTS)
def ask_for_meeting() -> ResponseReturnValue:
    pair = find(my_pairs(), "pair_id", request.form.get("pair_id"))
    data = proposal(request.form)
    reply = call("feedback", "POST", f"/api/pairs/{pair.pair_id}/meeting-requests", json=data)
    if reply.ok:
        count = len(data["options"])
        return _done(
            pair.pair_id,
            f"Your request is sent with {count} time{'s' if count > 1 else ''}: "
            f"{pair.names} will be asked to choose one.",
        )
    shown = {**data, "other_time": request.form.get("other_time", "")}
    return _again(f"ask-{pair.pair_id}", reply, shown)


def _answer(request_id: str, action: str, body: dict | None = None) -> Any:
    return call("feedback", "POST", f"/api/meeting-requests/{request_id}/{action}", json=body)


@bp.post("/meetings/requests/<request_id>/accept")
@roles_required(*PARTICIPANTS)
def accept_meeting(request_id: str) -> ResponseReturnValue:
    reply = _answer(request_id, "accept", {"starts_at": request.form.get("starts_at", "")})
    if reply.ok:
        when = meeting_time(reply.body["starts_at"], reply.body["time_zone"])
        return _done(
            reply.body["pair_id"], f"The meeting is set for {when}. An invitation is on its way."
        )
    return _again(request_id, reply)


@bp.post("/meetings/requests/<request_id>/decline")
@roles_required(*PARTICIPANTS)
def decline_meeting(request_id: str) -> ResponseReturnValue:
    note = request.form.get("note", "").strip()
    reply = _answer(request_id, "decline", {"note": note})
    if reply.ok:
        return _done(reply.body["pair_id"], "You declined the request; they are told.")
    return _again(request_id, reply, {"note": note})


@bp.post("/meetings/requests/<request_id>/reschedule")
@roles_required(*PARTICIPANTS)
def reschedule_meeting(request_id: str) -> ResponseReturnValue:
    starts_at = request.form.get("starts_at", "").strip()
    reply = _answer(request_id, "reschedule", {"starts_at": starts_at})
    if reply.ok:
        when = meeting_time(reply.body["starts_at"], reply.body["time_zone"])
        return _done(reply.body["pair_id"], f"The meeting is moved to {when}; everyone is told.")
    return _again(request_id, reply, {"starts_at": starts_at})


@bp.post("/meetings/requests/<request_id>/cancel")
@roles_required(*PARTICIPANTS)
def cancel_meeting(request_id: str) -> ResponseReturnValue:
    reply = _answer(request_id, "cancel")
    if reply.ok:
        was_set = reply.body["answered_by"] is not None
        what = "meeting is cancelled" if was_set else "request is withdrawn"
        return _done(reply.body["pair_id"], f"The {what}; everyone is told.")
    return _again(request_id, reply)

"""The person's pairs, groups and families with everyone's contacts, mentee-choice requests, and
raising a concern privately."""

from __future__ import annotations

from flask import abort, flash, request
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.feedback import CONCERN_KINDS

from ...calls import call, fetch_or
from ...identity import roles_required
from ...rendering import render
from ..blueprints import me as bp
from .labels import (
    CONCERN_LABELS,
    MENTOR,
    PARTICIPANTS,
    REQUEST_LABELS,
    UNIT_KINDS,
    UNIT_TITLES,
)
from .participation import (
    active_enrollments,
    back_to,
    find,
    my_enrollments,
    my_pairs,
    refused,
    signed_in,
)


def choice_requests() -> list[dict]:
    """Mentee-choice requests the person sent or received, in their one-to-one cycles."""
    cycles = {e["cycle_id"] for e in active_enrollments() if e["pairing_format"] == "one_to_one"}
    found: list[dict] = []
    for cycle_id in sorted(cycles):
        found += fetch_or("pairing", f"/api/cycles/{cycle_id}/requests", [])
    found.sort(key=lambda r: (r["status"] != "pending", r["deadline"]))
    return found


@bp.get("/pair")
@roles_required(*PARTICIPANTS)
def pair() -> ResponseReturnValue:
    return _pair_page()


def _pair_page(
    status: int = 200,
    error: str = "",
    rematch_errors: dict[str, dict[str, str]] | None = None,
    rematch_values: dict[str, str] | None = None,
) -> ResponseReturnValue:
    me = signed_in().person_id
    pairs = my_pairs(with_contacts=True)
    # A rematch is asked of pairing, per pair, group or family: what the person asked shows.
    asked: dict[str, dict] = {}
    for p in {(p.cycle_id, p.kind) for p in pairs if p.active}:
        path = f"/api/cycles/{p[0]}/{'pairs' if p[1] == 'pair' else 'units'}"
        for published in fetch_or("pairing", path, []):
            if published.get("rematch_requested_by") == me:
                asked[published.get("pair_id") or published["unit_id"]] = published
    objectives = {
        p.pair_id: fetch_or("feedback", f"/api/pairs/{p.pair_id}/objectives", []) for p in pairs
    }
    requests_ = choice_requests()
    cycles = {e["cycle_id"]: e for e in my_enrollments()}
    return render(
        "me/pair.html",
        status=status,
        error=error,
        pairs=pairs,
        objectives=objectives,
        asked_of_me=[r for r in requests_ if r["mentor_id"] == me],
        asked_by_me=[r for r in requests_ if r["mentee_id"] == me],
        cycles=cycles,
        request_labels=REQUEST_LABELS,
        rematch_asked=asked,
        rematch_errors=rematch_errors or {},
        rematch_values=rematch_values or {},
        unit_titles=UNIT_TITLES,
        unit_kinds=UNIT_KINDS,
    )


@bp.post("/pair/<pair_id>/rematch")
@roles_required(*PARTICIPANTS)
def rematch(pair_id: str) -> ResponseReturnValue:
    """A member of an active pair, group or family asks their coordinators for another match."""
    find([p for p in my_pairs() if p.active], "pair_id", pair_id)
    reason = request.form.get("reason", "").strip()
    reply = call(
        "pairing", "POST", f"/api/pairs/{pair_id}/rematch-request", json={"reason": reason}
    )
    if reply.ok:
        flash(
            "Your coordinators are asked for a new match. Your pairing stays as it is until they "
            "change it; the person you are paired with is not told by Tandem."
        )
        return back_to("me.pair", f"rematch-{pair_id}")
    return _pair_page(422, "", {pair_id: refused(reply)}, {pair_id: reason})


@bp.post("/pair/requests/<request_id>/<answer>")
@roles_required(MENTOR)
def answer_request(request_id: str, answer: str) -> ResponseReturnValue:
    if answer not in ("accept", "decline"):
        abort(404)
    body = {"reason": request.form.get("reason", "").strip()} if answer == "decline" else None
    reply = call("pairing", "POST", f"/api/requests/{request_id}/{answer}", json=body)
    if reply.ok:
        name = reply.body.get("mentee_name") or "the mentee"
        flash(
            f"You accepted {name}'s request: you are now their mentor."
            if answer == "accept"
            else f"You declined {name}'s request. They will be offered their next choice."
        )
        return back_to("me.pair")
    return _pair_page(422, refused(reply).get("_form") or reply.message)


@bp.route("/concern", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def concern() -> ResponseReturnValue:
    pairs = my_pairs()
    errors: dict[str, str] = {}
    values: dict[str, str] = {"pair_id": pairs[0].pair_id if len(pairs) == 1 else ""}
    status = 200
    if request.method == "POST":
        values = {
            "pair_id": request.form.get("pair_id", ""),
            "about_id": request.form.get("about_id", ""),
            "kind": request.form.get("kind", ""),
            "text": request.form.get("text", "").strip(),
        }
        if not any(p.pair_id == values["pair_id"] for p in pairs):
            errors = {"pair_id": "Choose the pairing your concern is about."}
        else:
            body = {"kind": values["kind"], "text": values["text"]}
            if values["about_id"]:
                body["about_id"] = values["about_id"]
            reply = call("feedback", "POST", f"/api/pairs/{values['pair_id']}/concerns", json=body)
            if reply.ok:
                # Say that it arrived, never what it says: the text stays out of pages and cookies.
                flash(
                    "Your concern was sent privately to your program's coordinators. "
                    "The people in your pairing are not told. A coordinator will contact you."
                )
                return back_to("me.concern")
            errors = refused(reply)
        status = 422
    # Whom it may be about: anyone in the person's pairings, or themselves.
    about = {m.person_id: f"{m.name} ({m.role})" for p in pairs for m in p.others}
    return render(
        "me/concern.html",
        status=status,
        pairs=pairs,
        about_options=[*sorted(about.items(), key=lambda x: x[1]), (signed_in().person_id, "Me")],
        errors=errors,
        values=values,
        kinds=CONCERN_KINDS,
        kind_labels=CONCERN_LABELS,
    )

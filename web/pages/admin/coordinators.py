"""Consortium admin pages: appointing and revoking each institution's coordinators."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.auth import COORDINATOR
from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

from ... import client, outbox
from ...accounts import EMAIL_RE, SET, AccountError, Accounts
from ...calls import call, fetch, fetch_or, seg
from ...identity import ACCOUNTS_KEY
from ...rendering import render
from ..blueprints import admin as bp
from ..forms import FormState
from .institutions import all_institutions

# Levels a coordinator usually has, most senior first (of the contracts' training levels);
# the enrollment service checks the value.
STAFF_LEVELS = {
    level: level if level.startswith("PGY") else level.replace("_", " ").capitalize()
    for level in (
        "faculty",
        "fellow",
        "research_resident",
        *(level for level in TRAINING_LEVELS if level.startswith("PGY")),
    )
}


@bp.get("/coordinators")
def coordinators() -> ResponseReturnValue:
    chosen = request.args.get("institution", "")
    return _coordinators_page(form=FormState(values={"institution_id": chosen}))


def _coordinators_page(
    status: int = 200, form: FormState | None = None, problem: str = ""
) -> Response:
    listed = all_institutions()
    staff = fetch("enrollment", "/api/staff", {"role": COORDINATOR})
    by_institution: dict[str, list[dict]] = {i["id"]: [] for i in listed}
    for grant in staff:
        by_institution.setdefault(grant["institution_id"], []).append(grant)
    program_names: dict[str, str] = {}
    for institution_id in {g["institution_id"] for g in staff if g["program_id"]}:
        for program in fetch_or(
            "enrollment", f"/api/institutions/{seg(institution_id)}/programs", []
        ):
            program_names[program["id"]] = program["name"]
    return render(
        "admin/coordinators.html",
        status=status,
        institutions=listed,
        institution_options={i["id"]: f"{i['name']} ({i['short_code']})" for i in listed},
        by_institution=by_institution,
        program_names=program_names,
        form=form or FormState(),
        problem=problem,
        levels=STAFF_LEVELS,
    )


def _person_at(institution_id: str, email: str) -> dict | None:
    """The person of this institution with exactly this email, if there is one."""
    people = fetch(
        "enrollment", "/api/people", {"institution_id": institution_id, "q": email.lower()}
    )
    return next((p for p in people if p["email"].lower() == email.lower()), None)


@bp.post("/coordinators")
def grant_coordinator() -> ResponseReturnValue:
    keys = ("institution_id", "email", "name", "training_level")
    values = {k: request.form.get(k, "").strip() for k in keys}
    institutions = {i["id"]: i for i in all_institutions()}
    institution = institutions.get(values["institution_id"])
    errors: dict[str, str] = {}
    message = ""
    if institution is None:
        errors["institution_id"] = "Choose the institution they will coordinate."
    if not EMAIL_RE.match(values["email"]):
        errors["email"] = "Enter their email address, such as name@hospital.org."
    if not errors:
        assert institution is not None
        person = _person_at(institution["id"], values["email"])
        if person is None and not values["name"]:
            errors["name"] = (
                f"No one at {institution['name']} has this email yet. Enter their name to add "
                "them, or check the email."
            )
        elif person is None:
            reply = call(
                "enrollment",
                "POST",
                "/api/people",
                json={
                    "institution_id": institution["id"],
                    "name": values["name"],
                    "email": values["email"],
                    "training_level": values["training_level"] or "faculty",
                },
            )
            if reply.ok:
                person = reply.body
            else:
                errors = reply.form_errors()
                message = "" if errors else reply.message
        if person is not None:
            reply = call(
                "enrollment",
                "POST",
                f"/api/people/{seg(person['id'])}/roles",
                json={"role": COORDINATOR, "institution_id": institution["id"]},
            )
            if reply.ok:
                invited = _invite(person)
                flash(
                    f"{person['name']} now coordinates {institution['name']}."
                    + (" They were emailed a link to set their password." if invited else "")
                )
                return redirect(url_for(".coordinators") + f"#institution-{institution['id']}")
            errors = reply.form_errors()
            message = "" if errors else reply.message
    return _coordinators_page(422, form=FormState(values, errors, message))


def _invite(person: dict) -> bool:
    """Give a new coordinator a web sign-in: an account, and an email with a link to set its
    password (sent by the notifications service)."""
    accounts: Accounts = current_app.extensions[ACCOUNTS_KEY]
    account = accounts.get(person["id"])
    if account is not None and account.has_password:
        return False
    try:
        accounts.ensure(person["id"], person["email"])
    except AccountError:
        return False  # the email belongs to another account; the person can ask for a reset
    recipient = outbox.Recipient(
        person["id"], person["email"], person.get("name", ""), person.get("institution_id")
    )
    _link, not_sent = outbox.issue_and_send(client.current(), accounts, recipient, SET)
    return not_sent is None


@bp.post("/coordinators/<person_id>/revoke")
def revoke_coordinator(person_id: str) -> ResponseReturnValue:
    institution_id = request.form.get("institution_id", "")
    program_id = request.form.get("program_id", "") or None
    name = request.form.get("name", "") or "The person"
    reply = call(
        "enrollment",
        "POST",
        f"/api/people/{seg(person_id)}/roles/revoke",
        json={"role": COORDINATOR, "institution_id": institution_id, "program_id": program_id},
    )
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        return _coordinators_page(422, problem=reply.message)
    flash(f"{name} no longer coordinates there.")
    return redirect(url_for(".coordinators") + f"#institution-{institution_id}")

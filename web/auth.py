"""Sign-in, sign-out, password reset, the development outbox and the home page of each role."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from services.eventkit import config

from . import access_log, client, directory, identity, navigation, outbox, rendering
from .accounts import LOCK_FOR, RESET, SET, Account, AccountError, Accounts, Outcome
from .client import ServiceError
from .directory import Person
from .forms import ForgotForm, ResetForm, SignInForm
from .ratelimit import SlidingWindow

log = logging.getLogger(__name__)

LIMITS_KEY = "tandem.limits"

# Per client address, in each web process: failed sign-ins, and reset requests.
IP_FAILED_SIGN_INS = (50, 15 * 60)
IP_RESET_REQUESTS = (20, 15 * 60)

WRONG = (
    "That email and password do not match an account. Check them and try again, or reset "
    "your password."
)
LOCKED = (
    f"Too many failed sign-ins for this email. Try again in {int(LOCK_FOR.total_seconds() // 60)} "
    "minutes, or reset your password."
)
IP_LIMITED = "Too many failed sign-ins from your network. Wait a few minutes and try again."
UNAVAILABLE = "Signing in is not possible right now. Please try again in a minute."
RESET_SENT = (
    "If that address has a Tandem account, a link to reset the password is on its way. "
    "The link works once, within 1 hour."
)

bp = Blueprint("auth", __name__)


class Limits:
    def __init__(self) -> None:
        self.failed_sign_ins = SlidingWindow(*IP_FAILED_SIGN_INS)
        self.reset_requests = SlidingWindow(*IP_RESET_REQUESTS)


def init_app(app) -> None:
    app.extensions[LIMITS_KEY] = Limits()
    app.register_blueprint(bp)


def _accounts() -> Accounts:
    return current_app.extensions[identity.ACCOUNTS_KEY]


def _limits() -> Limits:
    return current_app.extensions[LIMITS_KEY]


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    next_url = identity.safe_next(request.values.get("next"))
    if request.method == "GET" and identity.current_user() is not None:
        return redirect(next_url)
    form = SignInForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return rendering.page("sign_in.html", status, form=form, next_url=next_url, error=None)
    address = request.remote_addr or "unknown"
    if _limits().failed_sign_ins.exceeded(address):
        return rendering.page("sign_in.html", 429, form=form, next_url=next_url, error=IP_LIMITED)
    result = _accounts().sign_in(form.email.data, form.password.data)
    if result.outcome in (Outcome.LOCKED, Outcome.WRONG):
        _limits().failed_sign_ins.add(address)
        access_log.record(
            client.current(), access_log.SIGN_IN_FAILED, email=form.email.data,
            method="locked" if result.outcome is Outcome.LOCKED else "password",
        )  # fmt: skip
        if result.outcome is Outcome.LOCKED:
            return rendering.page("sign_in.html", 429, form=form, next_url=next_url, error=LOCKED)
        return rendering.page("sign_in.html", 401, form=form, next_url=next_url, error=WRONG)
    assert result.person_id and result.email
    try:
        person = directory.person_by_email(client.current(), result.email)
        grants = directory.grants_of(client.current(), result.person_id)
    except ServiceError as exc:
        log.warning("sign-in could not reach enrollment: %s", exc)
        return rendering.page("sign_in.html", 503, form=form, next_url=next_url, error=UNAVAILABLE)
    if person is None or person.id != result.person_id or grants is None:
        # The account no longer matches anyone enrollment knows: no way in, same answer.
        log.warning("an account's person is unknown to enrollment; refusing sign-in")
        return rendering.page("sign_in.html", 401, form=form, next_url=next_url, error=WRONG)
    identity.start_session(person.id, person.name, result.email, grants)
    access_log.record(client.current(), access_log.SIGN_IN, person_id=person.id, method="password")
    return redirect(next_url)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    identity.end_session()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    form = ForgotForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return rendering.page("forgot.html", status, form=form)
    if not _limits().reset_requests.hit(request.remote_addr or "unknown"):
        return rendering.page(
            "error.html",
            429,
            title="Too many requests",
            message="Too many reset requests from your network. Wait a few minutes and try again.",
        )
    _send_password_link(form.email.data)
    return rendering.page("forgot_sent.html", message=RESET_SENT)


def _send_password_link(email: str) -> None:
    """A reset link for the account with this email (a set-password link if it has no password
    yet); for an enrolled person without an account (a roster import, say), a new account and
    a set-password link. The page answers the same whatever happens here."""
    accounts = _accounts()
    person = _enrolled_person(email)
    account = accounts.by_email(email) or _new_account(person)
    if account is None:
        return
    purpose = RESET if account.has_password else SET
    known = person if person is not None and person.id == account.person_id else None
    recipient = outbox.Recipient(
        account.person_id,
        account.email,
        name=known.name if known else "",
        institution_id=known.institution_id if known else None,
    )
    outbox.issue_and_send(client.current(), accounts, recipient, purpose)


def _enrolled_person(email: str) -> Person | None:
    """The person enrollment knows by this email; None if none, or if enrollment is down."""
    try:
        return directory.person_by_email(client.current(), email)
    except ServiceError as exc:
        log.warning("password link: enrollment did not answer: %s", exc)
        return None


def _new_account(person: Person | None) -> Account | None:
    """A new account for an enrolled person without one (a roster import, say)."""
    if person is None:
        return None
    try:
        return _accounts().ensure(person.id, person.email)
    except AccountError as exc:
        log.warning("no password link for an enrolled person: %s", exc)
        return None


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    accounts = _accounts()
    link = accounts.link(token)
    if link is None:
        return _invalid_link()
    form = ResetForm(link.email)
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        response = rendering.page("reset.html", status, form=form, link=link)
    else:
        try:
            done = accounts.set_password(token, form.password.data)
        except AccountError as exc:  # the form checks the same rules; kept as a guard
            form.password.errors = [str(exc)]
            return rendering.page("reset.html", 400, form=form, link=link)
        if done is None:
            return _invalid_link()
        identity.end_session()
        flash("Your password is set. Sign in with it now.")
        response = redirect(url_for("auth.sign_in"))
    # The token is in this page's address: send it to no one, not even as a referrer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return rendering.private(response)


def _invalid_link() -> Response:
    response = rendering.page(
        "error.html",
        410,
        title="This link no longer works",
        message="Password links work once, and only for a limited time. Ask for a new one.",
        action=(url_for("auth.forgot"), "Ask for a new link"),
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/dev/outbox")
def dev_outbox() -> ResponseReturnValue:
    """The mail the notifications service kept because no SMTP server is configured; development
    only (the links in it sign people in)."""
    if config.env("TANDEM_ENV", "development") == "production":
        abort(404)
    return rendering.page("outbox.html", messages=outbox.messages(client.current()))


@bp.get("/home")
def home() -> ResponseReturnValue:
    user = identity.current_user()
    assert user is not None
    institutions = directory.institution_names(client.current(), identity.service_token(user))
    by_role: dict[str, list[str]] = {}
    for grant in user.grants:
        places = by_role.setdefault(grant.role, [])
        if grant.institution_id is None:
            label = "every institution"
        else:
            label = institutions.get(grant.institution_id, "an institution")
        if label not in places:
            places.append(label)
    return rendering.page(
        "home.html",
        user=user,
        by_role=by_role,
        labels=identity.ROLE_LABELS,
        areas=navigation.AREAS,
    )

"""Mentor and mentee pages: profile, ranking, the pair, meetings, surveys, concerns, inbox, guidelines.

One person may be a mentee in one program and a mentor in another, so every page works over all
of the person's enrollments and pairs. The services decide what the person may do; these pages
only show it and explain refusals next to the fields they concern.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Response, abort, flash, g, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.enrollment import MEETING_MODES as PROFILE_MODES
from services.eventkit.contracts.feedback import CONCERN_KINDS, MEETING_MODES
from services.eventkit.contracts.notifications import CHANNELS

from ..calls import call, fetch, fetch_or
from ..client import Reply
from ..identity import User, current_user, roles_required
from ..pages import render, wants_fragment

bp = Blueprint("me", __name__, url_prefix="/me")

MENTOR, MENTEE = "mentor", "mentee"
PARTICIPANTS = (MENTOR, MENTEE)
MAX_RANKED = 10  # the enrollment service's limit; the rank choices offer no more

MODE_LABELS = {"in_person": "In person", "virtual": "Virtual", "either": "Either"}
DAYS = (
    ("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
    ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"),
)  # fmt: skip
DAY_PARTS = (("am", "Morning"), ("pm", "Afternoon"), ("eve", "Evening"))
CONCERN_LABELS = {
    "no_contact": "No contact: they do not answer or do not meet",
    "boundary": "A boundary was crossed (behaviour, remarks, pressure)",
    "rematch": "I would like a different pairing",
    "other": "Something else",
}
NOTICE_LABELS = {
    "enrolled": "You are enrolled in a program",
    "pair_published": "Your pairing is published",
    "group_formed": "Your coaching group is formed",
    "mentor_requested": "A mentee asks you to be their mentor",
    "request_answered": "A mentor answered your request",
    "request_expired": "A mentor did not answer your request in time",
    "unmatched": "You have no mentor yet this round",
    "meeting_logged": "A meeting was logged for you to confirm",
    "no_meeting": "No meeting logged for a while",
    "survey_due": "A survey is waiting for you",
    "survey_reminder": "A reminder to answer a survey",
    "mentee_unmatched": "A mentee has no mentor yet (coordinators)",
    "pair_not_meeting": "A pair has not met yet (coordinators)",
    "concern_raised": "A concern needs a coordinator's attention",
    "concern_escalated": "An escalated concern needs attention",
}
CHANNEL_LABELS = {
    "email": "Email",
    "in_app": "Only here in Tandem",
    "digest": "Daily email digest",
    "weekly": "Weekly email digest",
}
REQUEST_LABELS = {
    "pending": "Waiting for an answer",
    "accepted": "Accepted",
    "declined": "Declined",
    "expired": "No answer in time",
}


@bp.app_template_filter("readable")
def readable(value: str | None, labels: Mapping[str, str] | None = None) -> str:
    """A readable label for a code: from `labels`, else the code with spaces."""
    if not value:
        return ""
    text = (labels or {}).get(value) or value.replace("_", " ")
    return text[:1].upper() + text[1:]  # codes such as PGY4 keep their capitals


# --- what the signed-in person takes part in ------------------------------------------------------


def _user() -> User:
    user = current_user()
    if user is None:  # sign-in is checked before every request; this keeps the type honest
        abort(401)
    return user


def my_enrollments() -> list[dict]:
    """Every enrollment of the signed-in person, with its cycle and program (once a request)."""
    if "me_enrollments" not in g:
        g.me_enrollments = fetch("enrollment", f"/api/people/{_user().person_id}/enrollments")
    return g.me_enrollments


def active_enrollments(role: str | None = None) -> list[dict]:
    return [
        e
        for e in my_enrollments()
        if e["status"] == "active" and (role is None or e["role"] == role)
    ]


def _find(items: Iterable[Any], key: str, value: str | None) -> Any:
    """The item whose `key` is `value`, or the 404 page (someone else's, or made up)."""
    for item in items:
        found = getattr(item, key) if dataclasses.is_dataclass(item) else item.get(key)
        if value and found == value:
            return item
    abort(404)


@dataclasses.dataclass
class Member:
    person_id: str
    name: str
    role: str
    email: str = ""
    pronouns: str = ""
    training_level: str = ""


@dataclasses.dataclass
class Pair:
    """A pair or coaching group the person is in, as the pages show it."""

    pair_id: str
    cycle_id: str
    kind: str
    active: bool
    started_on: str
    my_role: str
    program_name: str
    cycle_name: str
    meeting_expectations: str
    others: list[Member]

    @property
    def names(self) -> str:
        return ", ".join(m.name for m in self.others)

    @property
    def title(self) -> str:
        return f"{self.program_name} · {self.cycle_name}"


def my_pairs(with_contacts: bool = False) -> list[Pair]:
    """The person's pairs and groups, active first; with emails and pronouns when asked."""
    me = _user().person_id
    cycles = {e["cycle_id"]: e for e in my_enrollments()}
    emails: dict[tuple[str, str], str] = {}
    cards: dict[str, dict] = {}
    if with_contacts:
        contacts = fetch_or("notifications", f"/api/people/{me}/pair-contacts", [])
        emails = {(c["pair_id"], c["person_id"]): c["email"] for c in contacts}
    pairs = []
    for rel in fetch("feedback", "/api/me/pairs"):
        cycle = cycles.get(rel["cycle_id"], {})
        others = []
        for person_id, role in rel["members"].items():
            if person_id == me:
                continue
            member = Member(person_id, rel["names"].get(person_id) or "Name not known yet", role)
            if with_contacts:
                if person_id not in cards:
                    cards[person_id] = fetch_or("enrollment", f"/api/people/{person_id}/card", {})
                member.email = emails.get((rel["pair_id"], person_id), "")
                member.pronouns = cards[person_id].get("pronouns", "")
                member.training_level = cards[person_id].get("training_level", "")
            others.append(member)
        others.sort(key=lambda m: (m.role != MENTOR, m.name))
        pairs.append(
            Pair(
                pair_id=rel["pair_id"],
                cycle_id=rel["cycle_id"],
                kind=rel["kind"],
                active=rel["active"],
                started_on=rel["started_on"],
                my_role=rel["members"].get(me, ""),
                program_name=cycle.get("program_name", "A program"),
                cycle_name=cycle.get("cycle_name", ""),
                meeting_expectations=cycle.get("meeting_expectations", ""),
                others=others,
            )
        )
    pairs.sort(key=lambda p: (not p.active, p.title, p.names))
    return pairs


# --- small helpers for forms ----------------------------------------------------------------------


def split_list(text: str) -> list[str]:
    """Comma- or line-separated entries, trimmed, blanks dropped."""
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


def refused(reply: Reply, depth: int = 1) -> dict[str, str]:
    """Why a write was refused: messages per field (nested names cut to `depth` parts) and the
    service's own message under "_form". 403 and 404 become the web's own pages."""
    if reply.status in (403, 404):
        abort(reply.status)
    errors: dict[str, str] = {}
    for key, message in reply.field_errors().items():
        errors.setdefault(".".join(key.split(".")[:depth]), message)
    if reply.status != 422 or not errors or reply.message != "The request is not valid.":
        errors["_form"] = reply.message
    return errors


def _back(endpoint: str, anchor: str = "", **values: Any) -> Response:
    target = url_for(endpoint, **values)
    return redirect(f"{target}#{anchor}" if anchor else target)


# --- profile --------------------------------------------------------------------------------------


def profile_payload(form: Mapping[str, Any], role: str, availability: list[str]) -> dict:
    """The matching-profile fields of the edit form, as the enrollment service takes them."""
    data: dict[str, Any] = {
        "interests": split_list(form.get("interests", "")),
        "goals": form.get("goals", "").strip(),
        "languages": split_list(form.get("languages", "")),
        "meeting_mode": form.get("meeting_mode", ""),
        "availability": availability,
    }
    if role == MENTOR:
        # The service says what a capacity may be; a blank one is refused there too.
        data["capacity"] = form.get("capacity", "").strip() or None
    return data


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def profile() -> ResponseReturnValue:
    me = _user()
    person = fetch("enrollment", f"/api/people/{me.person_id}")
    errors: dict[str, dict[str, str]] = {}
    values: dict[str, dict] = {}
    status = 200
    if request.method == "POST":
        section = request.form.get("section", "")
        if section == "person":
            data = {
                "pronouns": request.form.get("pronouns", "").strip(),
                "specialty": request.form.get("specialty", "").strip(),
            }
            reply = call("enrollment", "PATCH", f"/api/people/{me.person_id}", json=data)
            done = "Your details are saved."
        else:
            enrollment = _find(active_enrollments(), "id", section)
            data = profile_payload(
                request.form, enrollment["role"], request.form.getlist("availability")
            )
            reply = call("enrollment", "PATCH", f"/api/enrollments/{section}", json=data)
            done = (
                f"Your profile for {enrollment['program_name']} ({enrollment['cycle_name']}) "
                "is saved."
            )
        if reply.ok:
            flash(done)
            return _back("me.profile", f"profile-{section}")
        errors[section], values[section] = refused(reply), data
        status = 422
    return render(
        "me/profile.html",
        status=status,
        person=person,
        enrollments=my_enrollments(),
        values=values,
        errors=errors,
        modes=PROFILE_MODES,
        mode_labels=MODE_LABELS,
        days=DAYS,
        day_parts=DAY_PARTS,
    )


# --- ranking mentors (mentees) --------------------------------------------------------------------


@dataclasses.dataclass
class Ranking:
    """One mentee enrollment's ranking form."""

    enrollment: dict
    mentors: list[dict]
    order: list[str]
    chosen: dict[str, str] | None = None  # the rank numbers as submitted, when refused
    error: str = ""
    saved: bool = False

    @property
    def id(self) -> str:
        return self.enrollment["id"]

    @property
    def ranked(self) -> list[dict]:
        by_id = {m["id"]: m for m in self.mentors}
        return [by_id[i] for i in self.order if i in by_id]

    @property
    def unranked(self) -> list[dict]:
        return [m for m in self.mentors if m["id"] not in self.order]

    @property
    def choices(self) -> int:
        return min(len(self.mentors), MAX_RANKED)

    def rank_of(self, mentor_id: str) -> str:
        if self.chosen is not None:
            return self.chosen.get(mentor_id, "")
        shown = [m["id"] for m in self.ranked]  # a withdrawn mentor leaves no gap
        return str(shown.index(mentor_id) + 1) if mentor_id in shown else ""


def parse_ranks(form: Mapping[str, Any], known: list[str]) -> tuple[list[str], str]:
    """The mentors in the order of the rank numbers chosen (gaps allowed), or why not."""
    picked: list[tuple[int, str]] = []
    for mentor_id in known:
        raw = (form.get(f"rank-{mentor_id}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            return [], "Ranks are whole numbers, 1 for your first choice."
        picked.append((int(raw), mentor_id))
    numbers = [n for n, _ in picked]
    if len(numbers) != len(set(numbers)):
        return [], "Give each rank number to one mentor only."
    return [mentor_id for _, mentor_id in sorted(picked)], ""


def apply_move(order: list[str], known: list[str], move: str) -> list[str]:
    """The order after one button: "up:<id>", "down:<id>", "add:<id>" or "remove:<id>"."""
    action, _, mentor_id = move.partition(":")
    order = list(order)
    if mentor_id not in known:
        return order
    if action == "add" and mentor_id not in order:
        order.append(mentor_id)
    elif action == "remove" and mentor_id in order:
        order.remove(mentor_id)
    elif action in ("up", "down") and mentor_id in order:
        i = order.index(mentor_id)
        j = i - 1 if action == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


def focus_after(move: str, order: list[str], enrollment_id: str) -> str:
    """The id of the control to keep keyboard focus on after a move: the same button if it is
    still there, else the mentor's rank choice (or "add" once removed)."""
    action, _, mentor_id = move.partition(":")
    where = order.index(mentor_id) if mentor_id in order else None
    suffix = f"{enrollment_id}-{mentor_id}"
    if where is None:
        return f"add-{suffix}"
    if (action == "up" and where > 0) or (action == "down" and where < len(order) - 1):
        return f"{action}-{suffix}"
    return f"rank-{suffix}"


@bp.route("/ranking", methods=["GET", "POST"])
@roles_required(MENTEE)
def ranking() -> ResponseReturnValue:
    rankings = [
        Ranking(e, fetch_or("enrollment", f"/api/cycles/{e['cycle_id']}/mentors", []), list(e["ranking"] or []))
        for e in active_enrollments(MENTEE)
    ]  # fmt: skip
    status, focus, announce = 200, "", ""
    if request.method == "POST":
        form = _find(rankings, "id", request.form.get("enrollment_id"))
        known = [m["id"] for m in form.mentors]
        order, problem = parse_ranks(request.form, known)
        move = request.form.get("move", "")
        if problem:  # keep the numbers as typed, to correct them
            form.chosen = {k: (request.form.get(f"rank-{k}") or "") for k in known}
        else:
            order = apply_move(order, known, move) if move else order
            body = {"mentor_enrollment_ids": order}
            reply = call("enrollment", "PUT", f"/api/enrollments/{form.id}/ranking", json=body)
            if reply.ok and not wants_fragment():
                flash("Your ranking is saved.")
                return _back("me.ranking", f"ranking-{form.id}")
            if reply.ok:
                form.order, form.saved = list(reply.body["ranking"] or []), True
                focus = focus_after(move, form.order, form.id) if move else ""
                announce = ranking_news(form, move) if move else ""  # else the notice has focus
            else:
                errors = refused(reply)
                problem = errors.get("mentor_enrollment_ids") or errors.get("_form", "")
                form.order = order
        if problem:
            form.error, status = problem, 422
    return render(
        "me/ranking.html",
        fragment="rankings",
        status=status,
        rankings=rankings,
        focus=focus,
        announce=announce,
        oob=wants_fragment(),
        max_ranked=MAX_RANKED,
    )


def ranking_news(form: Ranking, move: str) -> str:
    """What a screen reader hears after a saved change."""
    mentor_id = move.partition(":")[2]
    name = next((m["name"] for m in form.mentors if m["id"] == mentor_id), "")
    if not name:
        return "Your ranking is saved."
    shown = [m["id"] for m in form.ranked]
    if mentor_id not in shown:
        return f"{name} is no longer ranked. Your ranking is saved."
    return f"{name} is now number {shown.index(mentor_id) + 1}. Your ranking is saved."


# --- the pair, and mentee-choice requests ---------------------------------------------------------


def choice_requests() -> list[dict]:
    """Mentee-choice requests the person sent or received, in their one-to-one cycles."""
    cycles = {e["cycle_id"] for e in active_enrollments() if e["pairing_format"] == "one_to_one"}
    found: list[dict] = []
    for cycle_id in sorted(cycles):
        found += fetch_or("pairing", f"/api/cycles/{cycle_id}/requests", [])
    found.sort(key=lambda r: (r["status"] != "pending", r["deadline"]))
    return found


def _pair_page(status: int = 200, error: str = "") -> ResponseReturnValue:
    me = _user().person_id
    pairs = my_pairs(with_contacts=True)
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
    )


@bp.get("/pair")
@roles_required(*PARTICIPANTS)
def pair() -> ResponseReturnValue:
    return _pair_page()


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
        return _back("me.pair")
    return _pair_page(422, refused(reply).get("_form") or reply.message)


# --- meetings -------------------------------------------------------------------------------------


def meeting_payload(form: Any, pair: Pair) -> dict:
    """The log-a-meeting form as the feedback service takes it (it checks every value)."""
    data: dict[str, Any] = {
        "date": form.get("date", "").strip(),
        "duration_minutes": form.get("duration_minutes", "").strip(),
        "mode": form.get("mode", ""),
        "topics": split_list(form.get("topics", "")),
        "notes": form.get("notes", "").strip(),
    }
    if pair.kind == "group":
        data["attendees"] = form.getlist("attendees")
    return data


def _meetings_page(
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict] | None = None,
    error: str = "",
) -> ResponseReturnValue:
    me = _user()
    pairs = my_pairs()
    logs = {p.pair_id: fetch_or("feedback", f"/api/pairs/{p.pair_id}/meetings", []) for p in pairs}
    names = {m.person_id: m.name for p in pairs for m in p.others}
    names[me.person_id] = "You"
    return render(
        "me/meetings.html",
        status=status,
        error=error,
        pairs=pairs,
        logs=logs,
        names=names,
        me=me.person_id,
        errors=errors or {},
        values=values or {},
        today=dt.date.today().isoformat(),
        modes=MEETING_MODES,
        mode_labels=MODE_LABELS,
    )


@bp.route("/meetings", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def meetings() -> ResponseReturnValue:
    if request.method == "GET":
        return _meetings_page()
    pair = _find(my_pairs(), "pair_id", request.form.get("pair_id"))
    data = meeting_payload(request.form, pair)
    reply = call("feedback", "POST", f"/api/pairs/{pair.pair_id}/meetings", json=data)
    if reply.ok:
        flash(
            f"Your meeting on {data['date']} is logged. {pair.names} will be asked to confirm it."
        )
        return _back("me.meetings", f"pair-{pair.pair_id}")
    shown = {**data, "topics": ", ".join(data["topics"])}
    return _meetings_page(422, {pair.pair_id: refused(reply)}, {pair.pair_id: shown})


@bp.post("/meetings/<meeting_id>/confirm")
@roles_required(*PARTICIPANTS)
def confirm_meeting(meeting_id: str) -> ResponseReturnValue:
    reply = call("feedback", "POST", f"/api/meetings/{meeting_id}/confirm")
    if reply.ok:
        flash(f"You confirmed the meeting on {reply.body['date']}.")
        return _back("me.meetings", f"pair-{reply.body['pair_id']}")
    return _meetings_page(422, error=refused(reply).get("_form") or reply.message)


# --- surveys --------------------------------------------------------------------------------------


def survey_answers(items: list[dict], form: Mapping[str, Any]) -> dict[str, Any]:
    """Answers by item id: Likert as whole numbers, unanswered as None (the service checks)."""
    answers: dict[str, Any] = {}
    for item in items:
        raw = (form.get(f"item-{item['item_id']}") or "").strip()
        if item["kind"] == "likert" and raw.isdigit():
            answers[item["item_id"]] = int(raw)
        else:
            answers[item["item_id"]] = raw or None
    return answers


@bp.get("/surveys")
@roles_required(*PARTICIPANTS)
def surveys() -> ResponseReturnValue:
    mine = fetch("feedback", "/api/me/surveys")
    mine.sort(key=lambda s: (s["status"] != "open", s["due_on"]))
    cycles = {e["cycle_id"]: e for e in my_enrollments()}
    return render("me/surveys.html", surveys=mine, cycles=cycles)


@bp.route("/surveys/<instance_id>", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def survey(instance_id: str) -> ResponseReturnValue:
    found = _find(fetch("feedback", "/api/me/surveys"), "instance_id", instance_id)
    answers = dict((found.get("response") or {}).get("answers") or {})
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        answers = survey_answers(found["items"], request.form)
        body = {"answers": answers}
        reply = call(
            "feedback", "POST", f"/api/survey-instances/{instance_id}/responses", json=body
        )
        if reply.ok:
            flash(f"Thank you: your answers to “{found['template']}” are saved.")
            return _back("me.surveys")
        errors = {k.removeprefix("answers."): v for k, v in refused(reply, depth=2).items()}
        status = 422
    cycle = next((e for e in my_enrollments() if e["cycle_id"] == found["cycle_id"]), {})
    return render(
        "me/survey.html", status=status, survey=found, answers=answers, errors=errors, cycle=cycle
    )


# --- concerns -------------------------------------------------------------------------------------


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
            "kind": request.form.get("kind", ""),
            "text": request.form.get("text", "").strip(),
        }
        if not any(p.pair_id == values["pair_id"] for p in pairs):
            errors = {"pair_id": "Choose the pairing your concern is about."}
        else:
            body = {"kind": values["kind"], "text": values["text"]}
            reply = call("feedback", "POST", f"/api/pairs/{values['pair_id']}/concerns", json=body)
            if reply.ok:
                # Say that it arrived, never what it says: the text stays out of pages and cookies.
                flash(
                    "Your concern was sent privately to your program's coordinators. "
                    "The people in your pairing are not told. A coordinator will contact you."
                )
                return _back("me.concern")
            errors = refused(reply)
        status = 422
    return render(
        "me/concern.html",
        status=status,
        pairs=pairs,
        errors=errors,
        values=values,
        kinds=CONCERN_KINDS,
        kind_labels=CONCERN_LABELS,
    )


# --- inbox and notification preferences -----------------------------------------------------------


def inbox_signature(items: list[dict]) -> str:
    """Changes whenever a notification arrives or is read: the poll answers 204 while it holds."""
    state = ",".join(f"{n['id']}:{int(bool(n['read']))}" for n in items)
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def unread_text(items: list[dict]) -> str:
    unread = sum(1 for n in items if not n["read"])
    if not unread:
        return "You have no unread notifications."
    return f"You have {unread} unread notification{'s' if unread != 1 else ''}."


def _notifications() -> list[dict]:
    return fetch("notifications", f"/api/people/{_user().person_id}/notifications")


def _inbox_page(
    status: int = 200, errors: dict[str, str] | None = None, chosen: dict | None = None
) -> ResponseReturnValue:
    me = _user()
    items = _notifications()
    signature = inbox_signature(items)
    if wants_fragment() and request.args.get("known") == signature:
        response = make_response("", 204)
        response.headers["Cache-Control"] = "no-store"
        return response
    preferences = fetch_or(
        "notifications", f"/api/people/{me.person_id}/notification-preferences", None
    )
    if preferences and chosen:
        preferences["preferences"].update(chosen)
    if preferences:  # in the order of NOTICE_LABELS: what concerns participants first
        order = list(NOTICE_LABELS)
        preferences["ordered"] = sorted(
            preferences["preferences"].items(),
            key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]),
        )
    return render(
        "me/inbox.html",
        fragment="inbox_list",
        status=status,
        items=items,
        status_text=unread_text(items),
        signature=signature,
        oob=wants_fragment(),
        preferences=preferences,
        errors=errors or {},
        channels=CHANNELS,
        channel_labels=CHANNEL_LABELS,
        notice_labels=NOTICE_LABELS,
    )


# Everyone signed in has an inbox (coordinators are told of concerns there too).
@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    return _inbox_page()


@bp.post("/inbox/<notification_id>/read")
def mark_read(notification_id: str) -> ResponseReturnValue:
    me = _user()
    path = f"/api/people/{me.person_id}/notifications/{notification_id}/read"
    reply = call("notifications", "POST", path)
    if not reply.ok:
        abort(reply.status if reply.status in (403, 404) else 409)
    if not wants_fragment():
        return _back("me.inbox", f"notice-{notification_id}")
    items = _notifications()
    return render(
        "me/inbox.html",
        fragment="inbox_item",
        n=reply.body,
        status_text=unread_text(items),
        signature=inbox_signature(items),
        item_oob=True,
        focus=True,
        notice_labels=NOTICE_LABELS,
    )


@bp.post("/inbox/preferences")
def preferences() -> ResponseReturnValue:
    me = _user()
    path = f"/api/people/{me.person_id}/notification-preferences"
    current = fetch("notifications", path)
    chosen = {
        kind: request.form.get(f"pref-{kind}", channel)
        for kind, channel in current["preferences"].items()
        if kind not in current["mandatory"]
    }
    reply = call("notifications", "PUT", path, json={"preferences": chosen})
    if reply.ok:
        flash("Your notification settings are saved.")
        return _back("me.inbox", "preferences")
    return _inbox_page(422, refused(reply, depth=2), chosen)


# --- program guidelines ---------------------------------------------------------------------------


@dataclasses.dataclass
class Guidelines:
    program_id: str
    program_name: str
    text: str
    version: int
    enrollments: list[dict]

    @property
    def awaiting(self) -> list[dict]:
        return [e for e in self.enrollments if e["guidelines_accepted_version"] != self.version]


def my_guidelines() -> list[Guidelines]:
    programs: dict[str, Guidelines] = {}
    for e in active_enrollments():
        entry = programs.setdefault(
            e["program_id"],
            Guidelines(
                e["program_id"], e["program_name"], e["guidelines"], e["guidelines_version"], []
            ),
        )
        entry.enrollments.append(e)
    return sorted(programs.values(), key=lambda p: p.program_name)


@bp.route("/guidelines", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def guidelines() -> ResponseReturnValue:
    programs = my_guidelines()
    error, status = "", 200
    if request.method == "POST":
        program = _find(programs, "program_id", request.form.get("program_id"))
        for enrollment in program.awaiting:
            path = f"/api/enrollments/{enrollment['id']}/guidelines-acceptance"
            reply = call("enrollment", "POST", path)
            if not reply.ok:
                error, status = refused(reply).get("_form") or reply.message, 422
                break
        else:
            flash(f"You accepted the guidelines of {program.program_name}.")
            return _back("me.guidelines", f"program-{program.program_id}")
    return render("me/guidelines.html", status=status, programs=programs, error=error)

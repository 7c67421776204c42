"""What each kind of notification says: Jinja templates, plain text and HTML, per kind."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parents[1] / "templates"

# Every kind a person can be told about; mandatory ones always go by email.
KINDS: dict[str, bool] = {
    "enrolled": False,
    "pair_published": True,
    "group_formed": True,
    "family_formed": True,
    "mentor_requested": False,
    "request_answered": False,
    "request_expired": False,
    "unmatched": True,  # to the mentee: no mentor this round
    "mentee_unmatched": False,  # to coordinators: a mentee of theirs has no mentor
    "meeting_logged": False,
    "no_meeting": False,  # to both members: no meeting for a while
    "pair_not_meeting": False,  # to coordinators: a pair still has not met
    # Meetings on request; an invitation and its cancellation carry the calendar (.ics) by email.
    "meeting_requested": False,
    "meeting_declined": False,
    "meeting_scheduled": True,
    "meeting_cancelled": True,
    "meeting_reminder": False,
    "survey_due": False,
    "survey_reminder": False,
    # Concerns: only that one needs attention, and a link; never its text, kind or raiser.
    "concern_raised": True,
    "concern_escalated": True,
    "rematch_requested": True,  # to coordinators, as a concern: only that one is asked for
}
MANDATORY = frozenset(kind for kind, mandatory in KINDS.items() if mandatory)
DEFAULT_CHANNEL = "email"
# One-time password links: always and only emailed, so never a preference.
ACCOUNT_LINKS = {"set": "password_set", "reset": "password_reset"}

SUBJECTS = {
    "enrolled": "You are enrolled in {{ program.name }}",
    "pair_published": "Your {{ program.name }} pairing: meet {{ partner.name }}",
    "group_formed": "Your {{ program.name }} coaching group",
    "family_formed": "Your {{ program.name }} mentoring family",
    "mentor_requested": "{{ mentee.name }} asks you to be their mentor in {{ program.name }}",
    "request_answered": "{{ mentor.name }} {{ 'accepted' if accepted else 'declined' }} your mentorship request",
    "request_expired": "{{ mentor.name }} did not answer your mentorship request in time",
    "unmatched": "You have no {{ program.name }} mentor yet: your coordinator will help",
    "mentee_unmatched": "{{ mentee.name }} has no mentor in {{ program.name }} yet",
    "meeting_logged": "{{ logger.name }} logged a meeting: please confirm it",
    "no_meeting": "No {{ program.name }} meeting logged for {{ days }} days",
    "pair_not_meeting": "A {{ program.name }} pair has logged no meeting for {{ days }} days",
    "meeting_requested": "{{ requester.name }} asks to meet: choose a time",
    "meeting_declined": "{{ answerer.name }} cannot meet at the times offered",
    "meeting_scheduled": "{{ 'Meeting moved' if sequence else 'Meeting set' }}: {{ when }}",
    "meeting_cancelled": "{{ 'Meeting cancelled' if was_scheduled else 'Meeting request withdrawn' }}: {{ when }}",
    "meeting_reminder": "Reminder: your {{ program.name }} meeting tomorrow, {{ when }}",
    "survey_due": "A short {{ program.name }} survey is waiting for you",
    "survey_reminder": "Reminder: your {{ program.name }} survey is due {{ 'tomorrow' if days_left == 1 else 'in %d days' % days_left }}",
    "concern_raised": "A concern needs your attention",
    "concern_escalated": "An escalated concern needs your attention",
    "rematch_requested": "A {{ program.name }} pair asks for a rematch",
    "password_set": "Set your Tandem password",
    "password_reset": "Reset your Tandem password",
    "digest": "Your {{ institution.name }} {{ 'weekly ' if weekly else '' }}mentorship digest: {{ items | length }} update(s)",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty line in a mail
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_subject_env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any]) -> Rendered:
    subject = _subject_env.from_string(SUBJECTS[kind]).render(**context)
    # Header injection: a subject is one line whatever a name contains.
    subject = " ".join(subject.split())[:300]
    return Rendered(
        subject=subject,
        text=_env.get_template(f"{kind}.txt").render(**context),
        html=_env.get_template(f"{kind}.html").render(**context),
    )

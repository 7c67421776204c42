"""What each role can reach: the home page's areas and the main navigation.

Each entry names an endpoint without URL arguments; one that does not exist in this build is
shown as not yet available rather than as a broken link.
"""

from __future__ import annotations

import dataclasses

from flask import current_app, url_for

from services.eventkit.auth import ADMIN, COORDINATOR

from .calls import can
from .identity import User, current_user

MENTOR = "mentor"
MENTEE = "mentee"


@dataclasses.dataclass(frozen=True)
class Link:
    endpoint: str
    label: str
    # Shown only to someone who holds this permission at one of their institutions or programs.
    permission: str | None = None

    @property
    def available(self) -> bool:
        if self.endpoint not in current_app.view_functions:
            return False
        if self.permission is None:
            return True
        user = current_user()
        grants = user.grants if user else ()
        return any(can(self.permission, g.institution_id, g.program_id) for g in grants)

    @property
    def href(self) -> str:
        return url_for(self.endpoint)


AREAS: dict[str, tuple[Link, ...]] = {
    ADMIN: (
        Link("admin.institutions", "Institutions"),
        Link("admin.coordinators", "Coordinators"),
        Link("admin.outcomes", "Consortium-wide outcomes (de-identified)"),
        Link("admin.audit", "Audit trail"),
        Link("admin.operations", "Operations"),
        Link("web.status", "Suite status"),
    ),
    COORDINATOR: (
        Link("coord.programs", "Programs and cycles"),
        Link("coord.participants", "Participants"),
        Link("oversight.concerns", "Concerns inbox"),
        Link("oversight.surveys", "Survey templates"),
        Link("oversight.audit", "Audit trail", "trail.read"),
        Link("web.status", "Suite status"),
    ),
    MENTOR: (
        Link("me.pair", "My mentees"),
        Link("me.objectives", "Objectives and action plans"),
        Link("me.profile", "Profile, goals and capacity"),
        Link("me.mentee_ranking", "Rank mentees"),
        Link("me.meetings", "Meetings"),
        Link("me.surveys", "Surveys"),
        Link("me.concern", "Raise a concern privately"),
        Link("me.inbox", "Notifications"),
        Link("me.guidelines", "Program guidelines"),
    ),
    MENTEE: (
        Link("me.pair", "My mentor"),
        Link("me.objectives", "Objectives and action plans"),
        Link("me.profile", "Profile and goals"),
        Link("me.ranking", "Rank mentors"),
        Link("me.meetings", "Meetings"),
        Link("me.surveys", "Surveys"),
        Link("me.concern", "Raise a concern privately"),
        Link("me.inbox", "Notifications"),
        Link("me.guidelines", "Program guidelines"),
    ),
}

# The few links the header keeps for each role, in this order; the rest are on the home page.
NAV: dict[str, tuple[Link, ...]] = {
    ADMIN: (Link("admin.institutions", "Institutions"), Link("admin.audit", "Audit")),
    COORDINATOR: (
        Link("coord.programs", "Programs"),
        Link("coord.participants", "Participants"),
        Link("oversight.concerns", "Concerns"),
    ),
    MENTOR: (
        Link("me.pair", "My pair"),
        Link("me.objectives", "Objectives"),
        Link("me.meetings", "Meetings"),
    ),
    MENTEE: (
        Link("me.pair", "My pair"),
        Link("me.objectives", "Objectives"),
        Link("me.meetings", "Meetings"),
    ),
}


def nav_links(user: User | None) -> list[Link]:
    """Home first, then each held role's header links once, then the inbox."""
    if user is None:
        return [Link("web.index", "About Tandem"), Link("auth.sign_in", "Sign in")]
    links = [Link("auth.home", "Home")]
    for role in user.roles:
        for link in NAV.get(role, ()):
            if link.available and link not in links:
                links.append(link)
    inbox = Link("me.inbox", "Inbox")
    if inbox.available:
        links.append(inbox)
    return links

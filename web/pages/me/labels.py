"""What the mentor and mentee pages share: the roles, the ranking limit, and the words they use
for the services' codes."""

from __future__ import annotations

MENTOR, MENTEE = "mentor", "mentee"
PARTICIPANTS = (MENTOR, MENTEE)
MAX_RANKED = 10  # the enrollment service's limit; the rank choices offer no more
MAX_RANKED_MENTEES = 20  # the same, for a mentor's ranking of mentees

# Self-identification a participant may give for matching, with consent: (key, question, answers);
# answers None is a free text. Matching compares the answers as given.
IDENTITY_CHOICES = (
    ("urim", "Do you identify as underrepresented in medicine?", (("yes", "Yes"), ("no", "No"))),
    ("gender", "Your gender, in your words", None),
    (
        "first_generation",
        "Are you the first in your family to go to university?",
        (("yes", "Yes"), ("no", "No")),
    ),
)
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
# What each member is in a group or family, and what the unit is called.
UNIT_TITLES = {
    "coach": "Coach",
    "member": "Group member",
    "senior": "Senior resident",
    "mid": "Mid-level resident",
    "junior": "Junior",
}
UNIT_KINDS = {"pair": "A pair", "group": "A coaching group", "family": "A mentoring family"}
NOTICE_LABELS = {
    "enrolled": "You are enrolled in a program",
    "pair_published": "Your pairing is published",
    "group_formed": "Your coaching group is formed",
    "family_formed": "Your mentoring family is formed",
    "mentor_requested": "A mentee asks you to be their mentor",
    "request_answered": "A mentor answered your request",
    "request_expired": "A mentor did not answer your request in time",
    "unmatched": "You have no mentor yet this round",
    "meeting_logged": "A meeting was logged for you to confirm",
    "no_meeting": "No meeting logged for a while",
    "meeting_requested": "Someone asks to meet: choose a time",
    "meeting_declined": "A meeting request was declined",
    "meeting_scheduled": "A meeting is set or moved (with a calendar invitation)",
    "meeting_cancelled": "A meeting is cancelled",
    "meeting_reminder": "A reminder the day before a meeting",
    "survey_due": "A survey is waiting for you",
    "survey_reminder": "A reminder to answer a survey",
    "mentee_unmatched": "A mentee has no mentor yet (coordinators)",
    "pair_not_meeting": "A pair has not met yet (coordinators)",
    "concern_raised": "A concern needs a coordinator's attention",
    "concern_escalated": "An escalated concern needs attention",
    "rematch_requested": "A pair asks for a rematch (coordinators)",
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
AREA_LABELS = {
    "career_planning": "Career planning",
    "resume": "Resume or CV",
    "applications": "Applications",
    "interviews": "Interviews",
    "research": "Research",
    "wellbeing": "Wellbeing",
    "clinical_skills": "Clinical skills",
    "other": "Other",
}
STEP_LABELS = {"not_started": "Not started", "in_progress": "In progress", "done": "Done"}

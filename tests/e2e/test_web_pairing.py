"""The coordinator's pairing page, end to end: the web in front of the real services and broker."""

from __future__ import annotations

import html
import re

import pytest
from live import Program, WebSession, seed_program

from services.pairing.engine import DEFAULT_WEIGHTS, SOFT_RULES
from support import wait_until
from web.pages.pairing import context as pairing_page

pytestmark = [pytest.mark.kafka]

HTMX = {"HX-Request": "true"}
WEIGHTS = {f"weight_{rule.name}": str(rule.default_weight) for rule in pairing_page.SOFT_RULES}


def page_path(program: Program) -> str:
    return f"/coordinator/cycles/{program.cycle_id}/pairing"


def run_form(**overrides: str) -> dict[str, str]:
    return {"algorithm": "stable", "min_level_gap": "2", "seed": "", **WEIGHTS, **overrides}


def proposal(live_suite, program: Program) -> dict:
    return live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")


def mentor_of(draft: dict) -> dict[str, str]:
    return {p["mentee_id"]: p["mentor_id"] for p in draft["pairs"]}


def text(response) -> str:
    return html.unescape(response.text)


def words(response) -> str:
    """The page's text with whitespace collapsed, as a reader sees it."""
    return " ".join(text(response).split())


def coordinator_runs(live_suite, program: Program) -> WebSession:
    web = live_suite.browser_session(program.coordinator["email"])
    web.get(page_path(program))
    response = web.form(f"{page_path(program)}/runs", run_form())
    assert response.status_code == 200, response.text
    return web


def test_the_web_describes_every_soft_rule_of_the_engine_with_its_default_weight():
    assert [r.name for r in pairing_page.SOFT_RULES] == list(SOFT_RULES)
    assert {r.name: r.default_weight for r in pairing_page.SOFT_RULES} == dict(DEFAULT_WEIGHTS)


def test_a_coordinator_runs_pairing_from_the_form_and_reviews_every_mentee(live_suite):
    program = seed_program(live_suite, mentors=3, mentees=4)
    web = live_suite.browser_session(program.coordinator["email"])

    page = web.get(page_path(program))
    assert page.status_code == 200
    assert "No pairing has been run for this cycle yet" in page.text
    assert "Pairing 4 mentees with 3 mentors" in text(page)
    assert 'hx-indicator="#run-progress"' in page.text
    assert 'hx-disabled-elt="#run-button"' in page.text
    for rule in pairing_page.SOFT_RULES:
        assert rule.label in text(page) and f'name="weight_{rule.name}"' in page.text

    # Without JavaScript: a plain POST, then the page again (POST-redirect-GET).
    response = web.form(f"{page_path(program)}/runs", run_form(), allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{page_path(program)}#proposal")
    review = web.get(response.headers["Location"])
    body = text(review)
    assert "Pairing ran (Stable matching)" in body
    assert "Publish 4 pairs" in body

    draft = proposal(live_suite, program)
    paired = mentor_of(draft)
    reasons = {u["person_id"]: u["reason"] for u in draft["unmatched"]}
    for mentee in program.mentees:
        assert mentee["name"] in body
        assert mentee["id"] in paired or mentee["id"] in reasons
        if mentee["id"] in paired:
            card = re.search(rf'id="pair-{mentee["id"]}".*?</li>', body, re.S)
            assert card is not None
            assert "Shared specialty interests" in card.group(0)
            assert card.group(0).count("<meter") == 1 + len(pairing_page.SOFT_RULES)
        else:
            assert reasons[mentee["id"]] in body
    # Every proposed score is on the page, and no inline style anywhere (strict CSP).
    for pair in draft["pairs"]:
        assert f"{pair['score']:.2f}" in body
    assert "style=" not in review.text


def test_an_htmx_run_answers_with_the_proposal_fragment_only(live_suite):
    program = seed_program(live_suite, mentors=3, mentees=4)
    web = live_suite.browser_session(program.coordinator["email"])
    web.get(page_path(program))

    response = web.form(f"{page_path(program)}/runs", run_form(algorithm="optimal"), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text and "<h1" not in response.text
    assert response.text.lstrip().startswith('<section id="proposal"')
    assert "Pairing ran (Highest total score)" in response.text
    assert "data-focus" in response.text
    # The rules come along out of band, so errors of an earlier attempt disappear.
    assert 'id="rules"' in response.text and 'hx-swap-oob="true"' in response.text
    assert proposal(live_suite, program)["algorithm"] == "optimal"

    # Finding someone by name swaps the proposal too, with only the matching mentor's pairs.
    found = web.get(page_path(program), params={"q": "mentee a"}, headers=HTMX)
    assert found.status_code == 200
    assert found.text.lstrip().startswith('<section id="proposal"')
    assert "Mentee A Example" in found.text
    assert text(found).count('<li class="pairing-group"') == 1


def test_rules_the_service_refuses_come_back_on_the_form_with_422(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)
    web = live_suite.browser_session(program.coordinator["email"])
    web.get(page_path(program))

    bad = run_form(min_level_gap="11", weight_goals="abc")
    response = web.form(f"{page_path(program)}/runs", bad, headers=HTMX)

    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#rules"
    assert 'id="run-min_level_gap" name="min_level_gap"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Enter a whole number of years from 0 to 10." in response.text
    assert "Enter a weight from 0 to 100." in response.text
    refused = live_suite.api("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    assert refused.status_code == 404  # nothing ran


def test_move_and_swap_with_a_reason_change_the_proposal(live_suite):
    program = seed_program(live_suite, mentors=3, mentees=4)
    web = coordinator_runs(live_suite, program)
    draft = proposal(live_suite, program)
    paired = mentor_of(draft)
    load = {m["id"]: sum(1 for x in paired.values() if x == m["id"]) for m in program.mentors}

    # The change form of a pair, as the review loads it into the pair's card.
    mentee_id = next(iter(paired))
    form = web.get(f"{page_path(program)}/people/{mentee_id}", headers=HTMX)
    assert form.status_code == 200 and "<h1" not in form.text
    assert 'name="reason"' in form.text and 'value="move"' in form.text
    assert 'hx-post="' in form.text  # swaps the proposal it was loaded into
    # Without JavaScript the same form is a page of its own, posting normally.
    own_page = web.get(f"{page_path(program)}/people/{mentee_id}")
    assert own_page.status_code == 200 and "<h1>Change the proposal for" in own_page.text
    assert 'hx-post="' not in own_page.text and 'value="swap"' in own_page.text

    # Move, without JavaScript: to a mentor with room who is not the current one.
    target = next(m for m in program.mentors if m["id"] != paired[mentee_id] and load[m["id"]] < 2)
    response = web.form(
        f"{page_path(program)}/edits",
        {"action": "move", "person_id": mentee_id, "mentor_id": target["id"],
         "card": f"pair-{mentee_id}", "reason": "Shared research interest"},
    )  # fmt: skip
    assert response.status_code == 200
    assert f"is now proposed with {target['name']}" in text(response)
    assert mentor_of(proposal(live_suite, program))[mentee_id] == target["id"]

    # Swap, with htmx: the proposal fragment, focus on the message saying what changed.
    paired = mentor_of(proposal(live_suite, program))
    first, second = next((a, b) for a in paired for b in paired if paired[a] != paired[b])
    response = web.form(
        f"{page_path(program)}/edits",
        {"action": "swap", "person_id": first, "other_mentee_id": second,
         "card": f"pair-{first}", "reason": "Scheduling"},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="proposal"')
    status = re.search(
        r'<p id="proposal-status"[^>]*data-focus[^>]*>(.*?)</p>', text(response), re.S
    )
    assert status is not None and "swapped mentors" in status.group(1)
    after = mentor_of(proposal(live_suite, program))
    assert after[first] == paired[second] and after[second] == paired[first]


def test_an_edit_without_a_reason_or_against_a_hard_rule_is_refused_inline(live_suite):
    program = seed_program(live_suite, mentors=3, mentees=4)
    # One mentor drops to PGY2: too close to the PGY1 mentees under a minimum gap of 2.
    junior = program.mentors[2]
    live_suite.ok("enrollment", "PATCH", f"/api/people/{junior['id']}", {"training_level": "PGY2"})

    def pairing_knows() -> bool:
        pool = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/candidates")
        return any(c["person_id"] == junior["id"] and c["training_level"] == "PGY2" for c in pool)

    wait_until(pairing_knows, timeout_s=30)
    web = coordinator_runs(live_suite, program)
    before = proposal(live_suite, program)
    assert junior["id"] not in mentor_of(before).values()
    mentee_id = next(iter(mentor_of(before)))
    edits = f"{page_path(program)}/edits"

    # No reason: 422, the message next to the pair, the form open there, nothing changed.
    response = web.form(
        edits,
        {"action": "unassign", "person_id": mentee_id, "card": f"pair-{mentee_id}", "reason": " "},
        headers=HTMX,
    )
    assert response.status_code == 422
    card = re.search(rf'<li class="pair-card" id="pair-{mentee_id}">.*?</li>', response.text, re.S)
    assert card is not None
    assert "Give a reason for the change." in card.group(0)
    assert 'role="alert"' in card.group(0) and "data-focus" in card.group(0)
    assert 'aria-invalid="true"' in card.group(0)
    assert proposal(live_suite, program)["pairs"] == before["pairs"]

    # A hard rule: the service's own message, inline, with 422 (also without JavaScript).
    response = web.form(
        edits,
        {"action": "move", "person_id": mentee_id, "mentor_id": junior["id"],
         "card": f"pair-{mentee_id}", "reason": "Asked for them"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "<h1" in response.text
    card = re.search(rf'<li class="pair-card" id="pair-{mentee_id}">.*?</li>', response.text, re.S)
    assert card is not None and "Not allowed: level gap below 2." in card.group(0)
    assert proposal(live_suite, program)["pairs"] == before["pairs"]


def test_publishing_makes_the_pairs_real_and_a_pair_can_be_ended(live_suite):
    program = seed_program(live_suite, mentors=3, mentees=4)
    web = coordinator_runs(live_suite, program)
    page = web.get(page_path(program))
    assert "data-confirm=" in page.text and "No pairs are published" in page.text

    response = web.form(f"{page_path(program)}/publish", allow_redirects=False)
    assert response.status_code == 303
    page = web.get(response.headers["Location"])

    pairs = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    assert len(pairs) == 4 and all(p["status"] == "active" for p in pairs)
    assert "Published. The cycle has 4 active pairs" in page.text
    table = re.search(r'<table class="published-pairs">.*?</table>', text(page), re.S)
    assert table is not None
    for pair in pairs:
        assert pair["mentee_name"] in table.group(0) and pair["mentor_name"] in table.group(0)
    assert "The last run was published" in page.text

    # Ending needs a reason; with one, the pair ends.
    ending = pairs[0]
    end_path = f"{page_path(program)}/pairs/{ending['pair_id']}/end"
    refused = web.form(end_path, {"reason": ""})
    assert refused.status_code == 422 and "Give a reason for ending the pair." in refused.text
    ended = web.form(end_path, {"reason": "Mentor moved to another site"})
    assert ended.status_code == 200 and "has ended" in text(ended)
    after = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    status = {p["pair_id"]: p["status"] for p in after}
    assert status[ending["pair_id"]] == "ended"
    assert sum(1 for s in status.values() if s == "active") == 3


def test_a_mentee_choice_round_sends_requests_listed_on_the_page(live_suite):
    program = seed_program(live_suite, mentors=2, mentees=1)
    roster = live_suite.ok("enrollment", "GET", f"/api/cycles/{program.cycle_id}/enrollments")
    enrollment = {e["person_id"]: e["id"] for e in roster}
    mentee, mentor = program.mentees[0], program.mentors[1]
    live_suite.ok(
        "enrollment",
        "PUT",
        f"/api/enrollments/{enrollment[mentee['id']]}/ranking",
        {"mentor_enrollment_ids": [enrollment[mentor["id"]]]},
    )
    web = live_suite.browser_session(program.coordinator["email"])
    web.get(page_path(program))

    def requested() -> bool:
        # Until pairing has the ranking, a round finds nothing to send; starting again is allowed.
        response = web.form(
            f"{page_path(program)}/choice-rounds", {"response_hours": "48", "min_level_gap": "2"}
        )
        assert response.status_code == 200
        return "1 request sent to mentors" in response.text

    wait_until(requested, timeout_s=30, interval_s=0.5)
    page = text(web.get(page_path(program)))
    table = re.search(r"<caption[^>]*>Mentee requests</caption>.*?</table>", page, re.S)
    assert table is not None
    assert mentee["name"] in table.group(0) and mentor["name"] in table.group(0)
    assert "Pending" in table.group(0)


def test_mentors_mentees_and_other_institutions_are_refused(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)
    other = seed_program(live_suite, mentors=1, mentees=1)
    live_suite.ok(
        "pairing", "POST", f"/api/cycles/{program.cycle_id}/runs", {"algorithm": "stable"}
    )
    before = proposal(live_suite, program)

    for person in (program.mentors[0], program.mentees[0]):
        web = live_suite.browser_session(person["email"])
        assert web.get(page_path(program)).status_code == 403
        assert web.form(f"{page_path(program)}/runs", run_form()).status_code == 403

    outsider = live_suite.browser_session(other.coordinator["email"])
    assert outsider.get(page_path(other)).status_code == 200  # their own cycle works
    assert outsider.get(page_path(program)).status_code == 403
    mentee_id = program.mentees[0]["id"]
    for path, data in (
        ("/runs", run_form()),
        ("/edits", {"action": "unassign", "person_id": mentee_id, "reason": "Taking over"}),
        ("/publish", {}),
    ):
        assert outsider.form(page_path(program) + path, data).status_code == 403
    assert proposal(live_suite, program) == before
    assert live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs") == []


def test_a_group_cycle_is_paired_into_coaching_groups(live_suite):
    cycle = {"name": "Coaching", "pairing_format": "group", "group_size": 2}
    program = seed_program(live_suite, mentors=2, mentees=4, cycle=cycle)
    web = live_suite.browser_session(program.coordinator["email"])
    page = text(web.get(page_path(program)))
    assert "(groups of up to 2)" in page
    assert 'value="groups"' in page and 'value="stable"' not in page

    response = web.form(f"{page_path(program)}/runs", run_form(algorithm="groups"))

    assert response.status_code == 200
    draft = proposal(live_suite, program)
    assert draft["algorithm"] == "groups" and len(draft["pairs"]) == 4
    groups = re.findall(r'<li class="pairing-group" id="mentor-([^"]+)">', response.text)
    assert sorted(groups) == sorted(m["id"] for m in program.mentors)
    assert words(response).count("2 of 2 places used") == 2


def test_a_family_cycle_shows_each_junior_with_senior_and_mid_level(live_suite):
    program = seed_program(
        live_suite, mentors=2, mentees=2, cycle={"name": "Families", "pairing_format": "family"}
    )
    mid = program.mentors[1]
    live_suite.ok("enrollment", "PATCH", f"/api/people/{mid['id']}", {"training_level": "PGY3"})

    def pairing_knows() -> bool:
        pool = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/candidates")
        return any(c["person_id"] == mid["id"] and c["training_level"] == "PGY3" for c in pool)

    wait_until(pairing_knows, timeout_s=30)
    web = live_suite.browser_session(program.coordinator["email"])
    assert 'name="juniors_per_family"' in web.get(page_path(program)).text

    response = web.form(
        f"{page_path(program)}/runs", run_form(algorithm="families", juniors_per_family="2")
    )

    assert response.status_code == 200
    draft = proposal(live_suite, program)
    assert {p["co_mentor_id"] for p in draft["pairs"]} == {mid["id"]}
    assert f"with {program.mentors[0]['name']} and {mid['name']} (mid-level)" in words(response)
    # Families change by pinning and leaving out, not by moving people one at a time.
    junior = draft["pairs"][0]["mentee_id"]
    form = web.get(f"{page_path(program)}/people/{junior}", headers=HTMX).text
    assert 'value="pin"' in form and 'value="move"' not in form and 'value="swap"' not in form


def test_published_pairs_come_fifty_a_page_with_a_search(live_suite):
    program = seed_program(live_suite, mentors=28, mentees=55)
    web = coordinator_runs(live_suite, program)
    assert web.form(f"{page_path(program)}/publish", allow_redirects=False).status_code == 303
    pairs = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    assert len(pairs) == 55

    page = web.get(page_path(program))
    rows = re.findall(r'<tr id="published-([0-9a-f-]+)"', page.text)
    assert len(rows) == 50 and "Pairs 1 to 50 of 55." in words(page)
    second = web.get(
        page_path(program),
        params={"published_page": "2"},
        headers={**HTMX, "HX-Target": "published"},
    )
    assert second.text.lstrip().startswith('<section id="published"'), second.text[:200]
    rest = re.findall(r'<tr id="published-([0-9a-f-]+)"', second.text)
    assert len(rest) == 5 and set(rows) | set(rest) == {p["pair_id"] for p in pairs}

    wanted = pairs[7]
    found = web.get(page_path(program), params={"published_q": wanted["mentee_name"]})
    shown = re.findall(r'<tr id="published-([0-9a-f-]+)"', found.text)
    assert wanted["pair_id"] in shown
    needle = wanted["mentee_name"].lower()
    for p in pairs:
        names = f"{p['mentee_name']} {p['mentor_name']}".lower()
        assert (p["pair_id"] in shown) == (needle in names)

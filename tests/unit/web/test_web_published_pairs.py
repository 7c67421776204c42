"""The published pairs of a cycle a page at a time: order, search, pages, and the pair whose
end form failed always on the page shown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from web.pages.pairing.published import PER_PAGE, Published


def pair(n: int, status: str = "active", rematch: bool = False) -> dict:
    return {
        "pair_id": f"p{n}",
        "mentee_id": f"e{n}",
        "mentor_id": f"m{n % 7}",
        "mentee_name": f"Mentee {n:04d}",
        "mentor_name": f"Mentor {n % 7}",
        "score": 1.0,
        "status": status,
        "rematch_requested_by": f"e{n}" if rematch else None,
    }


def test_rematch_requests_come_first_then_active_then_ended_and_name_the_member():
    rows = [pair(1, "ended"), pair(2), pair(3, rematch=True), pair(4, "ended", rematch=True)]
    shown = Published(rows).page_rows
    assert [p["pair_id"] for p in shown] == ["p3", "p2", "p1", "p4"]
    assert shown[0]["rematch_by_name"] == "Mentee 0003"
    assert Published(rows).rematch_asked == 1 and Published(rows).active == 2


def test_pages_hold_at_most_per_page_and_a_page_past_the_end_shows_the_last():
    rows = [pair(n) for n in range(PER_PAGE * 2 + 3)]
    view = Published(rows, page=3)
    assert view.pages == 3 and len(view.page_rows) == 3 and view.first_shown == 2 * PER_PAGE + 1
    assert Published(rows, page=99).current_page == 3
    assert Published(rows, page=-4).current_page == 1


def test_a_search_finds_mentees_and_mentors_by_part_of_the_name_in_any_case():
    rows = [pair(n) for n in range(120)]
    assert {p["pair_id"] for p in Published(rows, q="mentee 011").matching} == {
        f"p{n}" for n in range(110, 120)
    }
    assert len(Published(rows, q="MENTOR 3").matching) == len([n for n in range(120) if n % 7 == 3])
    assert Published(rows, q="nobody").page_rows == []


def test_units_are_found_by_any_member():
    unit = {
        "unit_id": "u1",
        "status": "active",
        "rematch_requested_by": "x2",
        "members": [{"person_id": "x1", "name": "Ada Coach"}, {"person_id": "x2", "name": "Bo"}],
    }
    view = Published([unit], kind="unit", q="bo")
    assert view.page_rows[0]["unit_id"] == "u1" and view.page_rows[0]["rematch_by_name"] == "Bo"


@given(st.integers(min_value=1, max_value=400), st.data())
def test_the_focused_pair_is_always_on_the_page_shown(count, data):
    rows = [pair(n, "ended" if n % 5 == 0 else "active", rematch=n % 11 == 0) for n in range(count)]
    focus = f"p{data.draw(st.integers(min_value=0, max_value=count - 1))}"
    view = Published(rows, page=data.draw(st.integers(-3, 20)), q="no match", focus=focus)
    assert focus in {p["pair_id"] for p in view.page_rows}


@given(st.integers(min_value=0, max_value=400))
def test_the_pages_together_show_every_pair_once(count):
    rows = [pair(n, "ended" if n % 3 == 0 else "active") for n in range(count)]
    pages = Published(rows).pages
    seen = [
        p["pair_id"] for page in range(1, pages + 1) for p in Published(rows, page=page).page_rows
    ]
    assert sorted(seen) == sorted(p["pair_id"] for p in rows)

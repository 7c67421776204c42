from collections import Counter

import pytest

from bench.web import institution_roster, kind_figures, schedule


def test_schedule_paces_requests_evenly_and_adds_the_one_off_requests():
    plan = schedule(10, 3, {"home": 1}, once={"roster_import": 0.5})
    assert len(plan) == 31
    times = [t for t, kind in plan if kind == "home"]
    assert times == pytest.approx([i / 10 for i in range(30)])
    assert (1.5, "roster_import") in plan
    assert plan == sorted(plan)


def test_schedule_draws_kinds_by_weight_and_reproducibly():
    mix = {"home": 3, "sign_in": 1}
    plan = schedule(100, 40, mix, once={})
    counts = Counter(kind for _, kind in plan)
    assert counts["home"] + counts["sign_in"] == 4000
    assert 0.70 < counts["home"] / 4000 < 0.80
    assert schedule(100, 40, mix, once={}) == plan


@pytest.mark.parametrize("rate, duration", [(0, 10), (10, 0), (-1, 5)])
def test_schedule_refuses_an_empty_run(rate, duration):
    with pytest.raises(ValueError):
        schedule(rate, duration, {"home": 1})


def test_kind_figures_count_errors_and_give_percentiles_of_successes():
    figures = kind_figures([10.0, 20.0, 30.0, 40.0, 50.0], errors=2)
    assert figures["count"] == 7 and figures["errors"] == 2
    assert figures["p50"] == 30.0
    assert figures["p95"] == pytest.approx(48.0)
    assert kind_figures([], errors=3) == {"count": 3, "errors": 3, "p50": None, "p95": None,
                                          "p99": None}  # fmt: skip


def test_each_institution_has_its_own_addresses():
    first, second = institution_roster(0, 5).decode(), institution_roster(1, 5).decode()
    assert "person00004@i0.bench.example.org" in first
    assert "person00004@i1.bench.example.org" in second
    assert "@i1." not in first

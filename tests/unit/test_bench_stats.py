import math

import pytest

from bench.stats import latencies_ms, per_second, percentile, summarize


def test_percentile_interpolates_between_ranks():
    values = [4.0, 1.0, 3.0, 2.0]  # order does not matter
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 90) == pytest.approx(3.7)


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.5], 0) == percentile([7.5], 99) == 7.5


def test_percentile_matches_nearest_rank_on_a_long_uniform_sample():
    values = [float(i) for i in range(1, 1001)]
    assert percentile(values, 99) == pytest.approx(990.01)
    assert percentile(values, 50) == pytest.approx(500.5)


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_rejects_out_of_range(q):
    with pytest.raises(ValueError):
        percentile([1.0], q)


def test_percentile_rejects_empty():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarize():
    s = summarize([5.0, 1.0, 3.0])
    assert (s.count, s.min, s.max) == (3, 1.0, 5.0)
    assert s.mean == pytest.approx(3.0)
    assert s.p50 == 3.0
    assert s.p90 == pytest.approx(4.6)
    assert s.p99 == pytest.approx(4.96)
    with pytest.raises(ValueError):
        summarize([])


def test_latencies_are_arrival_minus_send_in_ms():
    sent = {"a": 1.0, "b": 2.0}
    arrived = {"b": 2.25, "a": 1.5, "stray": 9.0}
    assert latencies_ms(sent, arrived) == pytest.approx([500.0, 250.0])


def test_latencies_refuse_missing_arrivals():
    with pytest.raises(ValueError, match="1 of 2 never arrived"):
        latencies_ms({"a": 1.0, "b": 2.0}, {"a": 1.1})


def test_per_second():
    assert per_second(500, 0.25) == 2000.0
    assert math.isclose(per_second(1, 3.0), 1 / 3)
    with pytest.raises(ValueError):
        per_second(10, 0.0)

"""The pairing events' own field checks."""

import math

import marshmallow as ma
import pytest

from services.eventkit.contracts.pairing import ProposedPair

PAIR = {"mentee_id": "e1", "mentor_id": "m1", "score": 1.5}


def test_a_breakdown_is_rule_names_to_finite_numbers():
    loaded = ProposedPair().load({**PAIR, "breakdown": {"shared_interests": 1, "languages": 0.5}})
    assert loaded["breakdown"] == {"shared_interests": 1.0, "languages": 0.5}
    assert isinstance(loaded["breakdown"]["shared_interests"], float)


@pytest.mark.parametrize(
    "breakdown",
    [[], "1", {"a": "1"}, {"a": True}, {"a": math.nan}, {"a": math.inf}, {1: 0.5}, {"a": None}],
)
def test_a_breakdown_of_anything_else_is_refused_by_name(breakdown):
    with pytest.raises(ma.ValidationError) as refused:
        ProposedPair().load({**PAIR, "breakdown": breakdown})
    assert "breakdown" in refused.value.messages

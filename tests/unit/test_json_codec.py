"""Fast JSON reading gives what the standard library gives, including what only it reads."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.eventkit import json_codec

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    """Equal, counting NaN equal to NaN (json round-trips it)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(values)
def test_reads_what_the_standard_library_writes_as_it_reads_it(value: object):
    text = json.dumps(value)
    assert _same(json_codec.loads(text), json.loads(text))
    assert _same(json_codec.loads(text.encode()), json.loads(text))


@pytest.mark.parametrize("text", ["", "{", "<html>gateway timeout</html>", "[1,]"])
def test_refuses_what_is_not_json_with_a_value_error(text: str):
    with pytest.raises(ValueError):
        json_codec.loads(text)

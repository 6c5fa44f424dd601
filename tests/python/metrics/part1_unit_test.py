"""Unit tests of udfs/part1_entropy.py (the entropy of m18_s_entropy) against the definition,
and of udfs/core_entropy.py (the batch form metrics_core runs) against it."""

from __future__ import annotations

import math
import struct

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from udfs.core_entropy import core_char_entropy
from udfs.part1_entropy import char_entropy, part1_char_entropy

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)


def test_hand_values():
    assert char_entropy("") == 0.0
    assert char_entropy("aaaa") == 0.0
    assert char_entropy("abab") == 1.0
    assert char_entropy("?!") == 1.0
    assert (
        abs(char_entropy("aab") - (-(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3)))
        < 1e-15
    )
    # code points, not bytes or graphemes: 'ä' is one symbol, 'a' + U+0308 two
    assert char_entropy("ää") == 0.0
    assert char_entropy("a\u0308") == 1.0
    assert abs(char_entropy("".join(chr(0x4E00 + i) for i in range(100))) - math.log2(100)) < 1e-12


def test_arrow_batch_keeps_null_and_order():
    out = part1_char_entropy(pa.array(["abab", None, "", "aaa"]))
    assert out.to_pylist() == [1.0, None, 0.0, 0.0]


@given(st.lists(TEXT, max_size=30))
@settings(max_examples=200, deadline=None)
def test_bounds_and_batch_independence(texts):
    together = part1_char_entropy(pa.array(texts, pa.string())).to_pylist()
    for s, h in zip(texts, together):
        assert math.isfinite(h)
        assert 0.0 <= h <= math.log2(max(1, len(set(s)))) + 1e-12
        assert h == part1_char_entropy(pa.array([s], pa.string())).to_pylist()[0]


@given(st.lists(st.one_of(st.none(), TEXT), max_size=60))
@settings(max_examples=300, deadline=None)
def test_the_models_batch_udf_equals_the_reference_bit_for_bit(texts):
    # metrics_core uses udf core_char_entropy (numpy counting); part1_char_entropy is the
    # reference of the catalogue formula: every value must be the same double
    batch = pa.array(texts, pa.string())
    fast = core_char_entropy(batch).to_pylist()
    reference = part1_char_entropy(batch).to_pylist()
    assert [None if h is None else struct.pack("<d", h) for h in fast] == [
        None if h is None else struct.pack("<d", h) for h in reference
    ]


def test_the_models_batch_udf_on_a_large_mixed_batch():
    texts = [("ab" * (i % 50)) + chr(0x1F600 + i % 80) * (i % 3) for i in range(5000)]
    texts += ["", "\x00", "a\u0308", None]
    batch = pa.array(texts, pa.string())
    assert core_char_entropy(batch).to_pylist() == part1_char_entropy(batch).to_pylist()

"""Properties of the Part 4 UDF and models.

- udfs/part4_text.py: the per-token counts follow their Python definitions (m118 isupper, m167
  typos and fragments) on the catalogue's examples and on arbitrary unicode (hypothesis); the
  Arrow UDF does not depend on how rows are batched.
- the models on a history of random unicode texts (seeded, with random / missing / out-of-order
  timestamps and roles): every Part 4 column is total, finite and inside its contract range,
  and rebuilding with the turns inserted in another order gives the same values bit for bit.
"""

from __future__ import annotations

import csv
import math
import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from part4_support import PART4_MODELS, all_rows, build_part4

from udfs._text import tokens, tokens_cased
from udfs.part4_text import is_caps, is_fragment, is_typo, part4_token_counts, token_counts

from prod_cli import ROOT


def test_examples_of_the_blocks() -> None:
    text = "WARUM hilft mir NIEMAND??? aaaa 😢😢🤔"
    assert token_counts(tokens_cased(text), tokens(text)) == (2, 1, 1)
    text = "Bitte ruf sofort die Telefonseelsorge an: 0800 111 0 111."
    assert token_counts(tokens_cased(text), tokens(text)) == (0, 2, 3)
    assert token_counts(None, None) == (0, 0, 0)
    assert is_caps("ABC1") and not is_caps("123") and not is_caps("A") and not is_caps("ABĸ")
    assert not is_caps("ABß") and is_caps("ÄÖÜ")
    assert is_typo("111") and is_typo("aaaa") and not is_typo("aa") and not is_typo("aab")
    assert is_fragment("ok") and is_fragment("ich") and not is_fragment("Ich")
    assert not is_fragment("für") and not is_fragment("abcd")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_counts_on_arbitrary_text(text: str) -> None:
    cased, lower = tokens_cased(text), tokens(text)
    caps, typos, frags = token_counts(cased, lower)
    assert 0 <= caps <= len(cased) and 0 <= frags <= len(cased) and 0 <= typos <= len(lower)
    assert caps == sum(1 for w in cased if len(w) >= 2 and w.isupper())
    assert caps + frags <= len(cased)  # an all-caps word is never a lower-case fragment


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=30), st.integers(1, 7))
def test_udf_is_batch_independent(texts: list[str], size: int) -> None:
    cased = [tokens_cased(t) for t in texts]
    lower = [tokens(t) for t in texts]
    whole = part4_token_counts(pa.array(cased), pa.array(lower)).to_pylist()
    parts: list[dict] = []
    for start in range(0, len(texts), size):
        chunk = part4_token_counts(
            pa.array(cased[start : start + size]), pa.array(lower[start : start + size])
        )
        parts.extend(chunk.to_pylist())
    assert whole == parts


def _random_history(seed: int, reverse: bool) -> list[tuple]:
    rng = random.Random(seed)
    alphabet = "abcdeäöüßABCÄ ÉİΣσς.!?,  \t\n😢😊❤️👍🏽🤔 ich wird war weil also klar 111 aaaa ok"
    words = ["ich", "will", "sterben", "Panik", "Spiel", "Angst", "morgen", "gestern", "KLAR"]
    turns = []
    for s in range(4):
        base = 1_700_000_000 + s * 10_000
        for i in range(rng.randint(1, 14)):
            kind = rng.random()
            if kind < 0.15:
                text = ""
            elif kind < 0.5:
                text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
            else:
                text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
            r = rng.random()
            if r < 0.2:
                ts = None
            elif r < 0.25:
                ts = "kaputt"
            else:
                ts = f"@{base + rng.randint(-300, 3000)}"
            turns.append((f"s{s}-{i}", f"s{s}", ts, i + 1, rng.choice(["user", "ai"]), text))
    # ISO timestamps (some zone-less, some with an offset)
    out = []
    for turn_id, session, ts, pos, role, text in turns:
        if ts is not None and ts.startswith("@"):
            from datetime import datetime, timezone

            moment = datetime.fromtimestamp(int(ts[1:]), tz=timezone.utc)
            ts = moment.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if pos % 2 else "")
        out.append((turn_id, session, ts, pos, role, text))
    return list(reversed(out)) if reverse else out


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory):
    results = []
    for reverse in (False, True):
        tmp = tmp_path_factory.mktemp(f"part4_prop_{int(reverse)}")
        con = build_part4(tmp, _random_history(20260101, reverse))
        try:
            results.append(all_rows(con, PART4_MODELS))
        finally:
            con.close()
    return results


def test_random_history_total_and_in_range(two_builds) -> None:
    got = two_builds[0]
    with (ROOT / "seeds" / "metric_contract.csv").open(encoding="utf-8") as f:
        contract = [r for r in csv.DictReader(f) if int(r["id"]) >= 116]
    for r in contract:
        key = r["key"]
        for turn_id, row in got.items():
            value = row[key]
            assert value is not None, (key, turn_id)
            if r["type"] == "enum":
                assert value in r["enum_values"].split("|")
                continue
            assert math.isfinite(float(value)), (key, turn_id)
            if r["range_lo"]:
                assert float(value) >= float(r["range_lo"]), (key, turn_id, value)
            if r["range_hi"]:
                assert float(value) <= float(r["range_hi"]), (key, turn_id, value)
    for turn_id, row in got.items():
        assert row["guardian_action"] is not None, turn_id


def test_insertion_order_does_not_change_any_value(two_builds) -> None:
    first, second = two_builds
    assert first.keys() == second.keys()
    for turn_id in first:
        assert first[turn_id] == second[turn_id], turn_id

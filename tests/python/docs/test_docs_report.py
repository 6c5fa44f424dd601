"""`python -m evoki_sql docs` on the demo history: the structure of target/docs/index.html.

Proves: the page is one self-contained file (inline assets, no network, a CSP that forbids
fetches); the overview, sessions, metric catalogue and models sections are there in order;
every session of the history has a list row and a data block whose seven series have one
value per turn; alert markers exist exactly for the turns with is_alert = 1, with their
guardian_action; all 168 contract metrics have a card with a histogram and lineage links
that resolve both ways; the DAG shows every model, seed and source in its layer; no turn text
reaches the file without --include-text, and every one does (in the data blocks) with it.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

from docs_support import DemoDocs, Page

from evoki_sql.docs.markup import anchor, esc, json_text

ROOT = Path(__file__).resolve().parents[3]
SERIES = [
    "m1_A",
    "m15_affekt_a",
    "m19_z_prox",
    "m101_t_panic",
    "m110_black_hole",
    "m151_hazard",
    "F_risk",
]
with (ROOT / "seeds" / "metric_contract.csv").open(newline="", encoding="utf-8") as _handle:
    CONTRACT = list(csv.DictReader(_handle))


def _sessions(demo: DemoDocs) -> dict[str, list[dict]]:
    by_session: dict[str, list[dict]] = defaultdict(list)
    for turn in demo.turns:
        by_session[turn["session_id"]].append(turn)
    return by_session


def _blocks(page: Page) -> dict[str, dict]:
    """Each session's data block, by session id."""
    config = page.data["timeline-config"]
    return {row[0]: page.data[f"{config['prefix']}{i}"] for i, row in enumerate(config["rows"])}


def test_the_command_reports_the_file(demo_docs: DemoDocs) -> None:
    for output in demo_docs.outputs:
        assert re.search(r"Wrote .*index\.html \(\d+\.\d\d MB, 4 sections\)", output), output


def test_self_contained_page(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    raw = page.raw
    assert raw.startswith("<!doctype html>")
    assert all("src" not in e.attrs for e in page.find("script"))
    assert not [e for e in page.elements if e.tag in ("link", "img", "iframe", "object")]
    assert "http://" not in raw.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in raw
    assert "@import" not in raw and "url(" not in raw
    csp = page.find("meta", http_equiv="Content-Security-Policy")
    assert csp and "default-src 'none'" in csp[0].attrs["content"]


def test_sections_in_order(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    sections = [e.attrs["id"] for e in page.find("section", class_="report-section")]
    assert sections == ["overview", "sessions", "metrics", "models"]
    nav = [e.attrs["href"] for e in page.elements if e.tag == "a"][:4]
    assert nav == ["#overview", "#sessions", "#metrics", "#models"]


def test_overview_numbers(demo_docs: DemoDocs) -> None:
    raw = demo_docs.page().raw
    overview = raw[raw.index('<section id="overview"') : raw.index('<section id="sessions"')]
    turns = len(demo_docs.turns)
    sessions = len(_sessions(demo_docs))
    assert f'<div class="card-title">Turns</div><div class="card-value">{turns}</div>' in overview
    assert f'<div class="card-title">Sessions</div><div class="card-value">{sessions}</div>' in (
        overview
    )
    actions = Counter(t["guardian_action"] for t in demo_docs.turns)
    for action, count in actions.items():
        assert re.search(rf"<td>{action}</td><td class=\"num\">{count}</td>", overview), action
    assert "NaN / Inf" in overview and "Out of range" in overview and "Build time" in overview


def test_every_session_with_one_value_per_turn(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    config = page.data["timeline-config"]
    assert [s["key"] for s in config["series"]] == SERIES
    sessions = _sessions(demo_docs)
    blocks = _blocks(page)
    assert set(blocks) == set(sessions)
    rows = {row[0]: row for row in config["rows"]}
    for session_id, turns in sessions.items():
        block = blocks[session_id]
        assert block["n"] == len(turns) == rows[session_id][2]
        assert [len(values) for values in block["v"]] == [len(turns)] * len(SERIES)
        assert block["kind"] == "".join("u" if t["role"] == "user" else "a" for t in turns)
        assert "x" not in block  # turn_idx is 1, 2, 3, ... in every demo session
        assert all(v is not None and 0 <= v <= config["scale"] for s in block["v"] for v in s)


def test_alert_markers_exactly_for_alert_turns(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    expected = {
        (t["session_id"], t["turn_idx"], t["guardian_action"], t["turn_id"])
        for t in demo_docs.turns
        if t["is_alert"] == 1
    }
    assert expected, "the demo history has alert turns"
    marked = {
        (session_id, x, action, turn_id)
        for session_id, block in _blocks(page).items()
        for x, action, turn_id in block["m"]
    }
    assert marked == expected
    rows = {row[0]: row[5] for row in page.data["timeline-config"]["rows"]}
    assert rows == {s: sum(1 for e in expected if e[0] == s) for s in rows}
    # the overview lists them too, each linking to its session
    for session_id, x, action, turn_id in expected:
        assert f"<code>{esc(turn_id)}</code>" in page.raw
    links = {
        e.attrs["href"] for e in page.find("a") if e.attrs.get("href", "").startswith("#session=")
    }
    assert links == {f"#session={s}" for s, *_ in expected}


def test_every_metric_has_a_card(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    assert len(CONTRACT) == 168
    cards = [e.attrs["id"] for e in page.find("article", class_="metric")]
    assert cards == [anchor("metric-", row["key"]) for row in CONTRACT]
    raw = page.raw
    starts = [raw.index(f'<article class="metric" id="{card}"') for card in cards]
    for row, start, end in zip(
        CONTRACT, starts, starts[1:] + [raw.index("</section>", starts[-1])]
    ):
        card = raw[start:end]
        assert '<svg class="bars"' in card, row["key"]
        assert "<figcaption>n 338 " in card or row["type"] == "enum", row["key"]
        assert f"phase {row['phase']}" in card
        assert '<dl class="lineage">' in card and "Computed in" in card
        for upstream in filter(None, row["depends_on"].split(";")):
            assert f'href="#{anchor("metric-", upstream)}"' in card, (row["key"], upstream)


def test_lineage_links_both_ways(demo_docs: DemoDocs) -> None:
    raw = demo_docs.page().raw
    card = raw[raw.index('id="metric-m15_affekt_a"') :]
    card = card[: card.index("</article>")]
    # m15 reads m29 and m101 (contract), m19 reads m15 (contract, the other way round)
    reads = card[card.index("Reads metrics") : card.index("Read by")]
    read_by = card[card.index("Read by") : card.index("Computed in")]
    assert 'href="#metric-m29_phys_2"' in reads and 'href="#metric-m101_t_panic"' in reads
    assert 'href="#metric-m19_z_prox"' in read_by
    assert 'href="#model-metrics_core"' in card
    direct = card[card.index("Direct inputs") :]
    assert "feat_a_phys." in direct  # one-level sqlglot lineage of metrics_core


def test_internal_links_resolve(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    ids = page.ids()
    targets = {
        e.attrs["href"][1:]
        for e in page.find("a")
        if e.attrs.get("href", "").startswith("#") and not e.attrs["href"].startswith("#session=")
    }
    assert targets and targets <= ids, sorted(targets - ids)[:10]


def test_model_dag_and_list(demo_docs: DemoDocs) -> None:
    import json

    page = demo_docs.page()
    manifest = json.loads((demo_docs.project / "target" / "manifest.json").read_text("utf-8"))
    names = {
        n["name"]
        for n in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if n["resource_type"] in ("model", "seed", "source")
    }
    nodes = page.find("a", class_="dag-node")
    assert {n.attrs["href"] for n in nodes} == {f"#{anchor('model-', n)}" for n in names}
    layers = re.findall(r'<text class="dag-layer"[^>]*>([^<]+)</text>', page.raw)
    assert layers == ["sources", "seeds", "staging", "features", "metrics", "output"]
    assert len(page.find("path", class_="dag-edge")) > len(names)
    rows = {e.attrs["id"] for e in page.find("tr") if e.attrs.get("id", "").startswith("model-")}
    assert rows == {anchor("model-", n) for n in names}
    # the family models link back to their metrics in the catalogue
    assert 'href="#family-metrics_core">25 metrics in the catalogue</a>' in page.raw


def _long_texts(demo: DemoDocs) -> list[str]:
    texts = [t["text"] for t in demo.turns if t["text"] and len(t["text"]) > 12]
    assert len(texts) > 300
    return texts


def test_no_turn_text_without_include_text(demo_docs: DemoDocs) -> None:
    page = demo_docs.page()
    raw = page.raw
    for text in _long_texts(demo_docs):
        assert text not in raw
        assert json_text(text)[1:-1] not in raw
        assert esc(text) not in raw
    assert not any("t" in block for block in _blocks(page).values())


def test_turn_text_with_include_text(demo_docs: DemoDocs) -> None:
    page = demo_docs.page(include_text=True)
    blocks = _blocks(page)
    for session_id, turns in _sessions(demo_docs).items():
        assert blocks[session_id]["t"] == [t["text"] or "" for t in turns]
    for text in _long_texts(demo_docs):
        assert json_text(text)[1:-1] in page.raw
    assert "turn text" in page.raw and "--include-text" in page.raw

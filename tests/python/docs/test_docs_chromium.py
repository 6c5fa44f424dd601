"""The report in headless Chromium (Debian's chromium package, installed by .ci/run).

Proves: opened with `#session=<id>` the page renders without console errors and draws that
session's chart with one point per turn for each of the seven series and one alert marker
per alert turn at its turn number; `view=solo` shows the chart on its own, which is the
screenshot kept in target/docs_screenshot.png.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from docs_support import DemoDocs, chromium, console_errors, parse, text_of

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = ROOT / "target" / "docs_screenshot.png"
SERIES = 7


def _dom(demo: DemoDocs, fragment: str, tmp_path: Path, name: str) -> tuple[Path, str]:
    url = f"{demo.plain.as_uri()}#{fragment}"
    done = chromium(
        "--enable-logging=stderr", "--v=0", "--dump-dom", url, user_data=tmp_path / "profile"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    path = tmp_path / f"{name}.html"
    path.write_text(done.stdout, encoding="utf-8")
    return path, done.stderr


def test_session_chart_renders(demo_docs: DemoDocs, tmp_path: Path) -> None:
    alerts = Counter(t["session_id"] for t in demo_docs.turns if t["is_alert"] == 1)
    busiest = alerts.most_common(1)[0][0]
    turns = [t for t in demo_docs.turns if t["session_id"] == busiest]
    path, stderr = _dom(demo_docs, f"session={busiest}", tmp_path, "dom")
    assert console_errors(stderr) == []
    dom = parse(path)
    charts = dom.find("svg", class_="tl-chart")
    assert len(charts) == 1 and charts[0].attrs["data-group"] == busiest
    assert charts[0].attrs["data-points"] == str(len(turns))
    points = Counter(p.attrs["data-series"] for p in dom.find("circle", class_="pt"))
    assert len(points) == SERIES
    assert set(points.values()) == {len(turns)}
    markers = dom.find("g", class_="marker")
    expected = sorted((t["turn_idx"], t["guardian_action"]) for t in turns if t["is_alert"] == 1)
    assert sorted((int(m.attrs["data-x"]), m.attrs["data-label"]) for m in markers) == expected
    hollow = [p for p in dom.find("circle", class_="hollow") if p.attrs["data-series"] == "m1_A"]
    assert len(hollow) == sum(1 for t in turns if t["role"] == "ai")


def test_session_without_alerts_and_unknown_session(demo_docs: DemoDocs, tmp_path: Path) -> None:
    quiet = next(
        s
        for s in dict.fromkeys(t["session_id"] for t in demo_docs.turns)
        if not any(t["is_alert"] for t in demo_docs.turns if t["session_id"] == s)
    )
    n = sum(1 for t in demo_docs.turns if t["session_id"] == quiet)
    path, stderr = _dom(demo_docs, f"session={quiet}", tmp_path, "quiet")
    assert console_errors(stderr) == []
    dom = parse(path)
    assert dom.find("g", class_="marker") == []
    assert len(dom.find("circle", class_="pt")) == SERIES * n
    path, stderr = _dom(demo_docs, "session=no-such-session", tmp_path, "unknown")
    assert console_errors(stderr) == []
    assert "No session no-such-session in this report." in path.read_text(encoding="utf-8")


def test_screenshot(demo_docs: DemoDocs, tmp_path: Path) -> None:
    alerts = Counter(t["session_id"] for t in demo_docs.turns if t["is_alert"] == 1)
    busiest = alerts.most_common(1)[0][0]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    url = f"{demo_docs.plain.as_uri()}#session={busiest}&view=solo"
    done = chromium(
        f"--screenshot={SCREENSHOT}", "--window-size=1400,1000", url, user_data=tmp_path / "profile"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 30_000  # a blank page compresses to a few kB


HOVER_PROBE = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var point = document.querySelector('circle.pt[data-series="m1_A"][data-x="%d"]');
  var box = point.getBoundingClientRect();
  document.querySelector("rect.overlay").dispatchEvent(new MouseEvent("mousemove", {
    clientX: box.left + box.width / 2, clientY: box.top + box.height / 2, bubbles: true
  }));
});
</script></body>"""


def _hover(page: Path, session: str, turn: int, tmp_path: Path, name: str) -> tuple[str, str]:
    """The DOM after moving the mouse onto a turn's point in the session's chart."""
    probe = tmp_path / f"{name}.html"
    raw = page.read_text(encoding="utf-8")
    probe.write_text(raw.replace("</body>", HOVER_PROBE % turn), encoding="utf-8")
    done = chromium(
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        f"{probe.as_uri()}#session={session}",
        user_data=tmp_path / "profile",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def test_hover_shows_turn_role_values_and_text_only_when_included(
    demo_docs: DemoDocs, tmp_path: Path
) -> None:
    alert = next(t for t in demo_docs.turns if t["is_alert"] == 1 and len(t["text"] or "") > 12)
    session, turn = alert["session_id"], alert["turn_idx"]
    page = demo_docs.page()
    config = page.data["timeline-config"]
    index = [row[0] for row in config["rows"]].index(session)
    block = page.data[f"{config['prefix']}{index}"]
    for include_text, source in ((False, demo_docs.plain), (True, demo_docs.with_text)):
        dom, stderr = _hover(source, session, turn, tmp_path, f"hover_{include_text}")
        assert console_errors(stderr) == []
        found = text_of(dom, "div", "tip")
        assert found is not None
        attrs, text = found
        assert "hidden" not in attrs
        assert f"turn {turn} · {alert['role']}" in text
        assert f"guardian_action: {alert['guardian_action']}" in text
        for series, values in zip(config["series"], block["v"]):
            assert f"{series['key']}\n{values[turn - 1] / config['scale']:.4f}" in text
        assert (alert["text"][:40] in text) is include_text
        assert (text_of(dom, "p", "tip-text") is not None) is include_text

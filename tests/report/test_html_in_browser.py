"""Every command's report.html, opened in a real headless Chromium.

Checks that nothing overflows the page width (tables may scroll inside their
container, nothing else may stick out) and that every image loads. Chromium is
installed by ``.ci/run`` from the Debian packages; where it is absent the test
is skipped with that reason. Screenshots are kept as test artefacts in
``tests/report/screenshots/`` (git-ignored; ``GXSIM_ARTEFACTS`` moves them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import DEMO, ROOT

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]
WIDTH = 1024  # a laptop window; the page must fit it without a horizontal scroll bar
ARTEFACTS = Path(os.environ.get("GXSIM_ARTEFACTS", ROOT / "tests" / "report" / "screenshots"))

#: run in the page after load: overflow and images, written into the DOM as JSON
CHECK = """<script>
window.addEventListener('load', () => {
  const vw = document.documentElement.clientWidth;
  const out = {viewport: vw, scrollWidth: document.documentElement.scrollWidth,
               overflow: [], images: []};
  for (const el of document.body.querySelectorAll('*')) {
    const wrap = el.closest('.table-wrap');
    if (wrap && wrap !== el) continue;  // inside a scrolling container: it may scroll
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 0.5)
      out.overflow.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                        + ' ends at ' + Math.round(r.right) + ' px');
  }
  for (const img of document.images)
    out.images.push({alt: img.alt, loaded: img.complete && img.naturalWidth > 0,
                     width: img.naturalWidth, shown: Math.round(img.getBoundingClientRect().width)});
  const pre = document.createElement('pre');
  pre.id = 'gxsim-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def _chromium(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def inspect_page(exe: str, page: Path, tmp: Path) -> dict:
    """Load a copy of ``page`` with :data:`CHECK` injected; the JSON it wrote."""
    probe = page.with_name("_probe_" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"),
                     encoding="utf-8")
    try:
        done = _chromium(exe, tmp / "profile-dom", f"--window-size={WIDTH},900",
                         "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()
    found = re.search(r'<pre id="gxsim-check">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"Chromium gave no result for {page}: {done.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(exe: str, page: Path, name: str, tmp: Path) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTEFACTS / f"{name}.png"
    _chromium(exe, tmp / "profile-shot", f"--window-size={WIDTH},3000",
              "--virtual-time-budget=10000", f"--screenshot={target}", page.as_uri())
    return target


def _sweep_scenario(tmp: Path) -> Path:
    """The demo with a 3-case sweep instead of its 1,000 cases (same report code)."""
    import tomli_w

    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["sweep"] = {"format": "netcdf", "constraints": ["hourly_matched_share >= 0.5"],
                     "parameters": [{"target": "generators[solar_farm].capacity_kw",
                                     "name": "farm_kw", "values": [3000, 6000, 9000]}]}
    path = tmp / "island_demo_sweep.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory, demo_result):
    """report.html of run, score, future, sweep and verify, built once."""
    from sim.cli import main
    from sim.report.run import write_result

    tmp = tmp_path_factory.mktemp("reports")
    out = {}
    (tmp / "run").mkdir()
    write_result(demo_result, tmp / "run")
    out["run"] = tmp / "run" / "report.html"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert main(["score", str(DEMO), "--no-future", "-o", str(tmp / "score")]) == 0
        assert main(["future", str(DEMO), "--years", "2030,2050", "--variants", "reference",
                     "-o", str(tmp / "future")]) == 0
        assert main(["sweep", str(_sweep_scenario(tmp)), "--no-progress",
                     "-o", str(tmp / "sweep")]) == 0
        claim = ROOT / "examples" / "island_claim" / "claim_inflated.toml"
        assert main(["verify", str(claim), "-o", str(tmp / "verify")]) == 1
    finally:
        os.chdir(cwd)
    for name in ("score", "future", "sweep", "verify"):
        out[name] = tmp / name / "report.html"
    return out


def test_every_command_writes_a_report_in_the_shared_style(reports):
    for name, page in reports.items():
        text = page.read_text(encoding="utf-8")
        assert f"gxsim {name}" in text and 'class="table-wrap"' in text, name
        # figures for people: no raw floats such as 27839061.749 or 8.59418e+06
        body = re.sub(r"<(style|script)[^>]*>.*?</\1>|data:image/png;base64,[^\"]+", "",
                      text, flags=re.S)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", body)
        raw = [c for c in cells if re.fullmatch(r"-?\d{4,}\.\d+|-?\d+(\.\d+)?e[+-]\d+", c)]
        assert not raw, f"{name}: unformatted numbers {raw[:5]}"


@pytest.mark.skipif(browser() is None, reason="no Chromium installed (.ci/run installs "
                    "Debian's chromium package); the page layout is not checked here")
@pytest.mark.parametrize("name", ["run", "score", "future", "sweep", "verify"])
def test_report_fits_the_page_and_images_load(reports, name, tmp_path):
    exe = browser()
    page = reports[name]
    result = inspect_page(exe, page, tmp_path)
    shot = screenshot(exe, page, name, tmp_path)
    assert result["scrollWidth"] <= result["viewport"], (
        f"{name}: page is {result['scrollWidth']} px wide in a {result['viewport']} px "
        f"window: {result['overflow'][:5]}")
    assert not result["overflow"], f"{name}: {result['overflow'][:5]}"
    expected = {"run": 1, "score": 0, "future": 2, "sweep": 1, "verify": 2}[name]
    assert len(result["images"]) == expected, result["images"]
    bad = [i for i in result["images"] if not i["loaded"]]
    assert not bad, f"{name}: images that did not load: {bad}"
    assert all(i["shown"] <= result["viewport"] for i in result["images"])
    assert shot.exists() and shot.stat().st_size > 10_000, shot


@pytest.mark.skipif(browser() is None, reason="no Chromium installed")
def test_the_browser_check_catches_overflow_and_broken_images(tmp_path):
    """The check itself: a too-wide block and a missing image are reported."""
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html><body><div style="width:3000px">wide</div>'
                    '<img src="missing.png" alt="missing"></body></html>', encoding="utf-8")
    result = inspect_page(browser(), page, tmp_path)
    assert result["scrollWidth"] > result["viewport"]
    assert any(o.startswith("div") for o in result["overflow"])
    assert result["images"] == [{"alt": "missing", "loaded": False, "width": 0, "shown":
                                 result["images"][0]["shown"]}]


def test_outputs_carry_units_and_summaries_hold_figures_only(reports):
    """Every CSV/JSON names its units (column names, a units table or a header);
    summary.txt has no timings (two runs compare clean), run.log has them."""
    import pandas as pd

    run, score, fut, verify = (reports[n].parent for n in ("run", "score", "future", "verify"))
    annual = pd.read_csv(run / "annual.csv")
    assert {"demand_kwh", "grid_kwh", "renewable_kwh"} <= set(annual.columns)
    assert json.loads((run / "kpis.json").read_text())["units"]["grid"] == "kWh"
    ev = json.loads((score / "evaluation.json").read_text())
    assert ev["units"]["civil_demand_kwh"].startswith("kWh")
    assert ev["units"]["co2_reduction_t"] == "t-CO2/yr"
    assert "unit" in pd.read_csv(score / "score.csv").columns
    assert "[kWh" in (score / "ledger.csv").read_text().splitlines()[0]
    assert all(c.endswith("_kwh") for c in pd.read_csv(score / "generators.csv").columns[3:])
    header = (fut / "future.csv").read_text().splitlines()[0].split(",")
    assert "utilisation [1]" in header and "civil_demand_kwh" in header
    assert all(c.endswith("_kwh") for c in pd.read_csv(verify / "hourly.csv").columns[1:])
    assert "units" in json.loads((verify / "verdict.json").read_text())
    for name in ("run", "score", "future", "verify", "sweep"):
        folder = reports[name].parent
        summary = folder / ("score.txt" if name == "score" else "summary.txt")
        assert not re.search(r"Time:|\d s\)", summary.read_text(encoding="utf-8")), name
        assert "Time:" in (folder / "run.log").read_text(encoding="utf-8"), name

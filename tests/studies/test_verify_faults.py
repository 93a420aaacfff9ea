"""The fault corpus (tests/studies/faults.py): each fault of the shipped example's
meter data gets the verdict it must get, and no fault turns an inflated claim
into a PASS.

For every fault the data are read once (with the honest claim's convention)
and then judged against:

* the example's honest claim (``claim.toml``): the fault's expected verdict;
* ``claim_inflated.toml`` (supply on annual netting, +22 %);
* the honest claim with supply and hourly-matched share 2.4 % too high;
* a claim of exactly what the faulty data say, when that differs from the
  truth beyond tolerance (what a town would declare from the faulty data).

None of the inflated ones may PASS. Bad input ends in one-line InputError.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import faults  # noqa: E402  (the generator beside this file)

from sim.errors import InputError  # noqa: E402
from sim.inputs.claim import claim_from_dict  # noqa: E402
from sim.studies.meter_checks import sun_reference  # noqa: E402
from sim.studies.verify import read_claim_meters, verify  # noqa: E402


@pytest.fixture(scope="module")
def base():
    """The example's data, read once for the whole corpus."""
    return faults.load_base()


@pytest.fixture(scope="module")
def claims():
    return faults.load_claims()


def _claim(d: dict, folder: Path):
    return claim_from_dict(d, source=folder / "claim.toml")


def _inflated(claims: dict, case, honest_dict: dict, changes: dict | None) -> dict:
    return {"claim_inflated.toml": faults.apply(claims["claim_inflated"], changes,
                                                case.files),
            "supply +2.4%": faults.inflated_by(honest_dict, 0.024)}


def _judge(case, claim_dict, folder, claims, changes, expect, data_claim=True):
    """Read once, judge the honest and the inflated claims; return the honest one.

    ``data_claim``: also judge a claim of what the data say when it differs
    from the truth (not after a fix that makes the data acceptable: then the
    data are the truth of that claim, e.g. a consumer left out with a reason).
    """
    honest = _claim(claim_dict, folder)
    md = read_claim_meters(honest, case.files, honest.meter_data.fill,
                           sun_reference(honest))
    v = verify(honest, meter_data=md)
    assert v.verdict == expect, (case.name, v.reasons)
    others = _inflated(claims, case, claim_dict, changes)
    if data_claim and not v.table["within"].all():   # the faulty data differ from the truth
        others["as the faulty data say"] = faults.with_figures(
            claim_dict, faults.claimed_from(v.table, v.figures))
    for name, d in others.items():
        vi = verify(_claim(d, folder), meter_data=md)
        assert vi.verdict != "pass", (case.name, name, vi.table)
    return v, md


@pytest.mark.parametrize("fault", faults.FAULTS, ids=lambda f: f.__name__)
def test_fault_verdict(fault, base, claims, tmp_path):
    case = fault(base, tmp_path)
    honest = faults.apply(claims["claim"], case.claim, case.files)
    if case.expect == "input_error":
        for d in [honest, *_inflated(claims, case, honest, case.claim).values()]:
            with pytest.raises(InputError) as e:
                verify(_claim(d, tmp_path))
            msg = str(e.value)
            assert "\n" not in msg and msg.isprintable(), msg
            assert all(w in msg for w in case.words), msg
    else:
        v, md = _judge(case, honest, tmp_path, claims, case.claim, case.expect)
        text = " ".join(v.reasons)
        assert all(w in text for w in case.words), (case.name, v.reasons)
        if case.expect == "pass":   # nothing was dropped unlisted
            assert v.meter.problems
    if case.fixed is not None:
        changes = {**case.claim, **case.fixed}
        fixed = faults.apply(claims["claim"], changes, case.files)
        _judge(case, fixed, tmp_path, claims, changes, case.fixed_expect, data_claim=False)


def test_filled_pv_never_at_night(base, claims, tmp_path):
    """Interpolation across dusk or dawn puts 0 kWh where the sun is down."""
    case = faults.filled_gaps(base, tmp_path)
    c = _claim(faults.apply(claims["claim"], case.claim, case.files), tmp_path)
    sun = sun_reference(c)
    md = read_claim_meters(c, case.files, "interpolate", sun)
    filled = md.filled[faults.PV].to_numpy()
    dark = sun["dark"][:, None] & filled
    assert dark.sum() > 100                                  # gaps did cross the night
    assert (md.kwh[faults.PV].to_numpy()[dark] == 0).all()
    assert any("sun down set to 0 kWh" in r for r in md.repairs)
    v = verify(c, meter_data=md)
    assert v.checks["clock"]["pv"][0]["night_kwh"] == 0


def test_clock_shift_is_measured(base, claims, tmp_path):
    """The measured shift of the plants is the injected one (3 h late)."""
    case = faults.shifted_plants(base, tmp_path)
    v = verify(_claim(faults.apply(claims["claim"], case.claim, case.files), tmp_path))
    shifts = [r["shift_h"] for r in v.checks["clock"]["pv"]]
    np.testing.assert_allclose(shifts, 3.0, atol=0.25)
    assert abs(v.checks["clock"]["consumers_shift_h"]) < 0.25
    case = faults.shifted_consumers(base, tmp_path)
    v = verify(_claim(faults.apply(claims["claim"], case.claim, case.files), tmp_path))
    assert v.checks["clock"]["consumers_shift_h"] == pytest.approx(-2.0, abs=0.25)
    np.testing.assert_allclose([r["shift_h"] for r in v.checks["clock"]["pv"]], 0.0,
                               atol=0.25)


def test_scaled_pv_outliers_by_meter_and_month(base, claims, tmp_path):
    case = faults.scaled_pv(base, tmp_path)
    v = verify(_claim(faults.apply(claims["claim"], case.claim, case.files), tmp_path))
    out = v.checks["plausibility"]["outliers"]
    assert {o["meter"] for o in out} == set(faults.PV)
    assert len({o["month"] for o in out}) == 12
    assert v.checks["plausibility"]["excess_kwh"] > 0


def test_exit_statuses(base, claims, tmp_path, capsys):
    """0 pass, 1 fail, 3 inconclusive, 2 bad input (one line on stderr)."""
    from sim.cli import main

    ex = faults.EXAMPLE
    assert main(["verify", str(ex / "claim.toml"), "-o", str(tmp_path / "a"),
                 "--no-plots"]) == 0
    assert main(["verify", str(ex / "claim_inflated.toml"), "-o", str(tmp_path / "b"),
                 "--no-plots"]) == 1
    case = faults.shifted_plants(base, tmp_path)
    assert main(["verify", str(ex / "claim.toml"), "--meter", str(case.files[0]),
                 "-o", str(tmp_path / "c"), "--no-plots"]) == 3
    capsys.readouterr()
    case = faults.overflow(base, tmp_path)
    bad = faults.apply(claims["claim"], {"meter_data": {"encoding": "nope"}}, case.files)
    import tomli_w
    p = tmp_path / "bad.toml"
    p.write_text(tomli_w.dumps(bad), encoding="utf-8")
    assert main(["verify", str(p), "-o", str(tmp_path / "d"), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "encoding" in err
    assert not (tmp_path / "d").exists()


def test_wind_capacity_factor_band(claims, tmp_path):
    """A wind meter running near full output all year is listed by month and year."""
    import pandas as pd

    from sim.core.engine import calendar_index
    from sim.studies.meter_checks import plausibility

    c = _claim(faults.apply(claims["claim"], {}, [tmp_path / "x.csv"]), tmp_path)
    idx = calendar_index(2023, "Asia/Tokyo")
    wind = next(g for g in c.generators if g.kind == "wind")
    kwh = pd.DataFrame({wind.meter: np.full(len(idx), 0.9 * wind.capacity_kw)}, index=idx)
    out = plausibility(c, kwh, np.zeros((len(c.generators), len(idx))), sun_reference(c),
                       0.1)
    months = sorted(o["month"] for o in out["outliers"])
    assert months == list(range(0, 13))            # every month, and the year (0)
    year = next(o for o in out["outliers"] if o["month"] == 0)
    assert year["kwh_per_kw"] == pytest.approx(0.9)
    # the energy above the annual 50 % counts once (the months' 15 % are part of it)
    assert out["excess_kwh"] == pytest.approx(0.40 * wind.capacity_kw * len(idx))

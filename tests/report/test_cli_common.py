"""What every command shares: output folders, progress, the numba line, units."""

import io

import numpy as np
import pandas as pd
import pytest

from sim.cli._common import numba_notice, output_folder
from sim.studies.future import default_years


def test_outputs_go_to_results_input_command():
    assert str(output_folder(None, "scenarios/island_demo.toml", "future")) == \
        "results/island_demo/future"
    assert str(output_folder(None, "examples/island_claim/claim.toml", "verify")) == \
        "results/claim/verify"
    assert str(output_folder("elsewhere", "x.toml", "run")) == "elsewhere"


def test_future_years_start_at_the_base_year():
    assert default_years(2023) == [2023, 2025, 2030, 2035, 2040, 2045, 2050]
    assert default_years(2030) == [2030, 2035, 2040, 2045, 2050]
    assert default_years(2050) == [2050]


def test_numba_line_on_a_cold_compile_only():
    import numba as nb

    stream = io.StringIO()
    with numba_notice("run", stream):
        @nb.njit(cache=False)
        def twice(x):
            return 2 * x

        assert twice(3) == 6
    text = stream.getvalue()
    assert "numba is compiling" in text and "numba compiled in" in text and " s\n" in text
    stream = io.StringIO()
    with numba_notice("run", stream):
        assert twice(4) == 8  # already compiled: nothing to say
    assert stream.getvalue() == ""


def test_result_annual_carries_units(demo_result):
    units = demo_result.annual.attrs["units"]
    assert units["demand"] == "kWh" and units["grid"] == "kWh"
    from sim.report.run import annual_with_units

    cols = annual_with_units(demo_result.annual).columns
    assert "demand_kwh" in cols and "sector" in cols and "demand" not in cols


def test_formatting_for_people():
    from sim.report import html

    assert html.fmt_energy(27_839_061.749) == "27,839.1 MWh"
    assert html.fmt_share(0.45312) == "45.3 %"
    assert html.fmt_number(8.59418e6, 0, "JPY") == "8,594,180 JPY"
    assert html.fmt_number(float("nan")) == "—"
    df = pd.DataFrame({"delivered_kwh": [27_499_821.785782088], "spill_share": [0.1234],
                       "name": ["a"], "n": np.array([12345])})
    out = html.table(df)
    assert "27,499.8" in out and "[MWh]" in out and "12.3 %" in out and "12,345" in out
    assert out.startswith('<div class="table-wrap">')


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from sim.cli._common import show_progress

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert show_progress() is False


@pytest.mark.parametrize("command", ["run", "future"])
def test_run_and_future_offer_no_progress(command):
    from sim.cli import build_parser

    args = build_parser().parse_args([command, "x.toml", "--no-progress"])
    assert args.no_progress is True


def test_island_hint_is_printed_as_a_warning(capsys):
    from sim.cli._common import warn_hints
    from sim.inputs.scenario import scenario_from_dict

    sc = scenario_from_dict({
        "region": {"name": "Demo island", "municipality": "A町", "prefecture": "P県",
                   "latitude": 30.0, "longitude": 130.0, "year": 2023},
        "grid": {"must_run_kw": 100},
        "consumers": [{"id": "homes", "sector": "household", "annual_kwh": 1000.0}]})
    hints = warn_hints("run", sc)
    err = capsys.readouterr().err
    assert len(hints) == 1 and err.startswith("gxsim run: warning: grid.isolated is false")
    assert "isolated = true" in err and err.count("\n") == 1

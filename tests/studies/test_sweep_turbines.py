"""Sweeps scale wind linearly: a value that gives part of a turbine is refused
at set-up, in one line naming the parameter, the value and the rating (issue 11)."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from sim.cli import main
from sim.errors import InputError
from sim.inputs.scenario import SweepSpec
from sim.studies.sweep import make_cases

WIND = "generators[wind].capacity_kw"  # the demo's 2,400 kW of E-53/800 (3 turbines)


def _with(sc, **spec):
    return sc.model_copy(update={"sweep": SweepSpec(**spec)})


def test_capacity_values(demo_scenario):
    ok = make_cases(_with(demo_scenario, parameters=[
        {"target": WIND, "values": [0, 1600, 8000]}]))
    assert ok.values.shape == (3, 1)
    with pytest.raises(InputError) as exc:
        make_cases(_with(demo_scenario, parameters=[
            {"name": "wkw", "target": WIND, "values": [1600, 2000]}]))
    assert str(exc.value).endswith(
        "sweep.parameters[0]: wkw = 2000 gives wind generator 'wind' 2.5 turbines "
        "of E-53/800 (800 kW each); expected whole turbines (values or a step of them)")


def test_scale_table_and_lhs(demo_scenario, tmp_path):
    with pytest.raises(InputError, match=r"= 1.5 gives wind generator 'wind' 4.5 turbines"):
        make_cases(_with(demo_scenario, parameters=[
            {"target": "generators[wind].scale", "values": [1, 1.5]}]))
    table = tmp_path / "cases.csv"
    table.write_text(f"case,{WIND}\na,3200\nb,3000\n")
    with pytest.raises(InputError, match=r"column .* row 3: .*= 3000 gives wind "
                       r"generator 'wind' 3.75 turbines"):
        make_cases(_with(demo_scenario, table=str(table)))
    # a continuous lhs range draws fractional turbines; a set of whole ones does not
    with pytest.raises(InputError, match="expected whole turbines"):
        make_cases(_with(demo_scenario, samples=5, parameters=[
            {"target": WIND, "start": 1600, "stop": 8000}]))
    cases = make_cases(_with(demo_scenario, samples=5, parameters=[
        {"target": WIND, "values": list(range(1600, 8001, 800))}]))
    assert (cases.values % 800 == 0).all()
    # product mode: a step of whole turbines
    cases = make_cases(_with(demo_scenario, parameters=[
        {"target": WIND, "start": 1600, "stop": 8000, "step": 800}]))
    assert cases.values.shape == (9, 1)


def test_cli_exit_2_nothing_written(tmp_path, capsys):
    from conftest import DEMO

    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["sweep"] = {"parameters": [{"target": WIND, "values": [2400, 2000]}]}
    toml = tmp_path / "s.toml"
    toml.write_text(tomli_w.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    rc = main(["sweep", str(toml), "--no-progress", "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "2000 gives wind generator 'wind' 2.5 turbines of E-53/800 (800 kW each)" in err
    assert not out.exists()

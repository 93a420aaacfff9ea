"""The 2030–2050 sensitivity study (sim.studies.future): projections, demand response,
supply over time, findings and the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.core.engine import calendar_index
from sim.errors import InputError
from sim.studies.future import future, load_projection, parse_years
from sim.report.future import summary_text
from sim.inputs.scenario import scenario_from_dict

YEAR = 2023
TOWN = "試験町"


@pytest.fixture(scope="module")
def weather():
    """A plain synthetic year: a daily sine of sun, mild temperature, steady wind."""
    index = calendar_index(YEAR)
    hour = index.hour.to_numpy() + 0.5
    sun = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None)
    ghi = 800 * sun
    return pd.DataFrame({"ghi": ghi, "dni": 0.6 * ghi, "dhi": 0.4 * ghi,
                         "temp_air": 20 + 5 * sun, "wind_speed": np.full(len(index), 5.0),
                         "pressure": np.full(len(index), 101325.0)}, index=index)


def _series(pop=(1000,) * 7, households=(500,) * 7, s65=(0.3,) * 7, years=range(2020, 2051, 5)):
    return [{"municipality": TOWN, "year": y, "population": p, "households": h,
             "share_65plus": s} for y, p, h, s in zip(years, pop, households, s65)]


def _scenario(future_section=None, *, generators=None, storage=None):
    data = {
        "region": {"name": "test", "municipality": TOWN, "prefecture": "鹿児島県",
                   "latitude": 27.4, "longitude": 128.6, "year": YEAR},
        "consumers": [
            {"id": "homes", "sector": "household", "count": 100, "annual_kwh": 400_000,
             "savings": 0.05},
            {"id": "shop", "sector": "commercial", "archetype": "commerce",
             "annual_kwh": 200_000},
            {"id": "school_a", "sector": "public", "archetype": "school",
             "annual_kwh": 80_000},
            {"id": "school_b", "sector": "public", "archetype": "school",
             "annual_kwh": 60_000},
        ],
        "generators": generators if generators is not None else [
            {"id": "pv_roof", "kind": "pv", "site": "homes", "capacity_kw": 150},
            {"id": "pv_farm", "kind": "pv", "capacity_kw": 200},
        ],
        "storage": storage if storage is not None else [
            {"id": "bat", "site": "community", "capacity_kwh": 300, "power_kw": 100}],
        "future": {"series": _series(), **(future_section or {})},
    }
    return scenario_from_dict(data)


NO_AGEING_OF_PLANTS = {"degradation": {"pv": 0.0, "battery": 0.0}, "replace": True}


def test_constant_population_reproduces_base_year(weather):
    sc = _scenario(NO_AGEING_OF_PLANTS)
    base = sim.simulate(sc, weather=weather)
    study = future(sc, weather=weather, years="2020:2050:10", use_evaluate=False)
    ds = study.dataset
    k = base.kpis
    for v in ds["variant"].values:
        d = ds.sel(variant=v)
        np.testing.assert_allclose(d["generated_kwh"], k["generation"], rtol=1e-9)
        np.testing.assert_allclose(d["delivered_kwh"], k["renewable_delivered"], rtol=1e-9)
        np.testing.assert_allclose(d["spill_kwh"], k["spill"], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(d["civil_demand_net_kwh"], k["demand"], rtol=1e-9)
        np.testing.assert_allclose(d["civil_demand_kwh"],
                                   base.annual["demand_gross"].sum(), rtol=1e-9)
        assert (d["daytime_shift"] == 0).all()


def test_halving_households_halves_household_demand(weather):
    hh = (500, 500, 250, 250, 250, 250, 250)  # 2030 on: half
    sc = _scenario({**NO_AGEING_OF_PLANTS, "series": _series(households=hh)})
    study = future(sc, weather=weather, years=[2025, 2030, 2040], variants=["reference"],
                   use_evaluate=False, keep_results=True)
    by_sector = study.dataset["civil_demand_by_sector_kwh"].sel(variant="reference")
    base_household = 400_000 * 0.95
    np.testing.assert_allclose(by_sector.sel(sector="household"),
                               [base_household, base_household / 2, base_household / 2],
                               rtol=1e-9)
    # population is constant: the other sectors do not move
    np.testing.assert_allclose(by_sector.sel(sector="commercial"), 200_000, rtol=1e-9)
    hourly = study.results[(2030, "reference")].hourly["demand"].sel(consumer="homes")
    base = study.results[(2025, "reference")].hourly["demand"].sel(consumer="homes")
    np.testing.assert_allclose(hourly, base / 2, rtol=1e-12)


def test_population_elasticities(weather):
    pop = (1000, 1000, 800, 800, 800, 800, 800)
    sc = _scenario({**NO_AGEING_OF_PLANTS, "series": _series(pop=pop),
                    "demand": {"commercial_elasticity": 1.0, "public_elasticity": 0.5},
                    "consumers": {"school_b": {"driver": "none"}}})
    study = future(sc, weather=weather, years=[2030], variants=["reference"],
                   use_evaluate=False, keep_results=True)
    a = study.results[(2030, "reference")].annual["demand"]
    assert a["shop"] == pytest.approx(200_000 * 0.8)
    assert a["school_a"] == pytest.approx(80_000 * 0.8 ** 0.5)
    assert a["school_b"] == pytest.approx(60_000)           # override: not projected
    assert a["homes"] == pytest.approx(400_000 * 0.95)      # households constant


def test_facility_closure_removes_exactly_its_demand(weather):
    closure = {"closures": [{"consumer": "school_b", "year": 2035}]}
    sc = _scenario({**NO_AGEING_OF_PLANTS, **closure})
    study = future(sc, weather=weather, years=[2030, 2035, 2050], variants=["reference"],
                   use_evaluate=False, keep_results=True)
    demand = study.dataset["civil_demand_net_kwh"].sel(variant="reference").values
    np.testing.assert_allclose(demand, [740_000 - 20_000, 720_000 - 60_000,
                                        720_000 - 60_000], rtol=1e-12)
    for y in (2035, 2050):
        a = study.results[(y, "reference")].annual["demand"]
        assert a["school_b"] == 0
        assert a["school_a"] == pytest.approx(80_000)
    assert study.results[(2030, "reference")].annual["demand"]["school_b"] == \
        pytest.approx(60_000)


def test_merger_moves_a_share_into_the_other_school(weather):
    closure = {"closures": [{"consumer": "school_b", "year": 2030, "into": "school_a",
                             "transfer": 0.5}]}
    sc = _scenario({**NO_AGEING_OF_PLANTS, **closure})
    study = future(sc, weather=weather, years=[2030], variants=["reference"],
                   use_evaluate=False, keep_results=True)
    res = study.results[(2030, "reference")]
    assert res.annual["demand"]["school_b"] == 0
    assert res.annual["demand"]["school_a"] == pytest.approx(80_000 + 30_000)
    # the moved users follow the merged school's timetable (its shape)
    base = sim.simulate(sc, weather=weather).hourly["demand"].sel(consumer="school_a")
    np.testing.assert_allclose(res.hourly["demand"].sel(consumer="school_a"),
                               base * 110 / 80, rtol=1e-12)


def test_partial_closure_and_over_closing(weather):
    sc = _scenario({**NO_AGEING_OF_PLANTS,
                    "closures": [{"consumer": "school_a", "year": 2030, "share": 0.25}]})
    study = future(sc, weather=weather, years=[2030], variants=["reference"],
                   use_evaluate=False, keep_results=True)
    assert study.results[(2030, "reference")].annual["demand"]["school_a"] == \
        pytest.approx(60_000)
    bad = _scenario({"closures": [{"consumer": "school_a", "year": 2030, "share": 0.7},
                                  {"consumer": "school_a", "year": 2040, "share": 0.7}]})
    with pytest.raises(InputError, match=r"future.closures\[1\].share"):
        future(bad, weather=weather, years=[2030], use_evaluate=False)


def test_degradation_compounds(weather):
    sc = _scenario({"degradation": {"pv": 0.01}, "replace": True, "lives": {"pv": 40}})
    base = sim.simulate(sc, weather=weather).kpis["generation"]
    study = future(sc, weather=weather, years=[2023, 2030, 2045], variants=["reference"],
                   use_evaluate=False)
    gen = study.dataset["generated_kwh"].sel(variant="reference").values
    np.testing.assert_allclose(gen, base * 0.99 ** np.array([0, 7, 22]), rtol=1e-12)


def test_battery_fade_and_retirement_and_replacement(weather):
    sc = _scenario({"degradation": {"pv": 0.0, "battery": 0.02},
                    "plants": {"pv_farm": {"life_years": 10},
                               "pv_roof": {"life_years": 10, "replace": True,
                                           "degradation_per_year": 0.01}}})
    study = future(sc, weather=weather, years=[2023, 2030, 2033, 2035],
                   variants=["reference"], use_evaluate=False, keep_results=True)
    gen = {y: study.results[(y, "reference")].hourly["generation"].sum("time")
           for y in (2023, 2030, 2033, 2035)}
    farm0, roof0 = float(gen[2023].sel(generator="pv_farm")), \
        float(gen[2023].sel(generator="pv_roof"))
    assert float(gen[2030].sel(generator="pv_farm")) == pytest.approx(farm0)
    assert float(gen[2033].sel(generator="pv_farm")) == 0          # retired at 10 years
    assert float(gen[2033].sel(generator="pv_roof")) == pytest.approx(roof0)  # renewed
    assert float(gen[2035].sel(generator="pv_roof")) == pytest.approx(roof0 * 0.99 ** 2)
    cap = study.dataset["battery_capacity_kwh"].sel(variant="reference").values
    np.testing.assert_allclose(cap[:2], 300 * 0.98 ** np.array([0, 7]))
    kinds = {(f["kind"], f["message"].split()[0]) for f in study.findings}
    assert ("retirement", "pv_farm") in kinds
    assert ("retirement", "pv_roof") not in kinds


def test_planned_addition_comes_in_its_year(weather):
    add = {"additions": [{"year": 2035, "generators": [
        {"id": "pv_new", "kind": "pv", "capacity_kw": 100}]}]}
    sc = _scenario({**NO_AGEING_OF_PLANTS, **add})
    study = future(sc, weather=weather, years=[2030, 2035], variants=["reference"],
                   use_evaluate=False)
    d = study.dataset.sel(variant="reference")
    assert d["capacity_in_service_kw"].values.tolist() == [350, 450]
    assert d["generated_kwh"].values[1] == pytest.approx(d["generated_kwh"].values[0]
                                                         * 450 / 350, rel=1e-9)


def test_ageing_shifts_household_demand_to_daytime(weather):
    s65 = (0.3, 0.3, 0.3, 0.35, 0.4, 0.4, 0.4)
    sc = _scenario({**NO_AGEING_OF_PLANTS, "series": _series(s65=s65)})
    study = future(sc, weather=weather, years=[2025, 2040], variants=["reference"],
                   use_evaluate=False, keep_results=True)
    shift = study.dataset["daytime_shift"].sel(variant="reference").values
    np.testing.assert_allclose(shift, [0.0, 0.1])
    before = study.results[(2025, "reference")].hourly["demand"].sel(consumer="homes")
    after = study.results[(2040, "reference")].hourly["demand"].sel(consumer="homes")
    assert float(after.sum()) == pytest.approx(float(before.sum()))   # same energy
    day = (before["time"].dt.hour >= 9) & (before["time"].dt.hour < 17)
    assert float(after[day].sum()) > float(before[day].sum())


def test_variants_scale_the_projected_change(weather):
    pop = (1000, 1000, 900, 900, 900, 800, 800)
    sc = _scenario({**NO_AGEING_OF_PLANTS, "series": _series(pop=pop),
                    "base_year": 2020})
    study = future(sc, weather=weather, years=[2020, 2050], use_evaluate=False)
    p = study.dataset["population"].sel(year=2050)
    assert float(p.sel(variant="reference")) == pytest.approx(800)
    assert float(p.sel(variant="harsher")) == pytest.approx(700)
    assert float(p.sel(variant="milder")) == pytest.approx(900)
    d = study.dataset["civil_demand_kwh"].sel(year=2050)
    assert float(d.sel(variant="harsher")) < float(d.sel(variant="reference")) < \
        float(d.sel(variant="milder"))


def test_findings_name_the_first_year(weather):
    # households fall to a fifth: the PV output is no longer used
    hh = (500, 500, 400, 300, 200, 150, 100)
    sc = _scenario({**NO_AGEING_OF_PLANTS, "series": _series(households=hh),
                    "thresholds": {"utilisation_min": 0.9, "spill_share_max": 0.1}})
    study = future(sc, weather=weather, years="2020:2050:5", variants=["reference"],
                   use_evaluate=False)
    kinds = {f["kind"]: f["year"] for f in study.findings}
    u = study.dataset["utilisation"].sel(variant="reference")
    first_low = int(u["year"][u < 0.9][0])
    assert kinds["utilisation"] == first_low
    text = summary_text(study)
    assert f"in {first_low}" in text and "Findings" in text


def test_shipped_projection_has_the_demo_towns():
    table = load_projection()
    for town in ("和泊町", "知名町", "壱岐市", "宮古島市"):
        s = table.loc[town]
        assert list(s.index) == list(range(2020, 2051, 5))
        assert (np.diff(s["population"]) < 0).all()
        # households fall slower than population
        assert s["households"].iloc[-1] / s["households"].iloc[0] > \
            s["population"].iloc[-1] / s["population"].iloc[0]
        assert (np.diff(s["share_65plus"]) > 0).all()


def test_bad_input_is_one_line(weather):
    sc = _scenario({"series": []})
    sc.region.municipality = "どこか町"
    with pytest.raises(InputError, match="no population projection for 'どこか町'"):
        future(sc, weather=weather, years=[2030], use_evaluate=False)
    with pytest.raises(InputError, match="outside"):
        future(_scenario(), weather=weather, years=[2060], use_evaluate=False)
    with pytest.raises(InputError, match="future.closures"):
        future(_scenario({"closures": [{"consumer": "nope", "year": 2030}]}),
               weather=weather, years=[2030], use_evaluate=False)
    with pytest.raises(InputError):
        parse_years("2050:2020")
    assert parse_years("2020:2050:10") == [2020, 2030, 2040, 2050]


def test_cli_writes_dataset_summary_and_report(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "fut"
    rc = main(["future", "scenarios/island_demo.toml", "-o", str(out), "--years",
               "2030:2050:10", "--variants", "reference,harsher"])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"future.nc", "future.csv", "summary.txt", "findings.json",
            "demand_supply.png", "utilisation.png", "report.html"} <= names
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2
    import xarray as xr

    with xr.open_dataset(out / "future.nc", engine="h5netcdf") as ds:
        assert dict(ds.sizes)["year"] == 3 and list(ds["variant"].values) == \
            ["reference", "harsher"]
        try:
            import sim.programme.evaluate  # noqa: F401  (issue 3: the programme's figures)
        except ImportError:
            pass
        else:
            assert np.isfinite(ds["co2_reduction_t"].sel(year=2030)).all()
            assert np.isfinite(ds["self_consumption_rate"].sel(year=2030)).all()
    assert sim.future is future  # the public API: sim.future(scenario, ...)
    assert "Findings" in capsys.readouterr().out
    rc = main(["future", "scenarios/island_demo.toml", "-o", str(tmp_path / "x"),
               "--years", "1990:2000"])
    assert rc == 2 and not (tmp_path / "x").exists()

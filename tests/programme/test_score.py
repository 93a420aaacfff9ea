"""The score sheet (sim.programme.score) and ``gxsim score``."""

import json

import pytest

import sim
from sim.programme import score
from sim.cli import main
from sim.errors import InputError
from sim.report.score import sheet_text
from sim.studies.future import future_study
from programme.test_evaluate import pv_island
from programme.helpers import scenario


def test_rubric_adds_up_to_the_programmes_points():
    """Seven requirements (30+20+20+15+15+15+15 = 130) + committee 25 = 155."""
    r = score.load_rubric()
    pts = {c["id"]: c["points"] for c in r["criteria"]}
    assert pts == {"1": 30, "2": 20, "3": 20, "4": 15, "5": 15, "6": 15, "7": 15,
                   "committee": 25}
    assert "illustration" in r["label"]


def test_computed_and_declared_items():
    """PV island: the scored (4) item is the scale of the discounted demand (問24/25):
    8,760 kWh < 1,000,000 → 0 points; there is no balance item among the points;
    declared 1 = 20 shows as declared."""
    res = pv_island()
    sc = res.scenario.model_copy(update={"score": res.scenario.score.model_copy(
        update={"declared": {"1": 20}})})
    items = {i.item: i for i in score.score_sheet(sim.evaluate(res), sc)}
    assert items["4.scale"].value == pytest.approx(8_760) and items["4.scale"].points == 0
    assert "4.balance" not in items and "4.island_hourly" not in items
    assert items["1"].kind == "declared" and items["1"].points == 20
    assert items["2"].points == 0 and "not declared" in items["2"].basis


def test_requirements_are_pass_fail_apart_from_points():
    """scoring (4)① 確認事項 (問7: first-stage pass/fail). PV island: annual
    (10,220 + 0) / 8,760 = 1.17 → PASS; 問46 hourly 2,920 / 8,760 = 0.33 → FAIL;
    no grant breach → PASS. The same plant on a grid that is not isolated: the
    island line is n/a. No civil demand: cannot tell, never PASS."""
    res = pv_island()
    req = {r.item: r for r in score.requirements(sim.evaluate(res), res.scenario)}
    assert req["4.balance"].verdict == "PASS"
    assert req["4.balance"].value == pytest.approx(10_220 / 8_760)
    assert req["4.island_hourly"].verdict == "FAIL"
    assert req["4.island_hourly"].value == pytest.approx(2_920 / 8_760)
    assert req["26.grant_municipality"].verdict == "PASS"
    mainland = res.scenario.model_copy(update={"grid": res.scenario.grid.model_copy(
        update={"isolated": False})})
    req = {r.item: r for r in score.requirements(sim.evaluate(res), mainland)}
    assert req["4.island_hourly"].verdict == "n/a"
    empty = {r.item: r for r in score.requirements(sim.Evaluation(), mainland)}
    assert empty["4.balance"].verdict == "cannot tell"
    text = sheet_text(sim.evaluate(res), res.scenario,
                      score.score_sheet(sim.evaluate(res), res.scenario),
                      score.load_rubric())
    assert "Requirements (確認事項" in text and "FAIL        4.island_hourly" in text


@pytest.mark.parametrize("declared, words", [({"9": 1}, "expected a judgement item id"),
                                              ({"1": 31}, "at most 30"),
                                              ({"3.payback": 2}, "judgement item")])
def test_bad_declared_points(declared, words):
    sc = scenario([{"id": "A"}], score={"declared": declared})
    ev = sim.Evaluation()
    with pytest.raises(InputError, match=words):
        score.score_sheet(ev, sc)


def test_step_points():
    assert score._step_points(0.6, [[0.3, 1], [0.5, 2], [0.7, 3]], "higher") == 2
    assert score._step_points(30_000, [[100_000, 1], [50_000, 2]], "lower") == 2
    assert score._step_points(None, [[1, 1]], "higher") == 0
    assert score._step_points(True, [[1, 2]], "higher") == 2


def test_gxsim_score_on_the_demo(tmp_path, capsys):
    """`gxsim score scenarios/island_demo.toml -o DIR` prints the sheet and writes it."""
    from conftest import DEMO

    out = tmp_path / "score"
    assert main(["score", str(DEMO), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "自家消費率" in printed and "Total:" in printed and "declared" in printed
    assert "2030–2050 study" in printed and "variant harsher" in printed
    data = json.loads((out / "score.json").read_text(encoding="utf-8"))
    assert data["max_points"] == 155
    req = {r["item"]: r["verdict"] for r in data["requirements"]}
    # the demo balances on annual netting, not hour by hour (問46); 問26 ※1 respected
    assert req == {"4.balance": "PASS", "4.island_hourly": "FAIL",
                   "26.grant_municipality": "PASS"}
    assert data["future"]["computed"] and data["future"]["years"] == [2040, 2050]
    items = {i["item"]: i for i in data["items"]}
    assert 0 < items["7.utilisation"]["value"] < 1
    ev = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert ev["evaluated_demand_kwh"] == pytest.approx(26.5e6)
    assert {"projects.csv", "ledger.csv", "generators.csv", "score.txt"} <= {
        p.name for p in out.iterdir()}


def test_gxsim_score_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[region]\nname="x"\nmunicipality="A"\nprefecture="P"\nlatitude=30\n'
                   'longitude=130\nyear=2023\n[accounting]\nemission_factor_kg_per_kwh=700\n'
                   '[[consumers]]\nid="a"\nsector="household"\nannual_kwh=1\n',
                   encoding="utf-8")
    assert main(["score", str(bad), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "g-CO2/kWh" in err
    assert not (tmp_path / "o").exists()


# -- criterion (7): figures of the 2030–2050 study (sim.studies.future, 問37) ---------------

TOWN = "採点町"


def future_scenario():
    """A small town whose population halves 2020→2050 (households −40 %, 65+ share
    rising): households, a shop and a school on 120 kW of PV with a battery."""
    from sim.inputs.scenario import scenario_from_dict

    years = range(2020, 2051, 5)
    series = [{"municipality": TOWN, "year": y, "population": p, "households": h,
               "share_65plus": s}
              for y, p, h, s in zip(years, (1000, 950, 880, 800, 720, 630, 500),
                                    (500, 490, 470, 440, 400, 360, 300),
                                    (0.30, 0.32, 0.34, 0.36, 0.38, 0.40, 0.42))]
    return scenario_from_dict({
        "region": {"name": "score test", "municipality": TOWN, "prefecture": "P県",
                   "latitude": 33.0, "longitude": 130.0, "year": 2023},
        "grid": {"isolated": True},
        "consumers": [
            {"id": "homes", "sector": "household", "count": 50, "annual_kwh": 200_000,
             "savings": 0.05},
            {"id": "shop", "sector": "commercial", "archetype": "commerce",
             "annual_kwh": 100_000},
            {"id": "school", "sector": "public", "archetype": "school", "annual_kwh": 40_000}],
        "generators": [{"id": "pv", "kind": "pv", "capacity_kw": 120}],
        "storage": [{"id": "bat", "site": "community", "capacity_kwh": 200, "power_kw": 60}],
        "future": {"series": series, "replace": True},
        "accounting": {"emission_factor_kg_per_kwh": 0.5,
                       "emission_factor_source": "test figure"},
    })


@pytest.fixture(scope="module")
def future_case():
    """(scenario, weather, evaluation, rubric, study run by the score sheet)."""
    from core.test_engine import flat_weather

    sc = future_scenario()
    w = flat_weather(2023)
    ev = sim.evaluate(sim.simulate(sc, weather=w))
    rubric = score.load_rubric()
    return sc, w, ev, rubric, future_study(sc, rubric, weather=w)


def test_rubric_criterion_7_has_computed_future_items_and_a_judgement():
    """(7) = 4 (utilisation) + 4 (hourly balance 2050) + 7 (judgement) = 15; the
    study needs the harsher variant in 2040 and 2050 only."""
    r = score.load_rubric()
    (c7,) = [c for c in r["criteria"] if c["id"] == "7"]
    items = {it["id"]: it for it in c7["items"]}
    assert sum(it["points"] for it in items.values()) == 15
    assert items["7.utilisation"]["metric"] == "future.utilisation"
    assert items["7.balance"]["metric"] == "future.balance_hourly_ratio"
    assert items["7.vision"]["kind"] == "declared"
    assert {it["variant"] for it in items.values() if "variant" in it} == {"harsher"}
    assert score.future_request(r) == ([2040, 2050], ["harsher"])


def test_future_items_are_the_studys_figures(future_case):
    """The sheet's (7) values are the FutureStudy's dataset: utilisation = the worst
    (lowest) of 2040 and 2050 under harsher, balance = hourly ratio 2050 harsher;
    the points follow the rubric steps. The study simulated only those cells, and
    they equal a full study's."""
    sc, w, ev, rubric, study = future_case
    ds = study.dataset
    assert list(ds["year"].values) == [2040, 2050]
    assert list(ds["variant"].values) == ["harsher"]
    items = {i.item: i for i in score.score_sheet(ev, sc, rubric, future=study)}
    h = ds.sel(variant="harsher")
    util = min(float(h["utilisation"].sel(year=2040)), float(h["utilisation"].sel(year=2050)))
    bal = float(h["balance_hourly_ratio"].sel(year=2050))
    assert 0 < util < 1 and 0 < bal
    assert items["7.utilisation"].value == pytest.approx(util)
    assert items["7.balance"].value == pytest.approx(bal)
    for key in ("7.utilisation", "7.balance"):
        it = [x for c in rubric["criteria"] for x in c["items"] if x["id"] == key][0]
        assert items[key].points == score._step_points(items[key].value, it["steps"], "higher")
        assert items[key].kind == "computed" and "harsher" in items[key].basis
    assert items["7.vision"].kind == "declared" and items["7.vision"].max_points == 7
    full = sim.future(sc, variants=["harsher"], weather=w).dataset.sel(variant="harsher")
    assert float(full["utilisation"].sel(year=2050)) == pytest.approx(
        float(h["utilisation"].sel(year=2050)))
    assert float(full["balance_hourly_ratio"].sel(year=2050)) == pytest.approx(bal)
    # decline makes plants idle: utilisation is lower in 2050 than in the base year
    assert float(full["utilisation"].isel(year=0)) > items["7.utilisation"].value


def test_future_items_without_a_study_are_not_computed(future_case):
    sc, _, ev, rubric, _ = future_case
    items = {i.item: i for i in score.score_sheet(ev, sc, rubric,
                                                  future_note="skipped: --no-future")}
    for key in ("7.utilisation", "7.balance"):
        assert items[key].value is None and items[key].points == 0
        assert items[key].basis.startswith("not computed (skipped: --no-future)")
    assert sum(i.max_points for i in items.values()) == 155
    text = sheet_text(ev, sc, list(items.values()), rubric,
                            future_note="skipped: --no-future")
    assert "2030–2050 study" in text and "not computed (skipped: --no-future)" in text


def test_sheet_prints_the_study_years_and_variant(future_case):
    sc, _, ev, rubric, study = future_case
    items = score.score_sheet(ev, sc, rubric, future=study)
    text = sheet_text(ev, sc, items, rubric, future=study)
    assert "variant harsher (factor 1.5" in text and "years 2040, 2050" in text
    assert "[harsher] 2050: utilisation" in text


def test_a_study_without_the_needed_year_is_refused(future_case):
    sc, w, ev, rubric, _ = future_case
    short = sim.future(sc, years=[2040], variants=["harsher"], weather=w)
    with pytest.raises(InputError, match="the item needs harsher in 2040, 2050"):
        score.score_sheet(ev, sc, rubric, future=short)


@pytest.mark.parametrize("change, words", [({"metric": "future.nonsense"}, "future.<variable>"),
                                           ({"variant": "worst"}, "expected variant"),
                                           ({"years": 2050}, "list of study years")])
def test_bad_future_item(tmp_path, change, words):
    item = {"id": "7.x", "kind": "computed", "metric": "future.utilisation",
            "better": "higher", "points": 15, "steps": [[0.5, 15]], **change}
    lines = ['[[criteria]]', 'id = "7"', 'points = 15', '  [[criteria.items]]']
    for k, v in item.items():
        lines.append(f"  {k} = {json.dumps(v)}")
    path = tmp_path / "r.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=words):
        score.load_rubric(path)


def test_gxsim_score_no_future(tmp_path, capsys):
    """`gxsim score --no-future` skips the study: (7)'s computed items score 0 and say
    why; score.json records it."""
    from conftest import DEMO

    out = tmp_path / "score"
    assert main(["score", str(DEMO), "-o", str(out), "--no-future"]) == 0
    printed = capsys.readouterr().out
    assert "not computed (skipped: --no-future)" in printed
    data = json.loads((out / "score.json").read_text(encoding="utf-8"))
    assert data["future"] == {"computed": False, "years": [2040, 2050],
                              "variants": ["harsher"], "note": "skipped: --no-future"}
    items = {i["item"]: i for i in data["items"]}
    assert items["7.utilisation"]["points"] == 0 and items["7.utilisation"]["value"] is None
    assert data["max_points"] == 155
    req = {r["item"]: r["verdict"] for r in data["requirements"]}
    # the demo balances on annual netting, not hour by hour (問46); 問26 ※1 respected
    assert req == {"4.balance": "PASS", "4.island_hourly": "FAIL",
                   "26.grant_municipality": "PASS"}

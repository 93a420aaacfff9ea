"""The score sheet (sim.score) and ``gxsim score``."""

import json

import pytest

import sim
from sim import score
from sim.cli import main
from sim.errors import InputError
from test_evaluate import pv_island
from test_accounting import scenario


def test_rubric_adds_up_to_the_programmes_points():
    """Seven requirements (30+20+20+15+15+15+15 = 130) + committee 25 = 155."""
    r = score.load_rubric()
    pts = {c["id"]: c["points"] for c in r["criteria"]}
    assert pts == {"1": 30, "2": 20, "3": 20, "4": 15, "5": 15, "6": 15, "7": 15,
                   "committee": 25}
    assert "illustration" in r["label"]


def test_computed_and_declared_items():
    """PV island: hourly coverage 2,920 / 8,760 = 0.33 → 4.balance 0 points (island:
    hourly basis); declared 1 = 20 shows as declared."""
    res = pv_island()
    sc = res.scenario.model_copy(update={"score": res.scenario.score.model_copy(
        update={"declared": {"1": 20}})})
    items = {i.item: i for i in score.score_sheet(sim.evaluate(res), sc)}
    assert items["4.balance"].value == pytest.approx(1 / 3) and items["4.balance"].points == 0
    assert items["1"].kind == "declared" and items["1"].points == 20
    assert items["2"].points == 0 and "not declared" in items["2"].basis


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
    data = json.loads((out / "score.json").read_text(encoding="utf-8"))
    assert data["max_points"] == 155
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

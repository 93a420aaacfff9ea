"""The programme's rules (sim.programme.rules) row by row, and the schema's one-line errors."""

import pytest

from sim.programme import rules
from sim.errors import InputError
from sim.inputs.scenario import Consumer, scenario_from_dict
from core.test_accounting import REGION, scenario


def consumer(**kw):
    return Consumer(**dict({"id": "c", "sector": "household", "annual_kwh": 1.0}, **kw))


@pytest.mark.parametrize("kw, weight", [
    ({}, 1.0),                                                          # main area
    ({"sector": "public", "owner": "public", "area": "added"}, 0.5),    # 問24 public
    ({"sector": "public", "owner": "municipal", "area": "added"}, 0.5),
    ({"sector": "commercial", "area": "added"}, 0.75),                  # 問24 private
    ({"sector": "commercial", "area": "added", "model_case": True}, 1.0),  # model case
    ({"sector": "public", "owner": "public", "area": "added", "model_case": True}, 0.5),
    ({"sector": "waste_plant", "owner": "municipal"}, 0.0),             # 問25 municipal
    ({"sector": "waste_plant", "owner": "municipal", "area": "added"}, 0.0),
    ({"sector": "waste_plant", "owner": "private"}, 1.0),               # 問25 private
    ({"sector": "waste_plant", "owner": "private", "area": "added"}, 0.75),
    ({"sector": "industry"}, 0.0),                                      # not civil
])
def test_demand_weight(kw, weight):
    """問24: added public ×0.5, private ×0.75, private model case ×1.0;
    問25: municipal waste plant ×0 inside or outside, private ×1.0 (its added-area
    weight still applies)."""
    assert rules.demand_weight(consumer(**kw)) == weight


def gen(**kw):
    sc = scenario([{"id": "A"}], [dict({"id": "g"}, **kw)])
    return sc.generators[0], sc.region


@pytest.mark.parametrize("kw, expected", [
    ({}, (1, 0, 0)),
    ({"support": "fit", "environmental_value": True}, (1, 0, 0)),     # 問27 value bought back
    ({"support": "fit", "environmental_value": False}, (0, 0, 1)),    # 問27 not counted
    ({"support": "fip", "environmental_value": True}, (1, 0, 0)),     # 問27 FIP with value
    ({"support": "fip", "environmental_value": False}, (0, 0, 1)),
    ({"kind": "waste", "biomass_ratio": 0.6}, (0.6, 0.4, 0)),         # 問31 split
    ({"kind": "waste", "biomass_ratio": 0.6, "support": "fit",
      "environmental_value": False}, (0, 0, 1)),
])
def test_counting(kw, expected):
    """FIT/FIP count only with the environmental value; waste: biomass ratio is
    renewable, the plastic rest renewable-equivalent."""
    g, _ = gen(**kw)
    c = rules.counting(g)
    assert (c.renewable, c.equivalent, c.not_counted) == pytest.approx(expected)


@pytest.mark.parametrize("kw, share", [
    ({}, 1.0), ({"status": "existing"}, 0.0),
    ({"status": "repowered", "capacity_kw": 1600, "existing_kw": 1000}, 0.375),  # 600/1600
])
def test_additional_share(kw, share):
    """問42: only the increase of a repowered plant is new."""
    g, _ = gen(**kw)
    assert rules.additional_share(g) == pytest.approx(share)


@pytest.mark.parametrize("region, kw, local", [
    ({}, {}, True),                                            # the proposer's own
    ({"co_proposers": ["B村"]}, {"municipality": "B村"}, True),  # ① co-proposer
    ({}, {"municipality": "B村"}, False),                      # elsewhere
    ({"co_proposers": ["B村"]}, {"municipality": "B村", "owner": "prefecture"}, True),  # ②
    ({}, {"municipality": "C市", "owner": "prefecture"}, False),  # ② outside proposers
    ({"prefecture_led": True}, {"municipality": "C市"}, True),   # ③ prefecture-led
    ({"prefecture_led": True}, {"municipality": "C市", "prefecture": "Q県"}, False),
])
def test_local_scope(region, kw, local):
    """問26: proposer and co-proposers; prefecture plants where they sit; a
    prefecture-led plan counts the whole prefecture."""
    sc = scenario([{"id": "A"}], [dict({"id": "g"}, **kw)], region=region)
    assert rules.is_local(sc.generators[0], sc.region) is local


def test_emission_factor_defaults_and_input():
    """Default 0.496 on an island grid, 0.438 elsewhere (Kyushu Electric FY2017)."""
    assert rules.emission_factor(scenario([{"id": "A"}], grid={"isolated": True}))[0] == 0.496
    assert rules.emission_factor(scenario([{"id": "A"}]))[0] == 0.438
    sc = scenario([{"id": "A"}], accounting={"emission_factor_kg_per_kwh": 0.7})
    assert rules.emission_factor(sc) == (0.7, "scenario [accounting]")


@pytest.mark.parametrize("patch, field, words", [
    ({"generators": [{"id": "w", "kind": "waste", "capacity_kw": 1, "biomass_ratio": 1.2}]},
     "generators[0].biomass_ratio", "less than or equal to 1"),
    ({"generators": [{"id": "w", "kind": "pv", "capacity_kw": 900, "status": "repowered",
                      "existing_kw": 1000}]}, "generators[0]", "larger than before"),
    ({"generators": [{"id": "f", "kind": "pv", "capacity_kw": 9, "support": "fit"}]},
     "generators[0]", "environmental_value"),
    ({"accounting": {"emission_factor_kg_per_kwh": 700}},
     "accounting.emission_factor_kg_per_kwh", "g-CO2/kWh; write 0.7"),
    ({"accounting": {"emission_factor_kg_per_kwh": 0.000496}},
     "accounting.emission_factor_kg_per_kwh", "t-CO2/kWh; write 0.496"),
    ({"accounting": {"emission_factor_g_per_kwh": 496}}, "accounting.emission_factor_g_per_kwh",
     "unknown field"),
    ({"finance": {"grant_rate": 66}}, "finance.grant_rate", "less than or equal to 1"),
])
def test_bad_inputs_give_one_line_errors(patch, field, words):
    """Biomass ratio outside 0–1, a repowered plant not larger than before, FIT
    without the value flag, an emission factor in g or t per kWh."""
    data = {"region": REGION, "consumers": [{"id": "A", "sector": "household",
                                             "annual_kwh": 1}], **patch}
    with pytest.raises(InputError) as exc:
        scenario_from_dict(data, source="x.toml")
    msg = str(exc.value)
    assert "\n" not in msg and field in msg and words in msg, msg

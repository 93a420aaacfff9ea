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
    ({"sector": "waste_plant", "owner": "prefecture"}, 0.0),            # 問25 any 地方公共団体
    ({"sector": "waste_plant", "owner": "association"}, 0.0),           # 一部事務組合
    ({"sector": "waste_plant", "owner": "public"}, 1.0),                # not a local government
    ({"sector": "public", "owner": "prefecture", "area": "added"}, 0.5),   # 問24 public
    ({"sector": "public", "owner": "association", "area": "added"}, 0.5),
    ({"sector": "industry"}, 0.0),                                      # not civil
])
def test_demand_weight(kw, weight):
    """問24: added public ×0.5, private ×0.75, private model case ×1.0;
    問25 「地方公共団体が所有する廃棄物処理施設の自家消費量は…100%割り引いて」: a waste
    plant of any local government (municipal 市区町村, prefecture 都道府県,
    association 一部事務組合) ×0 inside or outside, private ×1.0 (its added-area
    weight still applies); 'public' (another public body) is not a 地方公共団体."""
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


REPOWER = {"status": "repowered", "existing_kw": 200,
           "existing_output_kwh_per_year": 1_226_400, "existing_output_source": "test"}


@pytest.mark.parametrize("kw, generated, capacity, energy", [
    ({"capacity_kw": 200}, 1000.0, (200, 0), (1000, 0)),                 # new: all
    ({"capacity_kw": 200, "status": "existing"}, 1000.0, (0, 200), (0, 1000)),
    # 問42, the case 1: 200 kW kept, output 1,226,400 → 1,664,400 kWh/yr:
    # capacity +0 kW; output +1,664,400 − 1,226,400 = 438,000 kWh additional
    (dict(REPOWER, capacity_kw=200), 1_664_400, (0, 200), (438_000, 1_226_400)),
    # case 2: 200 → 300 kW, output 2,496,600: +100 kW; +2,496,600 − 1,226,400 =
    # 1,270,200 kWh (not the capacity share 2,496,600 × 100/300 = 832,200)
    (dict(REPOWER, capacity_kw=300), 2_496_600, (100, 200), (1_270_200, 1_226_400)),
    # output kept or reduced earns nothing (発電量が維持・縮小するものは評価せず)
    (dict(REPOWER, capacity_kw=300), 1_200_000, (100, 200), (0, 1_200_000)),
])
def test_additional_capacity_and_energy(kw, generated, capacity, energy):
    """問42: 「設備能力（kW）及び発電量（kWh/年）欄については既存設備からの増加分のみ」;
    the remainder is listed as existing (既存)."""
    g, _ = gen(**kw)
    assert rules.additional_capacity(g) == pytest.approx(capacity)
    assert rules.additional_energy(g, generated) == pytest.approx(energy)


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


def test_emission_factor_from_the_table_or_the_scenario():
    """問28: the factor and its source. 鹿児島県 on an isolated grid → Kyushu Electric's
    island supply; latest fiscal year <= 2023 in the table is FY2018: 0.462 (the
    national average it applies, basic = adjusted). FY2017 explicitly: 0.496.
    Mainland 鹿児島県 FY2017 basic 0.438, adjusted 0.463 (kyuden.co.jp notice)."""
    kagoshima = {"prefecture": "鹿児島県"}
    sc = scenario([{"id": "A"}], grid={"isolated": True}, region=kagoshima)
    value, source = rules.emission_factor(sc)
    assert value == 0.462 and "FY2018" in source and "kyuden.co.jp" in source
    sc = scenario([{"id": "A"}], grid={"isolated": True}, region=kagoshima,
                  accounting={"emission_factor_fiscal_year": 2017})
    assert rules.emission_factor(sc)[0] == 0.496
    for kind, expected in (("basic", 0.438), ("adjusted", 0.463)):
        sc = scenario([{"id": "A"}], region=kagoshima, accounting={
            "emission_factor_area": "kyushu", "emission_factor_fiscal_year": 2017,
            "emission_factor_kind": kind})
        assert rules.emission_factor(sc)[0] == expected
    sc = scenario([{"id": "A"}], accounting={"emission_factor_kg_per_kwh": 0.7,
                                            "emission_factor_source": "沖縄電力 FY2022"})
    assert rules.emission_factor(sc) == (0.7, "scenario: 沖縄電力 FY2022")


def test_no_sourced_factor_is_a_one_line_error():
    """A prefecture with no row (P県), or a fiscal year not in the table: the
    scenario must state the factor (never an unsourced number)."""
    with pytest.raises(InputError, match="emission_factor_source") as exc:
        rules.emission_factor(scenario([{"id": "A"}]))
    assert "\n" not in str(exc.value)
    sc = scenario([{"id": "A"}], region={"prefecture": "鹿児島県"},
                  accounting={"emission_factor_fiscal_year": 2010})
    with pytest.raises(InputError, match="FY2010"):
        rules.emission_factor(sc)


@pytest.mark.parametrize("region, gen_town, cons_town, allowed", [
    ({}, None, None, True),                              # both in the proposer's town
    ({"co_proposers": ["B村"]}, "B村", None, False),     # ※1: a co-proposer's plant, A町 consumer
    ({"co_proposers": ["B村"]}, "B村", "B村", True),
    ({"prefecture_led": True}, "B村", None, True),       # prefecture-led: same prefecture
])
def test_grant_supply_allowed(region, gen_town, cons_town, allowed):
    """問26 ※1: 「供給先を当該再エネ発電設備と同一市区町村内の…需要家（…提案者が都道府県の
    場合は同一都道府県内…）に限定」."""
    sc = scenario([{"id": "A", "municipality": cons_town}],
                  [{"id": "g", "municipality": gen_town}], region=region)
    assert rules.grant_supply_allowed(sc.generators[0], sc.consumers[0], sc.region) is allowed


def test_grant_funded_follows_the_finance_section():
    """A new or repowered plant with a grant rate > 0 is grant-funded; 0 is not;
    an existing plant never."""
    sc = scenario([{"id": "A"}], [{"id": "g"}, {"id": "h"}, {"id": "e", "status": "existing"}],
                  finance={"grant_rates": {"h": 0.0}})
    assert [rules.is_grant_funded(g, sc.finance) for g in sc.generators] == \
        [True, False, False]


@pytest.mark.parametrize("patch, field, words", [
    ({"generators": [{"id": "w", "kind": "waste", "capacity_kw": 1, "biomass_ratio": 1.2}]},
     "generators[0].biomass_ratio", "less than or equal to 1"),
    ({"generators": [{"id": "w", "kind": "pv", "capacity_kw": 900, "status": "repowered",
                      "existing_kw": 1000}]}, "generators[0]", "existing_output_kwh_per_year"),
    ({"generators": [{"id": "w", "kind": "pv", "capacity_kw": 900, "status": "repowered",
                      "existing_kw": 1000, "existing_output_kwh_per_year": 9e5}]},
     "generators[0]", "existing_output_source"),
    ({"accounting": {"emission_factor_kg_per_kwh": 0.5}},
     "accounting", "emission_factor_source"),
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
    """Biomass ratio outside 0–1, a repowered plant without its output before (問42), a
    factor without its source (問28), FIT
    without the value flag, an emission factor in g or t per kWh."""
    data = {"region": REGION, "consumers": [{"id": "A", "sector": "household",
                                             "annual_kwh": 1}], **patch}
    with pytest.raises(InputError) as exc:
        scenario_from_dict(data, source="x.toml")
    msg = str(exc.value)
    assert "\n" not in msg and field in msg and words in msg, msg


def test_emission_factor_table_is_sourced():
    """profiles/emission_factors: every row names its supplier's notice (問28: 出典),
    fiscal year, status, and factors in kg-CO2/kWh (0 < x < 2); the README beside it
    states the source and the licence."""
    import pandas as pd

    table = pd.read_csv(rules.EMISSION_FACTORS)
    assert len(table) >= 4 and not table.isna().any().any()
    assert table["source"].str.contains("https://").all()
    assert set(table["status"]) <= {"published", "reported"}
    for col in ("basic_kg_per_kwh", "adjusted_kg_per_kwh"):
        assert ((table[col] > 0) & (table[col] < 2)).all()
    assert not table.duplicated(["area", "fiscal_year"]).any()
    areas = pd.read_csv(rules.EMISSION_AREAS)
    assert set(areas["area"]) <= set(table["area"])
    readme = (rules.EMISSION_FACTORS.parent / "README.md").read_text(encoding="utf-8")
    assert "電気事業者別排出係数" in readme and "Licence" in readme

"""Scenario files: validation and one-line errors naming file and field."""

import copy

import pytest

import sim
from conftest import ROOT
from sim.inputs.scenario import scenario_from_dict

BASE = {
    "region": {"name": "t", "municipality": "A町", "prefecture": "P県", "latitude": 30.0,
               "longitude": 130.0, "year": 2023},
    "consumers": [{"id": "homes", "sector": "household", "count": 3, "annual_kwh": 12000.0}],
    "generators": [{"id": "pv", "kind": "pv", "capacity_kw": 5.0, "site": "homes"},
                   {"id": "w", "kind": "waste", "capacity_kw": 100.0, "biomass_ratio": 0.6}],
    "storage": [{"id": "b", "site": "homes", "capacity_kwh": 10.0, "power_kw": 5.0}],
}


def test_demo_scenario_loads(demo_scenario):
    assert demo_scenario.region.year == 2023
    assert demo_scenario.path.name == "island_demo.toml"
    ids = [c.id for c in demo_scenario.consumers]
    assert "agri_processing" in ids
    industry = demo_scenario.consumers[ids.index("agri_processing")]
    assert not industry.is_civil and industry.shape == "flat"


def test_defaults_follow_sector():
    sc = scenario_from_dict(BASE)
    homes = sc.consumers[0]
    assert homes.is_civil and homes.shape == "household"
    assert sc.local_municipalities == {"A町"}


MISTAKES = [
    ("negative capacity", lambda d: d["generators"][0].update(capacity_kw=-5),
     "generators[0].capacity_kw", "greater than 0"),
    ("unit in the wrong field", lambda d: d["generators"][0].update(capacity_mw=1),
     "generators[0].capacity_mw", "kW"),
    ("a number with a unit", lambda d: d["generators"][0].update(capacity_kw="5 MW"),
     "generators[0].capacity_kw", "plain number"),
    ("field of another kind", lambda d: d["generators"][0].update(hub_height_m=80),
     "generators[0].hub_height_m", "unknown field"),
    ("generator on a missing consumer", lambda d: d["generators"][0].update(site="home"),
     "generators[0].site", "did you mean 'homes'"),
    ("battery on a missing consumer", lambda d: d["storage"][0].update(site="x"),
     "storage[0].site", "community"),
    ("unknown kind", lambda d: d["generators"][0].update(kind="solar"),
     "generators[0]", "got 'solar'"),
    ("misspelt field", lambda d: d["consumers"][0].update(anual_kwh=1.0),
     "consumers[0].anual_kwh", "did you mean 'annual_kwh'"),
    ("no demand source", lambda d: d["consumers"][0].pop("annual_kwh"),
     "consumers[0]", "annual_kwh or meter_file"),
    ("duplicate id", lambda d: d["consumers"].append(dict(d["consumers"][0])),
     "consumers[1].id", "appears twice"),
    ("unknown time zone", lambda d: d["region"].update(timezone="Tokyo"),
     "region.timezone", "IANA"),
    ("missing year", lambda d: d["region"].pop("year"), "region.year", "missing"),
    ("latitude outside the Earth", lambda d: d["region"].update(latitude=95.0),
     "region.latitude", "less than or equal to 90"),
    ("latitude and longitude swapped",
     lambda d: d["region"].update(latitude=-79.95, longitude=36.1, timezone="Etc/GMT+5"),
     "region", "look swapped"),
    ("longitude far from the time zone",
     lambda d: d["region"].update(longitude=-79.95),
     "region", "from the meridian of time zone Asia/Tokyo"),
    ("biomass ratio as percent", lambda d: d["generators"][1].update(biomass_ratio=60),
     "generators[1].biomass_ratio", "less than or equal to 1"),
    ("FIT without the value flag", lambda d: d["generators"][0].update(support="fit"),
     "generators[0]", "environmental_value"),
    ("repowered without existing capacity",
     lambda d: d["generators"][0].update(status="repowered"), "generators[0]", "existing_kw"),
    ("savings of 100 %", lambda d: d["consumers"][0].update(savings=1.0),
     "consumers[0].savings", "less than 1"),
    ("unknown section", lambda d: d.update(weathr={}), "weathr", "did you mean 'weather'"),
    ("wrong sector", lambda d: d["consumers"][0].update(sector="farm"),
     "consumers[0].sector", "household"),
    ("a waste schedule of 5 days",
     lambda d: d["generators"][1].update(weekly_schedule=[1, 1, 1, 1, 1]),
     "generators[1].weekly_schedule", "7 daily"),
]


@pytest.mark.parametrize("name, mutate, field, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistakes_give_one_line_errors(name, mutate, field, words):
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(sim.InputError) as info:
        scenario_from_dict(data, source="bad.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"bad.toml: {field}: "), message
    assert words in message


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(sim.InputError, match="missing.toml: file not found"):
        sim.load_scenario(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[region\nname = 1", encoding="utf-8")
    with pytest.raises(sim.InputError, match="bad.toml: not valid TOML"):
        sim.load_scenario(bad)


def test_missing_weather_and_meter_files_are_named(tmp_path):
    import tomli_w

    data = copy.deepcopy(BASE)
    data["weather"] = {"source": "nowhere.epw"}
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(sim.InputError, match=r"s.toml: weather.source: weather file not found"):
        sim.load_scenario(path)
    data = copy.deepcopy(BASE)
    data["consumers"][0] = {"id": "homes", "sector": "household", "meter_file": "m.csv"}
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(sim.InputError, match=r"consumers\[0\].meter_file: meter file not found"):
        sim.load_scenario(path)


def test_several_problems_are_listed_one_line_each():
    """Every problem at once (up to 20), one line each naming file and field."""
    data = copy.deepcopy(BASE)
    data["generators"][0]["capacity_kw"] = -1
    data["generators"][0]["tilt"] = 120
    data["consumers"][0]["archetype"] = "hosptial"
    with pytest.raises(sim.InputError) as info:
        scenario_from_dict(data, source="bad.toml")
    lines = str(info.value).splitlines()
    assert len(lines) == 3 == len(info.value.problems), lines
    assert all(line.startswith("bad.toml: ") for line in lines)
    fields = [line.split(": ")[1] for line in lines]
    assert fields == ["consumers[0].archetype", "generators[0].capacity_kw",
                      "generators[0].tilt"]
    assert "did you mean 'hospital'" in lines[0]


def test_problems_beyond_twenty_are_counted():
    data = copy.deepcopy(BASE)
    data["consumers"] = [{"id": f"c{i}", "sector": "farm", "annual_kwh": 1}
                         for i in range(25)]
    with pytest.raises(sim.InputError) as info:
        scenario_from_dict(data, source="bad.toml")
    lines = str(info.value).splitlines()
    assert len(lines) == 21 and lines[-1] == "bad.toml: ... and 5 more problems (fix these first)"
    assert len(info.value.problems) == 25


def test_a_claim_given_as_a_scenario_says_use_verify():
    claim = ROOT / "examples" / "island_claim" / "claim.toml"
    with pytest.raises(sim.InputError) as info:
        sim.load_scenario(claim)
    assert "gxsim verify" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("grid, name, hinted", [
    ({"must_run_kw": 100}, "Demo", True), ({}, "Demo island", True),
    ({}, "八重山離島", True), ({"isolated": True, "must_run_kw": 100}, "Demo island", False),
    ({}, "Demo town", False)])
def test_an_island_without_isolated_is_hinted(grid, name, hinted):
    from sim.inputs.scenario import scenario_hints

    data = copy.deepcopy(BASE)
    data["grid"] = grid
    data["region"]["name"] = name
    hints = scenario_hints(scenario_from_dict(data))
    assert bool(hints) == hinted
    assert all("isolated = true" in h and "問46" in h for h in hints)

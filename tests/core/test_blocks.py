"""simulate_blocks: the kernel's phases on blocks of consumers on Dask give the
in-memory simulate's results (to 1e-12 relative), and write hourly flows only
for the consumers asked for."""

import numpy as np
import pytest
import xarray as xr

import sim
from sim.core.blocks import FLOWS, simulate_blocks
from sim.errors import InputError
from sim.inputs.scenario import scenario_from_dict

ORIENTATIONS = ((20.0, 180.0), (10.0, 160.0), (30.0, 90.0))


def region(n, seed=1):
    """``n`` consumers: PV on every second, a battery on every third, an
    off-site farm and wind, a community battery and a must-run floor."""
    rng = np.random.default_rng(seed)
    consumers, generators, storage = [], [], []
    for i in range(n):
        kwh = float(rng.uniform(2_000, 9_000))
        consumers.append({"id": f"c{i}", "sector": "household" if i % 5 else "commercial",
                          "annual_kwh": kwh, "savings": 0.05 if i % 4 == 0 else 0.0})
        if i % 2 == 0:
            tilt, az = ORIENTATIONS[i % 3]
            generators.append({"id": f"pv{i}", "kind": "pv", "site": f"c{i}", "tilt": tilt,
                               "azimuth": az, "capacity_kw": round(kwh / 1_000, 2)})
        if i % 3 == 0:
            storage.append({"id": f"b{i}", "site": f"c{i}", "capacity_kwh": 5.0,
                            "power_kw": 2.5})
    generators += [{"id": "farm", "kind": "pv", "capacity_kw": 40.0 * n / 100, "tilt": 15},
                   {"id": "wind", "kind": "wind", "capacity_kw": 800.0,
                    "turbine_type": "E-53/800", "hub_height_m": 60}]
    storage.append({"id": "cb", "site": "community", "capacity_kwh": 3.0 * n,
                    "power_kw": 1.0 * n})
    return scenario_from_dict({
        "region": {"name": "blocks", "municipality": "A町", "prefecture": "P県",
                   "latitude": 27.4, "longitude": 128.6, "year": 2023},
        "grid": {"must_run_kw": 0.05 * n},
        "consumers": consumers, "generators": generators, "storage": storage})


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as cl:
        yield cl


@pytest.fixture(scope="module")
def pair(client, tmp_path_factory):
    sc = region(300)
    store = tmp_path_factory.mktemp("blocks") / "hourly.zarr"
    blocks = simulate_blocks(sc, client=client, block_size=100,
                             hourly_consumers=["c3", "c150", "c299"], store=store)
    return sc, sim.simulate(sc), blocks


def test_annual_totals_equal_the_in_memory_run(pair):
    _, mem, blk = pair
    assert list(blk.annual.index) == list(mem.annual.index)
    for name in mem.annual.columns:
        a, b = blk.annual[name].to_numpy(), mem.annual[name].to_numpy()
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert blk.annual["pooled"].sum() > 0 and blk.annual["community"].sum() > 0


def test_region_hourly_series_equal_the_in_memory_run(pair):
    _, mem, blk = pair
    ds = mem.hourly
    for name in FLOWS:
        np.testing.assert_allclose(blk.hourly[name].values,
                                   ds[name].values.sum(axis=0, dtype=float), rtol=1e-12,
                                   atol=1e-9, err_msg=name)
    for name in ("offsite", "must_run", "pool", "spill", "community_charge",
                 "community_discharge", "community_soc"):
        np.testing.assert_allclose(blk.hourly[name].values, ds[name].values, rtol=1e-12,
                                   atol=1e-9, err_msg=name)
    for key, value in mem.kpis.items():
        assert blk.kpis[key] == pytest.approx(value, rel=1e-12, abs=1e-9), key


def test_hourly_flows_written_only_for_the_consumers_asked_for(pair):
    _, mem, blk = pair
    got = blk.consumer_hourly()
    assert list(got["consumer"].values) == ["c3", "c150", "c299"]
    want = mem.hourly.sel(consumer=["c3", "c150", "c299"])
    for name in ("demand", "onsite", "direct", "charge", "soc", "pooled", "grid"):
        xr.testing.assert_allclose(got[name].load().drop_vars(list(got[name].coords)),
                                   want[name].drop_vars(list(want[name].coords)),
                                   rtol=1e-12, atol=1e-9)


def test_existing_store_and_unknown_consumer_are_refused(client, tmp_path):
    sc = region(10)
    with pytest.raises(InputError, match="exists"):
        simulate_blocks(sc, client=client, hourly_consumers=["c1"], store=tmp_path)
    with pytest.raises(InputError, match="'nobody'"):
        simulate_blocks(sc, client=client, hourly_consumers=["nobody"],
                        store=tmp_path / "new.zarr")


def test_blocks_are_not_refused_by_the_in_memory_check(client, monkeypatch):
    """The million-consumer path: (R, T) arrays are never held, so the memory
    check of the in-memory path (which refuses this region) must not stop it."""
    sc = region(200)
    monkeypatch.setenv("GXSIM_MEMORY_MB", "5")
    with pytest.raises(InputError, match="would need about"):
        sim.simulate(sc)
    res = simulate_blocks(sc, client=client, block_size=100)
    assert len(res.annual) == 200 and res.annual["demand"].sum() > 0
